"""Transcript, Segment, Word: times are float seconds; every output format is written from these."""

from __future__ import annotations

import json
import json.encoder
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError

SCHEMA_VERSION = 1


# Words that are only hesitation: suggested as cuts in edit.md, left out of the post's prose.
FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "erm", "er", "ah", "ahh", "hmm", "mm", "mhm", "uh-huh", "eh"})


@dataclass(frozen=True)
class Word:
    start_s: float
    end_s: float
    text: str
    probability: float = 1.0
    speaker: str | None = None


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None
    # Why this segment's words can't be trusted, e.g. "language" (it doesn't sound like the
    # transcript's language: see asr.cleanup.unsure_language). In JSON only when set.
    flag: str | None = None


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str = "en"
    duration_s: float = 0.0
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.segments:
            if s.speaker:
                seen.setdefault(s.speaker, None)
        return list(seen)

    def with_segments(self, segments) -> Transcript:
        return replace(self, segments=tuple(segments))

    # --- JSON: our own format --------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "version": SCHEMA_VERSION,
            "language": self.language,
            "duration": round(self.duration_s, 3),
            "meta": self.meta,
            "segments": [
                {
                    "start": round(s.start_s, 3),
                    "end": round(s.end_s, 3),
                    "text": s.text,
                    "speaker": s.speaker,
                    **({"flag": s.flag} if s.flag else {}),
                    "words": [
                        {
                            "start": round(w.start_s, 3),
                            "end": round(w.end_s, 3),
                            "text": w.text,
                            "probability": round(w.probability, 4),
                            "speaker": w.speaker,
                        }
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False, indent=1)``, byte for byte, written for
        this fixed shape: with an indent, json runs its pure-Python encoder (100 ms for an hour's
        transcript), and the studio writes the transcript on every corrected word."""
        out = ["{\n", f' "version": {SCHEMA_VERSION},\n', f' "language": {_js(self.language)},\n',
               f' "duration": {_js(round(self.duration_s, 3))},\n', f' "meta": {_nested(self.meta, 1)},\n', ' "segments": ']
        if not self.segments:
            out.append("[]")
        else:
            out.append("[\n")
            out.append(",\n".join(_segment_json(s) for s in self.segments))
            out.append("\n ]")
        out.append("\n}\n")
        return "".join(out)

    @classmethod
    def from_dict(cls, data: dict) -> Transcript:
        """A transcript from its JSON form; ValueError naming the first bad item otherwise."""
        data = _table(data, "the file")
        segments = tuple(
            Segment(
                start_s=_number(s, "start", where),
                end_s=_number(s, "end", where),
                text=_text(s, "text", where),
                speaker=_optional_text(s, "speaker", where),
                flag=_optional_text(s, "flag", where),
                words=tuple(
                    Word(_number(w, "start", f"{where}.words[{j}]"), _number(w, "end", f"{where}.words[{j}]"),
                         _text(w, "text", f"{where}.words[{j}]"), _number(w, "probability", f"{where}.words[{j}]", 1.0),
                         _optional_text(w, "speaker", f"{where}.words[{j}]"))
                    for j, w in enumerate(_items(s, "words", where))
                ),
            )
            for i, s in enumerate(_items(data, "segments", "the file"))
            for where in [f"segments[{i}]"]
        )
        language = data.get("language", "en")
        if not isinstance(language, str):
            raise ValueError(f"language must be a code in quotes, not {language!r}")
        meta = data.get("meta") or {}
        if not isinstance(meta, dict):
            raise ValueError(f"meta must be an object, not {type(meta).__name__}")
        return cls(segments, language, _number(data, "duration", "the file", 0.0), dict(meta))

    @classmethod
    def load(cls, path: Path) -> Transcript:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise InputError(f"{path}: no transcript. Run `chaitime ingest` first.") from exc
        except (ValueError, KeyError, TypeError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise InputError(f"{path}: not a chaitime transcript ({str(exc)[:200]}). Re-run `chaitime ingest --force`.") from exc


# --- writing JSON fast (see Transcript.to_json) -------------------------------------------------
def _js(value) -> str:
    """One scalar as json.dumps writes it (C string escaping, float repr)."""
    if isinstance(value, str):
        return _ENCODE_STR(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return float.__repr__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value)


def _nested(value, level: int) -> str:
    """Any JSON value at ``level``, as indent=1 writes it there."""
    return json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n" + " " * level)


def _segment_json(s: Segment) -> str:
    head = (f'  {{\n   "start": {_js(round(s.start_s, 3))},\n   "end": {_js(round(s.end_s, 3))},\n'
            f'   "text": {_js(s.text)},\n   "speaker": {_js(s.speaker)},\n'
            + (f'   "flag": {_js(s.flag)},\n' if s.flag else "") + '   "words": ')
    if not s.words:
        return head + "[]\n  }"
    # Times and probabilities are finite numbers (from_dict rejects others): repr is json's form.
    enc = _ENCODE_STR
    words = ",\n".join(
        f'    {{\n     "start": {round(w.start_s, 3)!r},\n     "end": {round(w.end_s, 3)!r},\n     "text": {enc(w.text)},\n'
        f'     "probability": {round(w.probability, 4)!r},\n     "speaker": {"null" if w.speaker is None else enc(w.speaker)}\n    }}'
        for w in s.words)
    return head + "[\n" + words + "\n   ]\n  }"


_ENCODE_STR = json.encoder.encode_basestring  # the C escaper json.dumps uses with ensure_ascii=False


# --- reading JSON back: each helper names the item it rejects ----------------------------------
def _table(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _items(obj: dict, key: str, where: str) -> list:
    value = _table(obj, where).get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{_at(where, key)} must be a list, not {type(value).__name__}")
    return value


def _number(obj: dict, key: str, where: str, default: float | None = None) -> float:
    value = _table(obj, where).get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ValueError(f"{_at(where, key)} must be a number, not {value!r}"[:160])
    return float(value)


def _text(obj: dict, key: str, where: str) -> str:
    value = _table(obj, where).get(key)
    if not isinstance(value, str):
        raise ValueError(f"{_at(where, key)} must be text, not {value!r}"[:160])
    return value


def _optional_text(obj: dict, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{_at(where, key)} must be text or null, not {value!r}"[:160])
    return value


def _at(where: str, key: str) -> str:
    return key if where == "the file" else f"{where}.{key}"
