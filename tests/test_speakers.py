"""Speaker attribution: tracks, stereo, one mix; names; DER scorer. Speech is synthesized by
chaitime.sample (two eSpeak voices) and word times come from where each line landed, so these
tests need no Whisper; tests/test_speakers_asr.py runs the real thing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chaitime import sample
from chaitime.errors import InputError
from chaitime.speakers import attribute, channels_independent, embed, mix_tracks
from chaitime.speakers.assign import relabel
from chaitime.speakers.audio import decode
from chaitime.speakers.der import Turn, diarization_error, read_rttm
from chaitime.speakers.names import name_speakers
from chaitime.speakers.tracks import parse_track_option
from chaitime.transcript.formats import write_podcast_json, write_srt, write_vtt
from chaitime.transcript.model import Segment, Transcript, Word

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
RATE = sample.ESPEAK_RATE_HZ
HOST, GUEST = sample.HOST, sample.GUEST


# --- helpers ---------------------------------------------------------------------------------
def words_of(line: sample.SpokenLine) -> list[Word]:
    """The line's words spread over its span by length (what an aligner would roughly give)."""
    texts = line.text.split()
    weights = np.array([len(t) + 1 for t in texts], dtype=float)
    edges = line.start_s + (line.end_s - line.start_s) * np.concatenate([[0], np.cumsum(weights) / weights.sum()])
    return [Word(float(a), float(b) - 0.02, " " + t) for t, a, b in zip(texts, edges[:-1], edges[1:])]


def transcript_of(lines: list[sample.SpokenLine], lines_per_segment: int = 2) -> Transcript:
    """Segments that each hold two lines, so a speaker change falls inside most segments."""
    segments = []
    for i in range(0, len(lines), lines_per_segment):
        group = lines[i : i + lines_per_segment]
        words = tuple(w for line in group for w in words_of(line))
        segments.append(Segment(group[0].start_s, group[-1].end_s, "".join(w.text for w in words).strip(), words))
    return Transcript(tuple(segments), "en", lines[-1].end_s + 1)


def truth(transcript: Transcript, lines: list[sample.SpokenLine]) -> list[str]:
    out = []
    for w in transcript.words:
        middle = (w.start_s + w.end_s) / 2
        out.append(min(lines, key=lambda ln: 0 if ln.start_s <= middle <= ln.end_s else abs(ln.start_s - middle)).speaker)
    return out


@pytest.fixture(scope="module")
def interview(tmp_path_factory):
    """The default two-voice script as tracks, stereo, dual-mono mix and mono mix files."""
    folder = tmp_path_factory.mktemp("interview")
    tracks, lines = sample.synthesize_tracks(sample.DEFAULT_SCRIPT)
    paths = {}
    for name, samples in tracks.items():
        paths[name] = folder / f"{name.split()[0].lower()}.wav"
        sample.write_wav(paths[name], samples, RATE)
    mix = (tracks[HOST].astype(np.int32) + tracks[GUEST]).astype(np.int16)
    files = {"mono": folder / "mix.wav", "dual": folder / "dual.wav", "stereo": folder / "stereo.wav"}
    sample.write_wav(files["mono"], mix, RATE)
    sample.write_wav(files["dual"], mix, RATE, channels=2)
    sample.write_wav(files["stereo"], np.stack([tracks[HOST], tracks[GUEST]], axis=1), RATE, channels=2)
    return {"tracks": paths, "lines": lines, "transcript": transcript_of(lines), **files}


# --- separate tracks -------------------------------------------------------------------------
def test_tracks_attribute_every_word_exactly_and_split_segments(interview):
    labeled = attribute(interview["transcript"], mix_path=interview["mono"], tracks=interview["tracks"])
    assert [w.speaker for w in labeled.words] == truth(interview["transcript"], interview["lines"])
    assert len(labeled.words) == len(interview["transcript"].words)
    assert len(labeled.segments) == len(interview["lines"])  # every two-line segment split in two
    for seg in labeled.segments:
        assert {w.speaker for w in seg.words} == {seg.speaker}
        assert seg.text == "".join(w.text for w in seg.words).strip()
    assert labeled.segments[0].text.startswith("Welcome to the show.")
    assert labeled.meta["speakers"]["method"] == "tracks"


