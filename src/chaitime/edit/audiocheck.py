"""What the audio says, independently of the transcript: where speech is heard (Silero VAD and an
energy detector, united), and where a word's sound really starts and ends (energy onsets).

Suggested cuts are checked against this: Whisper drops whole answers and times words late, so a
gap between transcript lines is not silence and a word's time is not its sound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..intervals import Interval, clip, merge, runs

log = logging.getLogger("chaitime")

RATE_HZ = 16_000
HOP_S = 0.01  # energy frames: 20 ms windows every 10 ms
WIN_S = 0.02
FLOOR_PERCENTILE = 10
LOUD_PERCENTILE = 97
ABOVE_FLOOR_DB = 6.0  # a frame this far above the noise floor is sound
BELOW_LOUD_DB = 40.0  # ... unless the floor is digital silence: then this far below the loud speech
ENERGY_BRIDGE_S = 0.15  # sound frames closer than this are one region
ENERGY_MIN_S = 0.04
ENERGY_PAD_S = 0.05
# Silero, tuned to miss nothing: a lower threshold than its default, 150 ms of padding.
GUARD_THRESHOLD = 0.35
GUARD_PAD_MS = 150
CHUNK_S = 600.0


@dataclass(frozen=True)
class Hearing:
    """Where an independent listener hears speech in a recording, and its frame energy.

    ``voice`` is what the speech model (Silero) calls speech; ``speech`` adds every stretch the
    energy detector hears, so no cut is suggested over anything audible, while only a voice is
    flagged as speech the transcript lacks (room noise at the start of a take is not)."""

    speech: tuple[Interval, ...]  # sorted, disjoint, seconds
    energy_db: np.ndarray  # one value per HOP_S frame
    threshold_db: float
    duration_s: float
    voice: tuple[Interval, ...] = ()

    def heard(self, a: float, b: float) -> list[Interval]:
        """The parts of [a, b] where anything like speech is heard."""
        return clip(self.speech, a, b)

    def voiced(self, a: float, b: float) -> list[Interval]:
        """The parts of [a, b] where the speech model hears a voice."""
        return clip(self.voice, a, b)

    def sound(self, a: float, b: float) -> np.ndarray:
        """Per frame in [a, b): whether it is louder than the sound threshold."""
        lo, hi = max(0, int(a / HOP_S)), max(0, int(np.ceil(b / HOP_S)))
        return self.energy_db[lo:hi] > self.threshold_db


def listen(samples: np.ndarray, *, silero: bool = True) -> Hearing:
    """Hear 16 kHz mono ``samples`` (float in [-1, 1] or int16)."""
    audio = _float(samples)
    db = energy_db(audio)
    threshold = energy_threshold(db)
    voice = silero_speech(audio, threshold=GUARD_THRESHOLD, pad_ms=GUARD_PAD_MS) if silero else []
    return Hearing(merge(energy_speech(db, threshold) + voice), db, threshold, len(audio) / RATE_HZ, merge(voice))


def listen_file(path: Path) -> Hearing:
    """Hear a raw 16 kHz speech file (``.chaitime/speech.s16``), ten minutes at a time."""
    from ..asr.audio import PcmAudio

    pcm = PcmAudio(Path(path))
    data = pcm.samples()
    db = energy_db(_float(data))
    threshold = energy_threshold(db)
    voice = []
    for start, end in pcm.chunk_bounds(CHUNK_S):
        offset = start / RATE_HZ
        voice += [(a + offset, b + offset) for a, b in silero_speech(pcm.chunk(start, end), threshold=GUARD_THRESHOLD, pad_ms=GUARD_PAD_MS)]
    return Hearing(merge(energy_speech(db, threshold) + voice), db, threshold, len(data) / RATE_HZ, merge(voice))


def _float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return np.asarray(samples, dtype=np.float32) / 32768.0
    return np.asarray(samples, dtype=np.float32)


def energy_db(audio: np.ndarray) -> np.ndarray:
    """Frame energy in dBFS, one frame every HOP_S over a WIN_S window."""
    hop, win = int(HOP_S * RATE_HZ), int(WIN_S * RATE_HZ)
    n = max(0, (len(audio) - win) // hop + 1)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    squares = np.concatenate([[0.0], np.cumsum(np.asarray(audio, dtype=np.float64) ** 2)])
    starts = np.arange(n) * hop
    power = (squares[starts + win] - squares[starts]) / win
    return (10 * np.log10(power + 1e-10)).astype(np.float32)


def energy_threshold(db: np.ndarray) -> float:
    """Sound is ABOVE_FLOOR_DB over the noise floor, but never asked to be more than
    BELOW_LOUD_DB under the loud speech (clean recordings have a floor of digital zeros)."""
    if len(db) == 0:
        return 0.0
    floor, loud = np.percentile(db, FLOOR_PERCENTILE), np.percentile(db, LOUD_PERCENTILE)
    return float(max(min(floor + ABOVE_FLOOR_DB, loud - 6.0), loud - BELOW_LOUD_DB))


def energy_speech(db: np.ndarray, threshold: float) -> list[Interval]:
    """Regions of sound: frames over ``threshold`` bridged across short dips, padded."""
    out: list[list[float]] = []
    for a, b in runs(db > threshold):
        s, e = a * HOP_S, b * HOP_S + WIN_S
        if out and s - out[-1][1] < ENERGY_BRIDGE_S:
            out[-1][1] = e
        else:
            out.append([s, e])
    return [(max(0.0, s - ENERGY_PAD_S), e + ENERGY_PAD_S) for s, e in out if e - s >= ENERGY_MIN_S]


def silero_speech(audio: np.ndarray, *, threshold: float, pad_ms: int, min_silence_ms: int = 100) -> list[Interval]:
    """Silero VAD (the one faster-whisper ships) at the given threshold and padding, in seconds.
    Without faster-whisper, nothing (the energy detector alone then guards the cuts)."""
    from ..asr.vad import VadSettings, speech_spans
    from ..errors import ModelError

    settings = VadSettings(threshold=threshold, min_silence_ms=min_silence_ms, speech_pad_ms=pad_ms)
    try:
        spans = speech_spans(np.ascontiguousarray(audio, dtype=np.float32), settings)
    except ModelError as exc:
        log.warning("cut suggestions checked by loudness only: %s", exc)
        return []
    return [(a / RATE_HZ, b / RATE_HZ) for a, b in spans]


# --- fillers ---------------------------------------------------------------------------------------

MARGIN_S = 0.03  # a filler cut ends at least this long before the next word's sound
CUT_LEAD_S = 0.06  # ... and ideally this long, when the dip allows
DIP_S = 0.05  # a filler and the next word must be separated by this much quiet to cut between them
SEARCH_BEFORE_S = 0.5  # Whisper times a filler late: its sound may start this much earlier
FILLER_MAX_S = 1.2


def sound_regions(hearing: Hearing, a: float, b: float, bridge_s: float = 0.03) -> list[Interval]:
    """Loud stretches in [a, b] by frame energy alone (no padding), split at dips over ``bridge_s``."""
    a = max(0.0, a)
    mask = hearing.sound(a, b)
    out: list[list[float]] = []
    for s, e in runs(mask):
        s_t, e_t = a + s * HOP_S, a + e * HOP_S + WIN_S
        if out and s_t - out[-1][1] < bridge_s:
            out[-1][1] = e_t
        else:
            out.append([s_t, e_t])
    return [(s, e) for s, e in out]


def onset_after(hearing: Hearing, t: float, horizon_s: float = 1.0) -> float | None:
    """The first rise into sound at or after ``t`` (the start of the region containing ``t``
    when ``t`` falls inside a sound)."""
    regions = sound_regions(hearing, t - 1.0, t + horizon_s)
    for s, e in regions:
        if e > t:
            return s
    return None


def snap_filler(hearing: Hearing, prev_end: float | None, start: float, end: float, next_start: float | None) -> Interval | None:
    """The cut that removes a filler's actual sound, found around Whisper's times: from just
    before the sound to at least MARGIN_S before the next word's measured onset. None when the
    audio shows no clean dip between the filler and its neighbours (the cut is not suggested)."""
    if next_start is None:
        return None
    lo = max(0.0, start - SEARCH_BEFORE_S - 0.5)
    regions = sound_regions(hearing, lo, next_start + 0.4)
    # The filler's sound: the region holding Whisper's start of it, or the last one before it
    # (Whisper times fillers late); the next word's onset: the region after that.
    before_start = [i for i, (s, _) in enumerate(regions) if s <= start]
    if not before_start or before_start[-1] + 1 >= len(regions):
        return None
    nxt = before_start[-1] + 1
    onset, filler = regions[nxt][0], regions[nxt - 1]
    if onset - filler[1] < DIP_S or filler[1] - filler[0] > FILLER_MAX_S or filler[1] < start - SEARCH_BEFORE_S:
        return None
    if onset > next_start + 0.4:
        return None  # no sound where Whisper heard the next word begin
    if prev_end is not None and filler[0] < min(prev_end, start) - 0.15 or filler[0] <= lo:
        return None  # the filler's sound runs on from the previous word: no clean start
    before = regions[nxt - 2][1] if nxt >= 2 else lo
    cut_a = filler[0] - min(MARGIN_S, max(0.0, (filler[0] - before) / 2))
    cut_b = max(filler[1] + 0.01, onset - CUT_LEAD_S)
    if onset - cut_b < MARGIN_S:
        return None
    return (round(cut_a, 4), round(cut_b, 4))


# --- intro / outro ----------------------------------------------------------------------------------

EDGE_LISTEN_S = 5.0


def quiet_edges_s(path: Path) -> tuple[float, float]:
    """Seconds before the first and after the last speech heard in a media file (its first and
    last EDGE_LISTEN_S seconds are listened to)."""
    from ..media import pcm

    head = pcm.decode(path, rate=RATE_HZ, length_s=EDGE_LISTEN_S)[:, 0]
    tail = pcm.decode(path, rate=RATE_HZ, last_s=EDGE_LISTEN_S, length_s=EDGE_LISTEN_S)[:, 0]
    first = listen(head).speech
    last = listen(tail).speech
    lead = first[0][0] if first else len(head) / RATE_HZ
    trail = len(tail) / RATE_HZ - last[-1][1] if last else len(tail) / RATE_HZ
    return lead, max(0.0, trail)
