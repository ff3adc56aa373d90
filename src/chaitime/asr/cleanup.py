"""No invented words: Whisper's known failures on silence, noise and music are filtered here,
for every engine (standards.md: "Thanks for watching", one line repeated hundreds of times)."""

from __future__ import annotations

import re
import zlib

from ..transcript.model import Segment

# openai-whisper's own thresholds (transcribe.py): a window is "no speech" when the no-speech
# probability is high AND the decode is unsure; gzip compression over 2.4 means repetition.
NO_SPEECH_PROB = 0.6
LOGPROB_FLOOR = -1.0
COMPRESSION_MAX = 2.4
# A segment whose words' mean probability is this low (3 words or more) doesn't sound like the
# language it was decoded in. tiny.en, scripts/trust_asr.py clips: German (eSpeak) 0.26-0.30
# (0.35 where the window's log-probability flags it anyway); English under 5 dB SNR noise
# 0.46-0.86 (faster-whisper), 0.35-0.70 (openai-whisper); clean telephone English 0.52-0.98.
LANGUAGE_MEAN_PROBABILITY = 0.33
LANGUAGE_MIN_WORDS = 3
LOOP_MIN_WORDS = 4  # a back-to-back repeat this long is a decoding loop, not speech
# Phrases Whisper writes on silence/music when it has nothing to transcribe (YouTube captions).
STOCK_PHRASES = re.compile(
    r"^\W*(thanks? (you )?for watching|thank you\.?|please subscribe|subtitles by|\[?music\]?|\(upbeat music\)|you)\W*$",
    re.IGNORECASE,
)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def unlikely_speech(no_speech_prob: float, avg_logprob: float, compression: float) -> bool:
    return (no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOGPROB_FLOOR) or compression > COMPRESSION_MAX


def needs_fallback(no_speech_prob: float, avg_logprob: float, compression: float) -> bool:
    """Decode again at a higher temperature: repeated text or an unsure decode that is not silence
    (openai-whisper transcribe.py's ``needs_fallback``; silence is skipped, not retried)."""
    if no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOGPROB_FLOOR:
        return False
    return compression > COMPRESSION_MAX or avg_logprob < LOGPROB_FLOOR


def clean(segments: list[Segment]) -> list[Segment]:
    """Drop hallucinated segments and cut repetition loops; keep order."""
    out: list[Segment] = []
    repeats = 0
    for seg in segments:
        seg = _cut_repetition(seg)
        if not seg.text.strip() or _is_stock_phrase(seg) or compression_ratio(seg.text) > COMPRESSION_MAX and len(seg.text) > 60:
            continue
        if out and _same_text(out[-1], seg) and seg.start_s - out[-1].end_s < 2.0:
            repeats += 1
            # The classic loop: a sentence repeated back to back. Two people saying a short
            # "Hello?" in turn is a conversation, so short lines may come twice.
            if repeats >= 2 or len(_norm(seg.text).split()) >= LOOP_MIN_WORDS:
                continue
        else:
            repeats = 0
        out.append(seg)
    return out


def unsure_decode(avg_logprob: float) -> bool:
    """A window still unsure after the fallback: what Whisper writes for speech it can't read as
    the language it decodes (German through tiny.en: a confident-looking loop at -1.26)."""
    return avg_logprob < LOGPROB_FLOOR


def unsure_language(seg: Segment) -> bool:
    """Words the decoder was this unsure of read like invented text in the expected language
    (Whisper's English-only models write German speech as fluent English)."""
    probs = [w.probability for w in seg.words]
    return len(probs) >= LANGUAGE_MIN_WORDS and sum(probs) / len(probs) < LANGUAGE_MEAN_PROBABILITY


def flag_language(segments: list[Segment], language: str, model: str) -> tuple[list[Segment], list[str]]:
    """Flag segments that don't sound like ``language`` ("language"); a note for the user when any are."""
    from dataclasses import replace

    out = [replace(s, flag="language") if s.flag is None and unsure_language(s) else s for s in segments]
    flagged = [s for s in out if s.flag == "language"]
    if not flagged:
        return out, []
    where = ", ".join(f"{s.start_s:.1f}-{s.end_s:.1f} s" for s in flagged[:5]) + (" ..." if len(flagged) > 5 else "")
    from .engine import english_only_name

    hint = "a multilingual model (--model small) with --language auto" if english_only_name(model) else "--language auto or the right --language"
    note = (f"{len(flagged)} segment(s) don't sound like {language!r} speech ({where}): flagged as unsure, not trusted as "
            f"{language!r} text. If they are another language, use {hint}.")
    return out, [note]


def _is_stock_phrase(seg: Segment) -> bool:
    if not STOCK_PHRASES.match(seg.text.strip()):
        return False
    probs = [w.probability for w in seg.words] or [0.0]
    return sum(probs) / len(probs) < 0.7 or seg.end_s - seg.start_s > 4.0


def _same_text(a: Segment, b: Segment) -> bool:
    return _norm(a.text) == _norm(b.text) and len(_norm(a.text)) > 0


def _norm(text: str) -> str:
    return re.sub(r"[^\w ]", "", text.lower()).strip()


def _cut_repetition(seg: Segment, max_repeats: int = 3) -> Segment:
    """Keep the first ``max_repeats`` of an n-gram (n=1..6) repeated back to back."""
    words = list(seg.words)
    if len(words) < 8:
        return seg
    keys = [_norm(w.text) for w in words]
    for n in range(1, 7):
        i = 0
        while i + n * (max_repeats + 1) <= len(keys):
            gram, reps = keys[i : i + n], 1
            while keys[i + reps * n : i + (reps + 1) * n] == gram:
                reps += 1
            if reps > max_repeats:
                del words[i + max_repeats * n : i + reps * n]
                del keys[i + max_repeats * n : i + reps * n]
            i += 1
    if len(words) == len(seg.words):
        return seg
    text = "".join(w.text for w in words).strip()
    return Segment(words[0].start_s, words[-1].end_s, text, tuple(words), seg.speaker)
