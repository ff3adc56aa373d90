"""The transcript as edit lines: one sentence (or short speaker turn) per line.

The split is deterministic and depends on no setting, so parsing edit.md rebuilds exactly the
lines it was written from: a new line at every segment, after sentence-ending punctuation, at a
gap of LINE_GAP_S or more, and after MAX_LINE_WORDS words (Whisper sometimes runs sentences on).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..transcript.model import Transcript, Word

LINE_GAP_S = 1.0
MAX_LINE_WORDS = 40
SENTENCE_END = (".", "?", "!", "…")


@dataclass(frozen=True)
class Token:
    """One word of the transcript in reading order, with the segment it belongs to."""

    index: int
    segment: int
    word: Word

    @property
    def start_s(self) -> float:
        return self.word.start_s

    @property
    def end_s(self) -> float:
        return self.word.end_s

    @property
    def text(self) -> str:
        return self.word.text.strip()


@dataclass(frozen=True)
class EditLine:
    speaker: str | None
    tokens: tuple[Token, ...]

    @property
    def start_s(self) -> float:
        return self.tokens[0].start_s

    @property
    def end_s(self) -> float:
        return self.tokens[-1].end_s


def tokens_of(transcript: Transcript) -> list[Token]:
    """Every word in order; a segment without word times counts as one word."""
    return [Token(i, si, w) for i, (si, w) in enumerate(_words(transcript))]


def token_at(transcript: Transcript, index: int) -> Token | None:
    """``tokens_of(transcript)[index]`` without making the others (None when there is no such word)."""
    if index < 0:
        return None
    for i, (si, w) in enumerate(_words(transcript)):
        if i == index:
            return Token(i, si, w)
    return None


def _words(transcript: Transcript):
    for si, seg in enumerate(transcript.segments):
        words = [w for w in seg.words if w.text.strip()] or ([Word(seg.start_s, seg.end_s, seg.text, 1.0, seg.speaker)] if seg.text.strip() else [])
        for w in words:
            yield si, w


def split_lines(transcript: Transcript) -> list[EditLine]:
    """The edit lines of ``transcript`` (see module docstring)."""
    lines: list[EditLine] = []
    current: list[Token] = []
    for tok in tokens_of(transcript):
        if current and _breaks(current, tok):
            lines.append(_line(transcript, current))
            current = []
        current.append(tok)
    if current:
        lines.append(_line(transcript, current))
    return lines


def _breaks(current: list[Token], tok: Token) -> bool:
    last = current[-1]
    return (
        tok.segment != last.segment
        or last.text.endswith(SENTENCE_END)
        or tok.start_s - last.end_s >= LINE_GAP_S
        or len(current) >= MAX_LINE_WORDS
    )


def _line(transcript: Transcript, tokens: list[Token]) -> EditLine:
    seg = transcript.segments[tokens[0].segment]
    return EditLine(tokens[0].word.speaker or seg.speaker, tuple(tokens))