def test_mix_tracks_sums_tracks_without_normalizing(interview, tmp_path):
    out = mix_tracks(interview["tracks"], tmp_path / "master.flac")
    mixed = decode(out)[:, 0].astype(np.float64)
    expected = decode(interview["mono"])[:, 0].astype(np.float64)
    n = min(len(mixed), len(expected))
    assert abs(len(mixed) - len(expected)) < 160
    # normalize=0: the mix is the plain sum, not each input divided by the input count
    assert np.sqrt(np.mean(mixed[:n] ** 2)) == pytest.approx(np.sqrt(np.mean(expected[:n] ** 2)), rel=0.02)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_track_option_and_missing_track(tmp_path):
    assert parse_track_option("Maya Patel=host.m4a") == ("Maya Patel", Path("host.m4a"))
    with pytest.raises(InputError, match="NAME=file"):
        parse_track_option("host.m4a")
    with pytest.raises(InputError, match="not found"):
        mix_tracks({"Maya": tmp_path / "nope.m4a"}, tmp_path / "out.flac")


# --- stereo ----------------------------------------------------------------------------------
def test_stereo_one_voice_per_channel_is_detected(interview):
    assert channels_independent(interview["stereo"]) is True
    assert channels_independent(interview["dual"]) is False
    assert channels_independent(interview["mono"]) is False


def test_stereo_attribution_is_exact(interview):
    labeled = attribute(interview["transcript"], mix_path=interview["stereo"])
    expected = ["S1" if s == HOST else "S2" for s in truth(interview["transcript"], interview["lines"])]
    assert [w.speaker for w in labeled.words] == expected
    assert labeled.meta["speakers"]["method"] == "stereo"


# --- one mixed recording ---------------------------------------------------------------------
def test_mixed_recording_two_voices_clustered(interview):
    labeled = attribute(interview["transcript"], mix_path=interview["mono"])
    named, mapping = name_speakers(labeled, hosts=[HOST], guests=[GUEST], mapping={})
    assert mapping == {"S1": HOST, "S2": GUEST}
    wanted = truth(interview["transcript"], interview["lines"])
    right = sum(w.speaker == t for w, t in zip(named.words, wanted))
    assert right / len(wanted) >= 0.95


def test_single_speaker_gets_one_label(tmp_path):
    lines = [sample.Line(HOST, line.text) for line in sample.DEFAULT_SCRIPT[:8]]
    samples, spoken = sample.synthesize(lines)
    sample.write_wav(tmp_path / "solo.wav", samples, RATE)
    labeled = attribute(transcript_of(spoken), mix_path=tmp_path / "solo.wav")
    assert labeled.speakers() == ["S1"]
    assert {w.speaker for w in labeled.words} == {"S1"}


