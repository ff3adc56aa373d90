"""Suggested cuts on real voices, transcribed by Whisper tiny.en: checked against the audio.

Speech is measured independently on the original audio (scripts/trust_cuts.py: Silero at its
default threshold and a 5 ms energy detector that is not chaitime's), and the cuts are the ones
render applies (edit.markdown.parse_edit_md on the unchanged file).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))

import trust_cuts as tc  # noqa: E402

from chaitime.edit.audiocheck import listen, quiet_edges_s  # noqa: E402
from chaitime.edit.markdown import parse_edit_md, write_edit_md  # noqa: E402
from chaitime.media.render import crossfade_s  # noqa: E402

pytestmark = pytest.mark.slow  # renders media or runs an ingest (the unit tier leaves it out)


@pytest.fixture(scope="module")
def conversation(shared_media, tmp_path_factory):
    """male-female, as ingest sees it (16 kHz mono), with tiny.en's transcript and the true turns."""
    import realvoices

    folder = tmp_path_factory.mktemp("mf")
    conv = realvoices.assemble(shared_media, "male-female", "plain")
    audio, path = tc.decoded(conv.write_wav(folder / "mf.wav"), folder)
    return conv, audio, tc.transcribe(path)


def speech_removed_s(text, transcript, audio) -> float:
    cuts = parse_edit_md(text, transcript)
    end = len(audio) / tc.RATE
    speech = tc.silero_default(audio) + tc.energy_speech(audio)
    return tc.overlap_s([(a, min(b, end)) for a, b in cuts.cuts], speech)


def test_suggested_cuts_remove_no_heard_speech(conversation):
    _, audio, transcript = conversation
    text = write_edit_md(transcript, hearing=listen(audio))
    assert "~~[00:00:00.000] [dead air" in text  # something is still suggested
    assert speech_removed_s(text, transcript, audio) == 0.0


def test_a_turn_the_transcript_lacks_is_flagged_and_kept(conversation):
    conv, audio, transcript = conversation
    turn = max(conv.turns, key=lambda t: t.end_s - t.start_s)
    dropped = tc.drop_words(transcript, turn.start_s, turn.end_s)
    # From word times alone, the missing answer is a pause and the unchanged file cuts it (the issue).
    blind = parse_edit_md(write_edit_md(dropped), dropped)
    assert tc.overlap_s(blind.cuts, [(turn.start_s, turn.end_s)]) > 5.0
    text = write_edit_md(dropped, hearing=listen(audio))
    flags = [ln for ln in text.splitlines() if "] [untranscribed " in ln]
    assert flags and not any(ln.startswith("~~") for ln in flags)
    start = tc._seconds(flags[0][1:13])
    length = float(flags[0].split("[untranscribed ")[1].split()[0])
    assert abs(start - turn.start_s) < 0.6 and start + length >= turn.end_s - 0.6, (flags, turn)
    cuts = parse_edit_md(text, dropped)
    assert tc.overlap_s(cuts.cuts, [(turn.start_s, turn.end_s)]) == 0.0
    assert speech_removed_s(text, dropped, audio) == 0.0
    # The host can still cut it: strike the line.
    struck = parse_edit_md(text.replace(flags[0], f"~~{flags[0]}~~"), dropped)
    assert tc.overlap_s(struck.cuts, [(turn.start_s, turn.end_s)]) >= 0.9 * (turn.end_s - turn.start_s)


def filler_margins(audio, transcript) -> tuple[list[float], list[tuple[float, float]]]:
    text = write_edit_md(transcript, hearing=listen(audio))
    cuts = parse_edit_md(text, transcript)
    removed = [w for i, w in enumerate(transcript.words) if i in cuts.removed_words]
    filler_cuts = [c for c in cuts.cuts if any(c[0] - 0.2 <= w.start_s and w.end_s <= c[1] + 0.2 for w in removed)]
    return [tc.onset_after(audio, b) - b for _, b in filler_cuts], filler_cuts


def test_a_real_voice_filler_is_cut_whole_and_the_next_word_kept(conversation):
    """A 0.3 s syllable of a real voice spliced 0.12 s before a real utterance's first word;
    Whisper's "um" timed late over it (as the issue measured); the transcript is tiny.en's of the
    conversation, shifted by the splice."""
    conv, audio, transcript = conversation
    turn = conv.turns[3]
    at = int((tc.onset_after(audio, turn.start_s) - 0.12) * tc.RATE)
    loud = int(np.argmax(np.convolve(tc.frames_db(audio[int(turn.start_s * tc.RATE):int(turn.end_s * tc.RATE)]), np.ones(60), mode="valid")))
    source = int(turn.start_s * tc.RATE) + loud * 80
    syllable = audio[source:source + int(0.3 * tc.RATE)] * np.hanning(int(0.3 * tc.RATE)).astype(np.float32) ** 0.2
    spliced = np.concatenate([audio[:at], syllable, audio[at:]]).astype(np.float32)
    shift = 0.3
    moved = transcript.with_segments([
        replace(s, start_s=s.start_s + (shift if s.start_s >= at / tc.RATE else 0), end_s=s.end_s + (shift if s.end_s >= at / tc.RATE else 0),
                words=tuple(replace(w, start_s=w.start_s + shift, end_s=w.end_s + shift) if w.start_s >= at / tc.RATE else w for w in s.words))
        for s in transcript.segments])
    moved = replace(moved, duration_s=len(spliced) / tc.RATE)
    extent = (at / tc.RATE, at / tc.RATE + 0.3)
    with_um = tc.with_filler(moved, extent)
    margins, cuts = filler_margins(spliced, with_um)
    assert len(cuts) == 1
    assert margins[0] >= 0.03
    a, b = cuts[0]
    assert a <= extent[0] + 0.03 and b >= extent[1] - 0.03  # the filler's sound is inside the cut
    # Whisper's own times would have cut into the next word
    blind = parse_edit_md(write_edit_md(with_um), with_um)
    blind_end = next(b for a, b in blind.cuts if a < extent[1] < b)
    assert tc.onset_after(spliced, extent[1] + 0.01) < blind_end


def test_synthesized_fillers_leave_the_next_word(tmp_path):
    """The sample's two eSpeak "Um,"s, as tiny.en writes them (or, where it writes none, as
    Whisper times fillers: late, over the sound): cut whole, the next word kept."""
    case = tc.sample_case(tmp_path)
    margins, cuts = filler_margins(case.audio, case.transcript)
    assert cuts
    assert min(margins) >= 0.03, margins
    if case.filler:
        a, b = case.filler
        assert any(c[0] <= a + 0.03 and b - 0.03 <= c[1] for c in cuts), (case.filler, cuts)


def test_crossfade_ends_before_the_first_word_and_starts_after_the_last(conversation, tmp_path):
    conv, audio, _ = conversation
    path = tc.speech_wav(audio, tmp_path / "body.wav")
    lead, trail = quiet_edges_s(path)
    first = tc.onset_after(audio, 0.0)
    last_end = len(audio) / tc.RATE - tc.onset_after(audio[::-1].copy(), 0.0)
    assert lead <= first and trail <= len(audio) / tc.RATE - last_end
    body_s = len(audio) / tc.RATE
    assert crossfade_s(0.5, 2.0, body_s, lead) <= first - 0.03
    assert crossfade_s(0.5, 1.5, body_s, trail) <= body_s - last_end - 0.03
    assert crossfade_s(0.5, 2.0, body_s, 3.0) == 0.5  # with room to spare, the full crossfade
