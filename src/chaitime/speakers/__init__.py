"""Who said what: speaker labels on every word and segment of a transcript.

Three kinds of input, chosen automatically:
- separate tracks, one per person: a word belongs to the track loudest under it;
- stereo with one person per channel (detected): the same, per channel;
- one mixed recording: voice embeddings over the speech, clustered (count estimated or given);
  a short run of words whose label flips is then re-judged by the voice of its own audio against
  the speakers' centroids (assign.smooth_flips): it joins its neighbours unless it clearly is the
  other voice, so real short replies stay turns. Before that, each change that falls between two
  touching words of one sentence moves to a sentence end or pause the voice allows, or the
  fragment joins who holds the sentence (turns.settle_turns); back-channels stay turns.
Labels are "S1", "S2"... (in order of first speech) or the track names; names.py turns them
into people's names.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..transcript.model import Transcript
from .assign import label_transcript, speaking_time
from .audio import FRAME_S, decode
from .diarize import Diarization, diarize
from .stereo import attribute_stereo, channels_independent
from .tracks import attribute_tracks, mix_tracks

__all__ = ["attribute", "channels_independent", "mix_tracks"]

log = logging.getLogger("chaitime")
WORD_GAP_S = 0.3  # words closer than this form one stretch of speech


def attribute(
    transcript: Transcript,
    *,
    mix_path: Path,
    tracks: dict[str, Path] | None = None,
    num_speakers: int | None = None,
    host_voice: Path | None = None,
    speech: np.ndarray | None = None,
    expected_speakers: int | None = None,
    independent: bool | None = None,
    smooth: bool = True,
    turns: bool = True,
) -> Transcript:
    """``transcript`` with .speaker on every word and segment, segments split at speaker changes.

    ``transcript.meta["speakers"]`` records how: method, labels, seconds each, and the label
    whose voice matched ``host_voice`` (names.py makes that one the host). ``speech``: the mix
    as 16 kHz mono int16 samples when the caller has them (ingest does), saving a decode.
    ``expected_speakers``: how many people were named (hosts and guests), a hint for the count
    of voices in a mix, never a cap: the audio decides (cluster.py).
    ``independent``: ``channels_independent(mix_path)`` when the caller already checked it
    (ingest does, beside transcription). ``smooth``: settle short label flips in a mix by the
    voice of their own audio (assign.smooth_flips); off only to measure what it does. ``turns``:
    move speaker changes that fall inside a sentence to a sentence end or pause the voice allows
    (turns.settle_turns); off only to measure.
    """
    if not transcript.segments:
        return transcript
    if tracks:
        labeled, method = attribute_tracks(transcript, tracks), "tracks"
    elif num_speakers != 1 and (channels_independent(mix_path) if independent is None else independent):
        labeled, method = attribute_stereo(transcript, mix_path), "stereo"
    else:
        labeled, method = _attribute_mix(transcript, mix_path, num_speakers, speech, expected_speakers, smooth, turns)
    return _with_record(labeled, method, _host_label(labeled, mix_path, host_voice))


def _attribute_mix(transcript: Transcript, mix_path: Path, num_speakers: int | None, speech: np.ndarray | None,
                   expected: int | None, smooth: bool = True, turns: bool = True) -> tuple[Transcript, str]:
    if num_speakers == 1:
        return label_transcript(transcript, lambda a, b: "S1"), "single"
    _warn_if_weak()
    samples = speech if speech is not None else decode(Path(mix_path))[:, 0]
    spans = word_spans(transcript)
    result = diarize(samples, num_speakers=num_speakers, speech=spans or None, expected=expected)
    if spans and not num_speakers and result.num_speakers == 1:
        # Quick exchanges under a weak model give few word windows and labels that alternate
        # window by window, too little to believe a second voice (shared/media/two-speakers.wav:
        # 13 windows). The detector's speech regions hold more of each voice: ask them too.
        wider = diarize(samples, speech=None, expected=expected)
        if wider.num_speakers > 1:
            result = wider
    log.debug("diarization: %d speakers by %s", result.num_speakers, result.method)
    return (label_transcript(transcript, _majority(result), smooth=smooth, turns=turns, rescore=_rescorer(result)),
            f"mix/{result.method}")


_warned: list[bool] = []


def _warn_if_weak() -> None:
    """Once per process: voices told apart without the speaker encoder are often merged."""
    from . import embed

    if embed.available()[0] != "dvector" and not _warned:
        _warned.append(True)
        log.warning("speaker encoder weights missing (%s), so voices are told apart by a weak fallback: "
                    "expect merged speakers. Fix: %s", embed.WEIGHTS, embed.INSTALL_HINT)


def word_spans(transcript: Transcript) -> list[tuple[float, float]]:
    """Stretches of speech: the transcript's words, joined across gaps under WORD_GAP_S."""
    spans: list[list[float]] = []
    for w in sorted(transcript.words, key=lambda w: w.start_s):
        if w.end_s <= w.start_s:
            continue
        if spans and w.start_s - spans[-1][1] < WORD_GAP_S:
            spans[-1][1] = max(spans[-1][1], w.end_s)
        else:
            spans.append([w.start_s, w.end_s])
    return [(a, b) for a, b in spans]


def _majority(result: Diarization):
    labels = result.frame_labels
    voiced = np.flatnonzero(labels >= 0)

    def who(start_s: float, end_s: float) -> str:
        if voiced.size == 0:
            return "S1"
        span = labels[int(start_s / FRAME_S) : max(int(start_s / FRAME_S) + 1, int(np.ceil(end_s / FRAME_S)))]
        span = span[span >= 0]
        if span.size:
            return f"S{np.bincount(span).argmax() + 1}"
        middle = (start_s + end_s) / 2 / FRAME_S
        return f"S{labels[voiced[np.abs(voiced - middle).argmin()]] + 1}"

    return who


def _rescorer(result: Diarization):
    """Scores word spans against the diarization's voices (labels S1, S2... as ``_majority``)."""
    voices = result.voices
    if voices is None:
        return None

    def rescore(spans: list[tuple[float, float]]) -> list[dict[str, float]]:
        return [{f"S{k + 1}": float(v) for k, v in enumerate(row)} for row in voices.similarity(spans)]

    return rescore


def _host_label(labeled: Transcript, mix_path: Path, host_voice: Path | None) -> str | None:
    if not host_voice:
        return None
    from .enroll import closest_label

    return closest_label(labeled, mix_path, Path(host_voice))


def _with_record(labeled: Transcript, method: str, host_label: str | None) -> Transcript:
    seconds = speaking_time(labeled)
    record = {"method": method, "labels": labeled.speakers(), "seconds": {k: round(v, 1) for k, v in seconds.items() if k}}
    if host_label:
        record["host_label"] = host_label
    return replace(labeled, meta={**labeled.meta, "speakers": record})