def test_overlapping_speech_keeps_every_word(tmp_path):
    """The guest starts answering before the host has finished: both kinds of input survive."""
    host_lines = [sample.Line(HOST, "So tell me, what did you build last year with your team?")]
    guest_lines = [sample.Line(GUEST, "We built a small search engine for local news sites.")]
    host, host_spoken = sample.synthesize(host_lines)
    guest, guest_spoken = sample.synthesize(guest_lines)
    offset = int(len(host) * 0.6)  # the last 40% of the question is talked over
    length = max(len(host), offset + len(guest))
    tracks = {HOST: np.zeros(length, np.int16), GUEST: np.zeros(length, np.int16)}
    tracks[HOST][: len(host)] = host
    tracks[GUEST][offset : offset + len(guest)] = guest
    paths = {name: tmp_path / f"{name.split()[0]}.wav" for name in tracks}
    for name, path in paths.items():
        sample.write_wav(path, tracks[name], RATE)
    mix = mix_tracks(paths, tmp_path / "mix.wav")
    shift = offset / RATE
    lines = host_spoken + [sample.SpokenLine(GUEST, s.text, s.start_s + shift, s.end_s + shift) for s in guest_spoken]
    transcript = transcript_of(sorted(lines, key=lambda ln: ln.start_s), lines_per_segment=2)
    for kwargs in ({"tracks": paths}, {}, {"num_speakers": 2}):
        labeled = attribute(transcript, mix_path=mix, **kwargs)
        assert [w.text for w in labeled.words] == [w.text for w in transcript.words]
        assert all(w.speaker for w in labeled.words) and all(s.speaker for s in labeled.segments)
    by_track = attribute(transcript, mix_path=mix, tracks=paths)
    assert by_track.words[0].speaker == HOST and by_track.words[-1].speaker == GUEST


def test_empty_transcript_is_returned_unchanged(interview):
    empty = Transcript((), "en", 0.0)
    assert attribute(empty, mix_path=interview["mono"]) == empty


# --- names -----------------------------------------------------------------------------------
def labeled_sample() -> Transcript:
    def seg(start, text, speaker):
        words = tuple(Word(start + i * 0.3, start + i * 0.3 + 0.25, " " + t, 1.0, speaker) for i, t in enumerate(text.split()))
        return Segment(start, start + len(words) * 0.3, text, words, speaker)

    return Transcript(
        (
            seg(0.0, "Thanks for having me.", "S1"),
            seg(2.0, "Welcome! How did you start? And why?", "S2"),
            seg(5.0, "By accident.", "S1"),
            seg(7.0, "What came next?", "S2"),
        )
    )


def test_host_is_who_asks_the_questions():
    named, mapping = name_speakers(labeled_sample(), hosts=["Maya"], guests=["Sam"], mapping={})
    assert mapping == {"S1": "Sam", "S2": "Maya"}
    assert [s.speaker for s in named.segments] == ["Sam", "Maya", "Sam", "Maya"]
    assert {w.speaker for w in named.segments[1].words} == {"Maya"}


def test_episode_mapping_wins_and_everything_follows():
    named, mapping = name_speakers(labeled_sample(), hosts=["Maya"], guests=["Sam"], mapping={"S1": "Maya", "S2": "Sam"})
    assert mapping == {"S1": "Maya", "S2": "Sam"}
    assert "<v Maya>Thanks for having me." in write_vtt(named)
    assert "Sam: Welcome!" in write_srt(named)
    assert '"speaker": "Maya"' in write_podcast_json(named)


def test_enrolled_host_label_and_unnamed_extra_speaker():
    transcript = labeled_sample()
    enrolled = Transcript(transcript.segments, meta={"speakers": {"host_label": "S1"}})
    assert name_speakers(enrolled, hosts=["Maya"], guests=["Sam"], mapping={})[1] == {"S1": "Maya", "S2": "Sam"}
    three = relabel(transcript, {}).with_segments(transcript.segments + (Segment(9, 10, "Hi!", (), "S3"),))
    assert name_speakers(three, hosts=["Maya"], guests=["Sam"], mapping={})[1] == {"S1": "Sam", "S2": "Maya", "S3": "S3"}


def test_track_names_stay_names():
    transcript = relabel(labeled_sample(), {"S1": "Sam", "S2": "Maya"})
    assert name_speakers(transcript, hosts=["Maya"], guests=["Sam"], mapping={})[1] == {"Sam": "Sam", "Maya": "Maya"}


