"""Conversations assembled from real readers (``../shared/media/librispeech-speakers``) with exact
turn truth: who speaks when is known because we placed every utterance ourselves.

Used by the speaker, cut-suggestion and transcription tests and by ``scripts/bench_trust.py``.
Callers skip when the shared folder is absent (``conftest.shared_media``). Nothing here is copied
into the project: utterances are decoded from the shared folder at run time.

Variants model what real interviews do to a mix: ``imbalanced`` (the second voice 12 dB quieter,
a guest far from the microphone), ``noisy`` (steady noise 15 dB below the speech), ``stereo-bleed``
(each voice on its own channel with the other leaking in at -20 dB, two mics in one room).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE_HZ = 16000
READERS = {"1998": "F", "2414": "M", "3005": "M", "367": "F", "533": "F"}
# The pairs the shared folder's README names: male/female, male/male, female/female, three voices.
CONVERSATIONS = {
    "male-female": ("2414", "533"),
    "male-male": ("2414", "3005"),
    "female-female": ("1998", "367"),
    "three-voices": ("3005", "1998", "533"),
}
VARIANTS = ("plain", "imbalanced", "noisy", "stereo-bleed")


@dataclass(frozen=True)
class Turn:
    speaker: str  # the reader id
    start_s: float
    end_s: float
    utterance: str  # file stem, e.g. 2414-128291-0003


@dataclass(frozen=True)
class Conversation:
    name: str
    samples: np.ndarray  # float32, (n,) mono or (n, 2) for stereo-bleed
    turns: tuple[Turn, ...]

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.speaker for t in self.turns))

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE_HZ

    def speaker_at(self, start_s: float, end_s: float) -> str | None:
        """The reader whose turn overlaps [start_s, end_s] most (None when it falls in no turn)."""
        best, best_overlap = None, 0.0
        for t in self.turns:
            overlap = min(end_s, t.end_s) - max(start_s, t.start_s)
            if overlap > best_overlap:
                best, best_overlap = t.speaker, overlap
        if best is None:  # a word placed in a gap: the nearest turn
            middle = (start_s + end_s) / 2
            best = min(self.turns, key=lambda t: min(abs(t.start_s - middle), abs(t.end_s - middle))).speaker
        return best

    def write_wav(self, path: Path) -> Path:
        from chaitime import sample

        pcm = np.clip(np.round(self.samples * 32767), -32768, 32767).astype(np.int16)
        sample.write_wav(path, pcm, RATE_HZ, channels=1 if pcm.ndim == 1 else pcm.shape[1])
        return path

    def rttm_turns(self):
        """The truth as chaitime.speakers.der turns, for diarization error rate."""
        from chaitime.speakers.der import Turn as DerTurn

        return [DerTurn(t.start_s, t.end_s, t.speaker) for t in self.turns]


def utterances(media: Path, reader: str) -> list[Path]:
    return sorted((Path(media) / "librispeech-speakers" / reader).glob("*.flac"))


def _decode(path: Path) -> np.ndarray:
    from chaitime.speakers.audio import decode

    return decode(path, channels=1, rate=RATE_HZ)[:, 0].astype(np.float32) / 32768.0


def assemble(media: Path, name: str = "male-female", variant: str = "plain", *, turns: int = 16, seed: int = 0,
             interjections: int = 0) -> Conversation:
    """``turns`` utterances in turn from the readers of ``CONVERSATIONS[name]`` (never one reader
    twice in a row), each reader's utterances in order and reused when they run out, separated by
    seeded gaps of 0.3-1.2 s. ``interjections``: that many short turns (0.5-1.0 s, the first words
    of another reader's utterance: a "yes" or "right" between two turns of one reader), each
    followed by one more utterance of the reader it interrupted; they add 2 turns each."""
    readers = CONVERSATIONS[name]
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}: one of {VARIANTS}")
    rng = np.random.default_rng(seed)
    files = {r: utterances(media, r) for r in readers}
    used = {r: 0 for r in readers}
    order = _speaking_order(readers, turns, rng)
    tracks = {r: [] for r in readers}  # per reader, (start sample, samples)
    placed, pos = [], int(0.5 * RATE_HZ)
    extra = np.random.default_rng(seed + 1)  # its own draws: without interjections nothing changes
    cut_in = set(extra.choice(np.arange(1, max(2, turns - 1)), size=min(interjections, max(1, turns - 2)), replace=False)) if interjections else set()

    def place(reader: str, audio: np.ndarray, stem: str) -> None:
        nonlocal pos
        tracks[reader].append((pos, audio))
        placed.append(Turn(reader, round(pos / RATE_HZ, 4), round((pos + len(audio)) / RATE_HZ, 4), stem))
        pos += len(audio) + int(rng.uniform(0.3, 1.2) * RATE_HZ)

    def next_utterance(reader: str) -> tuple[np.ndarray, str]:
        path = files[reader][used[reader] % len(files[reader])]
        used[reader] += 1
        return _decode(path), path.stem

    for i, reader in enumerate(order):
        place(reader, *next_utterance(reader))
        if i in cut_in:
            other = [r for r in readers if r != reader][int(extra.integers(len(readers) - 1))]
            path = files[other][(used[other] + 1) % len(files[other])]
            place(other, _first_words(_decode(path), float(extra.uniform(0.5, 1.0))), f"{path.stem}-start")
            place(reader, *next_utterance(reader))
    total = pos + int(0.5 * RATE_HZ)
    voices = {r: _track(parts, total) for r, parts in tracks.items()}
    return Conversation(f"{name}/{variant}", _mix(voices, readers, variant, rng), tuple(placed))


def _first_words(audio: np.ndarray, seconds: float) -> np.ndarray:
    """``seconds`` of ``audio`` from where its speech starts, faded out over 30 ms."""
    start = int(np.argmax(np.abs(audio) > 0.05 * float(np.max(np.abs(audio)))))
    clip = audio[start : start + int(seconds * RATE_HZ)].copy()
    fade = min(len(clip), int(0.03 * RATE_HZ))
    clip[len(clip) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return clip


def _speaking_order(readers: tuple[str, ...], turns: int, rng: np.random.Generator) -> list[str]:
    """Alternation for two readers; for three, a seeded choice among the other two each turn, so
    every pair of readers meets at a turn change."""
    order = [readers[0]]
    while len(order) < turns:
        others = [r for r in readers if r != order[-1]]
        order.append(others[int(rng.integers(len(others)))] if len(others) > 1 else others[0])
    return order


def _track(parts: list[tuple[int, np.ndarray]], total: int) -> np.ndarray:
    out = np.zeros(total, dtype=np.float32)
    for start, audio in parts:
        out[start:start + len(audio)] += audio
    return out


def _mix(voices: dict[str, np.ndarray], readers: tuple[str, ...], variant: str, rng: np.random.Generator) -> np.ndarray:
    if variant == "imbalanced":
        voices = {**voices, readers[1]: voices[readers[1]] * np.float32(10 ** (-12 / 20))}
    if variant == "stereo-bleed":
        bleed = np.float32(10 ** (-20 / 20))
        left, right = voices[readers[0]], sum(voices[r] for r in readers[1:])
        return np.stack([left + bleed * right, right + bleed * left], axis=1).astype(np.float32)
    mix = sum(voices.values()).astype(np.float32)
    if variant == "noisy":
        speech_rms = float(np.sqrt(np.mean(mix[np.abs(mix) > 1e-4] ** 2)))
        noise = rng.standard_normal(len(mix)).astype(np.float32)
        noise = np.convolve(noise, np.ones(4, dtype=np.float32) / 4, mode="same")  # a little less hiss, more hum-like body
        noise *= speech_rms * 10 ** (-15 / 20) / float(np.sqrt(np.mean(noise**2)))
        mix = mix + noise
    peak = float(np.max(np.abs(mix)))
    return mix * np.float32(0.9 / peak) if peak > 0.9 else mix


def word_accuracy(words, conversation: Conversation, label_to_reader: dict[str, str] | None = None) -> float:
    """Share of words whose speaker label maps to the reader who said them. Without a mapping,
    labels map to readers by the best one-to-one match (the count of words each pairing gets right)."""
    truth = [conversation.speaker_at(w.start_s, w.end_s) for w in words]
    labels = [w.speaker for w in words]
    if not words:
        return 0.0
    if label_to_reader is None:
        label_to_reader = best_mapping(labels, truth)
    right = sum(label_to_reader.get(label) == t for label, t in zip(labels, truth))
    return right / len(words)


def best_mapping(labels: list, truth: list) -> dict:
    """One-to-one label -> reader mapping with the most agreeing words (exhaustive: few speakers)."""
    from itertools import permutations

    hyp, ref = sorted(set(labels), key=str), sorted(set(truth), key=str)
    counts = {(h, r): 0 for h in hyp for r in ref}
    for h, r in zip(labels, truth):
        counts[(h, r)] += 1
    best, best_score = {}, -1
    if len(hyp) <= len(ref):
        for perm in permutations(ref, len(hyp)):
            score = sum(counts[(h, r)] for h, r in zip(hyp, perm))
            if score > best_score:
                best, best_score = dict(zip(hyp, perm)), score
    else:
        for perm in permutations(hyp, len(ref)):
            score = sum(counts[(h, r)] for h, r in zip(perm, ref))
            if score > best_score:
                best, best_score = dict(zip(perm, ref)), score
    return best


def speaker_blocks(labels: list) -> int:
    """Runs of one label in a sequence (a labelled transcript's words): what a reader sees as turns."""
    return sum(1 for i, label in enumerate(labels) if i == 0 or label != labels[i - 1])


def true_blocks(words, conversation: Conversation) -> int:
    """Speaker blocks the words would show with every label right (turns the transcript dropped,
    a short interjection Whisper didn't hear, don't count)."""
    return speaker_blocks([conversation.speaker_at(w.start_s, w.end_s) for w in words])


def block_bound(true: int) -> int:
    """How far a labelled transcript's block count may stray from the true one: 10% or 2."""
    return max(2, round(0.1 * true))


def speaker_lufs(samples: np.ndarray, conversation: Conversation) -> dict[str, float]:
    """Each reader's loudness (pyloudnorm, BS.1770) over their true turns of mono 16 kHz ``samples``."""
    import pyloudnorm as pyln

    meter, x = pyln.Meter(RATE_HZ), np.asarray(samples, dtype=np.float64)
    return {s: meter.integrated_loudness(np.concatenate([x[int(t.start_s * RATE_HZ):int(t.end_s * RATE_HZ)]
                                                         for t in conversation.turns if t.speaker == s]))
            for s in conversation.speakers}


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of pink noise (power falling 3 dB an octave), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(1, np.arange(len(spectrum))))
    x = np.fft.irfft(spectrum, n)
    return x / np.sqrt(np.mean(x**2))


def with_noise_under_quietest(conversation: Conversation, snr_db: float, seed: int = 7) -> Conversation:
    """The conversation with pink noise ``snr_db`` under its quietest reader's speech (RMS over
    their turns): the noise as the listener hears it once the leveler raises that reader."""
    x = conversation.samples.astype(np.float64)
    levels = speaker_lufs(x, conversation)
    quiet = min(levels, key=levels.get)
    turns = np.concatenate([x[int(t.start_s * RATE_HZ):int(t.end_s * RATE_HZ)] for t in conversation.turns if t.speaker == quiet])
    rms = np.sqrt(np.mean(turns[np.abs(turns) > 1e-4] ** 2))
    noisy = x + pink(len(x), np.random.default_rng(seed)) * rms * 10 ** (-snr_db / 20)
    return Conversation(f"{conversation.name}+pink{snr_db:g}", noisy.astype(np.float32), conversation.turns)


def separate_tracks(conversation: Conversation, gap_db: float, bleed_db: float = -25.0, noise_db: float = -60.0,
                    seed: int = 5) -> dict[str, np.ndarray]:
    """One track per reader of a mono conversation (float, 16 kHz), as two microphones in one
    room record it: their own turns, the other voices bleeding in at ``bleed_db``, a noise floor
    at ``noise_db``; every reader after the first scaled to ``gap_db`` under the first."""
    rng = np.random.default_rng(seed)
    own = {s: np.zeros(len(conversation.samples), np.float32) for s in conversation.speakers}
    for t in conversation.turns:
        a, b = int(t.start_s * RATE_HZ), int(t.end_s * RATE_HZ)
        own[t.speaker][a:b] = conversation.samples[a:b]
    bleed, noise = 10 ** (bleed_db / 20), 10 ** (noise_db / 20)
    tracks = {s: own[s] + sum(own[o] for o in own if o != s) * bleed + rng.standard_normal(len(own[s])).astype(np.float32) * noise
              for s in own}
    first, *others = conversation.speakers
    level = {s: speaker_lufs(own[s], conversation)[s] for s in own}
    for s in others:
        tracks[s] *= np.float32(10 ** ((level[first] - gap_db - level[s]) / 20))
    return tracks
