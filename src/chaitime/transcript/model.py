"""Transcript, Segment, Word: times are float seconds; every output format is written from these."""

from __future__ import annotations

import json
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
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

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