# --- DER -------------------------------------------------------------------------------------
def test_der_scorer():
    ref = [Turn(0, 10, "a"), Turn(10, 20, "b")]
    assert diarization_error(ref, [Turn(0, 10, "x"), Turn(10, 20, "y")]).der == 0
    assert diarization_error(ref, [Turn(0, 10, "y"), Turn(10, 20, "x")]).der == 0  # label names don't matter
    assert diarization_error(ref, []).der == pytest.approx(1.0)
    half = diarization_error(ref, [Turn(0, 20, "x")])  # one label for all: b is confused
    assert half.der == pytest.approx(0.5, abs=0.03) and half.confusion_s == pytest.approx(9.5, abs=0.02)  # collars at 10 and 20 s
    assert diarization_error(ref, [Turn(0, 10.2, "x"), Turn(10.2, 20, "y")]).der == 0  # inside the collar


@pytest.mark.skipif(not (MEDIA / "two-speakers.rttm").is_file(), reason="../shared/media not present")
def test_telephone_sample_der_under_target():
    from chaitime.speakers.diarize import diarize

    result = diarize(decode(MEDIA / "two-speakers.wav")[:, 0])
    score = diarization_error(read_rttm(MEDIA / "two-speakers.rttm"), result.turns())
    assert result.num_speakers == 2
    assert score.der <= 0.20


def test_host_voice_enrollment_finds_the_host_who_speaks_second(tmp_path):
    voices = {HOST: "en-us+f2", GUEST: "en-us"}
    script = [sample.Line(GUEST, "Hi, I am glad to be on the show today."), *sample.DEFAULT_SCRIPT[2:8]]
    samples, spoken = sample.synthesize(script, voices=voices)
    sample.write_wav(tmp_path / "mix.wav", samples, RATE)
    clip, _ = sample.synthesize([sample.Line(HOST, "This is my voice, recorded once for the show settings.")], voices=voices)
    sample.write_wav(tmp_path / "host.wav", clip, RATE)
    labeled = attribute(transcript_of(spoken), mix_path=tmp_path / "mix.wav", host_voice=tmp_path / "host.wav")
    assert labeled.meta["speakers"]["host_label"] == "S2"
    assert name_speakers(labeled, hosts=[HOST], guests=[GUEST], mapping={})[1] == {"S1": GUEST, "S2": HOST}


def test_numpy_embedder_runs_without_torch(interview):
    from chaitime.speakers.diarize import diarize

    result = diarize(decode(interview["mono"])[:, 0], method="mfcc", num_speakers=2)
    assert result.num_speakers == 2 and {t.speaker for t in result.turns()} == {"S1", "S2"}


# --- d-vector encoder in numpy ---------------------------------------------------------------
def _windows_for_encoder_checks() -> list[np.ndarray]:
    """Random and speech windows of two lengths (in batches of 2, longest first, the last batch
    mixes them): real speech from ../shared/media when present, else the synthesized voices."""
    from chaitime import sample

    rng = np.random.default_rng(7)
    if (MEDIA / "two-speakers.wav").is_file():
        speech = decode(MEDIA / "two-speakers.wav")[:, 0].astype(np.float32) / 32768
    else:
        voices, _ = sample.synthesize([sample.Line(s, "Thanks for having me, it is great to be here today.") for s in ("A", "B")],
                                      sample_rate_hz=16000)
        speech = voices.astype(np.float32) / 32768
    real = [speech[s : s + 24000] for s in (16000, 40000, 64000)]
    return [*(0.1 * rng.standard_normal(n).astype(np.float32) for n in (24000, 24000, 6400)), *real]


def _resemblyzer_checkpoint() -> Path | None:
    """resemblyzer's pretrained.pt where that wheel happens to be installed (it is not a dependency)."""
    import importlib.util

    spec = importlib.util.find_spec("resemblyzer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "pretrained.pt").is_file():
            return Path(folder) / "pretrained.pt"
    return None


def test_shipped_weights_are_the_checkpoints_model_weights():
    """ge2e.npz holds exactly the lstm/linear tensors of resemblyzer's checkpoint, read without torch."""
    from chaitime.speakers.checkpoint import read_model_weights

    source = _resemblyzer_checkpoint()
    if source is None:
        pytest.skip("resemblyzer not installed: nothing to compare the shipped weights with")
    with source.open("rb") as f:
        original = read_model_weights(f)
    shipped = embed._weights()
    assert shipped.keys() == original.keys() and len(shipped) == 14
    for name, array in shipped.items():
        assert array.dtype == np.float32 and np.array_equal(array, original[name]), name


def test_dvector_numpy_matches_torch():
    torch = pytest.importorskip("torch")
    weights = embed._weights()
    source = _resemblyzer_checkpoint()
    if source is not None:
        checkpoint = torch.load(source, map_location="cpu", weights_only=False)["model_state"]
        assert weights.keys() == {k for k in checkpoint if k.startswith(("lstm.", "linear."))}
        for name, array in weights.items():
            assert np.array_equal(array, checkpoint[name].numpy()), name
    lstm, linear = torch.nn.LSTM(embed.N_MELS, 256, 3, batch_first=True), torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in weights.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: torch.from_numpy(v) for k, v in weights.items() if k.startswith("linear.")})
    windows = _windows_for_encoder_checks()
    with torch.inference_mode():
        reference = []
        for w in windows:
            _, (hidden, _) = lstm(torch.from_numpy(embed.mel_power(w))[None])
            raw = torch.relu(linear(hidden[-1]))
            reference.append((raw / torch.linalg.norm(raw, dim=1, keepdim=True)).numpy()[0])
    ours = embed.embed_dvector(windows, batch=2)
    assert np.abs(ours - np.array(reference)).max() < 1e-4


def test_dvector_loads_and_embeds_without_torch():
    code = """
import sys
sys.modules["torch"] = None  # import torch now raises ImportError
import numpy as np
from chaitime.speakers import embed
shapes = {k: v.shape for k, v in embed._weights().items()}
assert shapes["linear.weight"] == (256, 256) and shapes["linear.bias"] == (256,), shapes
for n, width in enumerate((40, 256, 256)):
    assert shapes[f"lstm.weight_ih_l{n}"] == (1024, width) and shapes[f"lstm.weight_hh_l{n}"] == (1024, 256)
    assert shapes[f"lstm.bias_ih_l{n}"] == shapes[f"lstm.bias_hh_l{n}"] == (1024,)
assert embed.available()[0] == "dvector"
t = np.arange(8000) / 16000
vector = embed.embed([(0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)], "dvector")
assert vector.shape == (1, 256) and abs(np.linalg.norm(vector) - 1) < 1e-5
assert "torch" not in {m.split(".")[0] for m, mod in sys.modules.items() if mod is not None}
"""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_checkpoint_loader_refuses_other_classes():
    import io
    import os
    import pickle

    from chaitime.speakers.checkpoint import CheckpointUnpickler

    with pytest.raises(pickle.UnpicklingError):
        CheckpointUnpickler(io.BytesIO(pickle.dumps(os.getcwd)), {}).load()


def test_people_named_are_a_hint_never_a_cap():
    """Three groups of vectors taking turns are three voices, whoever was named; a count given wins."""
    from chaitime.speakers import cluster

    rng = np.random.default_rng(3)
    centers = np.eye(3, 16)
    turns = [0, 1, 2, 1, 0, 2] * 3  # five windows per turn
    x = np.concatenate([centers[c] + rng.normal(0, 0.05, (5, 16)) for c in turns])
    assert len(set(cluster.cluster(x))) == 3
    assert len(set(cluster.cluster(x, expected=2))) == 3
    assert len(set(cluster.cluster(x, num_speakers=2))) == 2
    one = rng.normal(0, 0.05, (60, 16)) + centers[0]  # one voice: not split, even with two people named
    assert len(set(cluster.cluster(one))) == 1 and len(set(cluster.cluster(one, expected=2))) == 1


# --- short flips settled by the voice of their own audio -------------------------------------
def _words(spec: str, length_s: float = 0.3) -> list[Word]:
    """'AAABAA' -> one word per letter, back to back, labelled by the letter."""
    return [Word(i * length_s, (i + 1) * length_s - 0.02, f" w{i}", speaker=c) for i, c in enumerate(spec)]


def _scorer(voice_of: dict[tuple[float, float], dict[str, float]], asked: list):
    def rescore(spans):
        asked.extend(spans)
        return [voice_of.get((round(a, 2), round(b, 2)), {}) for a, b in spans]

    return rescore


def test_short_flip_joins_its_neighbours_unless_its_own_voice_is_clearly_another():
    from chaitime.speakers.assign import KEEP_MARGIN, smooth_flips

    words = _words("AAAAAAAABBAAAAAAAA")  # a 0.6 s run of B between two 2.4 s runs of A
    span = (2.4, 2.98)
    asked = []
    unclear = smooth_flips(words, _scorer({span: {"A": 0.30, "B": 0.30 + KEEP_MARGIN / 2}}, asked))
    assert "".join(w.speaker for w in unclear) == "A" * 18
    assert [(round(a, 2), round(b, 2)) for a, b in asked] == [span]  # only the short run is scored, on its own audio
    clear = smooth_flips(words, _scorer({span: {"A": 0.10, "B": 0.10 + KEEP_MARGIN + 0.05}}, []))
    assert "".join(w.speaker for w in clear) == "AAAAAAAABBAAAAAAAA"  # a real "yes, right" stays a turn
    assert [w.text for w in clear] == [w.text for w in words]  # no word lost or moved


def test_flip_between_two_others_goes_to_the_voice_it_sounds_like_and_long_runs_are_measured():
    from chaitime.speakers.assign import smooth_flips

    words = _words("AAAAAAAB" + "C" * 8)  # A 2.4 s, B one word, C 2.4 s: only B is short
    asked = []
    out = smooth_flips(words, _scorer({(2.1, 2.38): {"A": 0.1, "B": 0.2, "C": 0.5}}, asked))
    assert "".join(w.speaker for w in out) == "A" * 7 + "C" * 9
    assert len(asked) == 1


def test_without_voices_only_a_lone_very_short_word_joins_its_neighbours():
    from chaitime.speakers.assign import smooth_flips

    short = _words("AABAA", 0.25)
    assert "".join(w.speaker for w in smooth_flips(short)) == "AAAAA"
    longer = _words("AABAA", 0.5)  # a 0.48 s word: left as measured
    assert "".join(w.speaker for w in smooth_flips(longer)) == "AABAA"
    assert "".join(w.speaker for w in smooth_flips(_words("AABBAA", 0.25))) == "AABBAA"


def test_flips_are_settled_across_segment_boundaries():
    from chaitime.speakers.assign import label_transcript

    words = _words("AAAABAAAA")
    segments = (Segment(0.0, 1.48, "", tuple(words[:5])), Segment(1.5, 2.68, "", tuple(words[5:])))
    transcript = Transcript(segments, "en", 3.0)
    by_word = {(w.start_s, w.end_s): {"A": "S1", "B": "S2"}[w.speaker] for w in words}
    labeled = label_transcript(transcript, lambda a, b: by_word[(a, b)], smooth=True,
                               rescore=lambda spans: [{"S1": 0.5, "S2": 0.4} for _ in spans])
    assert {w.speaker for w in labeled.words} == {"S1"}
    assert len(labeled.segments) == 2 and [len(s.words) for s in labeled.segments] == [5, 4]


def test_short_runs_are_settled_shortest_first():
    from chaitime.speakers.assign import smooth_flips

    words = _words("AAAAABBAAAAA")  # every run is short: B (0.6 s) is judged first and joins A,
    voices = {"A": 0.5, "B": 0.45}  # after which A's runs are one 3.6 s run, left alone
    out = smooth_flips(words, lambda spans: [voices for _ in spans])
    assert "".join(w.speaker for w in out) == "A" * 12
