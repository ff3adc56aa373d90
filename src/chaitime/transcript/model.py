"""Transcript, Segment, Word: times are float seconds; every output format is written from these."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError

SCHEMA_VERSION = 1


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

    def with_segments(self, segments) -> "Transcript":
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
    def from_dict(cls, data: dict) -> "Transcript":
        segments = tuple(
            Segment(
                start_s=float(s["start"]),
                end_s=float(s["end"]),
                text=str(s["text"]),
                speaker=s.get("speaker"),
                flag=s.get("flag"),
                words=tuple(
                    Word(float(w["start"]), float(w["end"]), str(w["text"]), float(w.get("probability", 1.0)), w.get("speaker"))
                    for w in s.get("words", ())
                ),
            )
            for s in data.get("segments", ())
        )
        return cls(segments, data.get("language", "en"), float(data.get("duration", 0.0)), dict(data.get("meta") or {}))

    @classmethod
    def load(cls, path: Path) -> "Transcript":
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise InputError(f"{path}: no transcript. Run `chaitime ingest` first.") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a chaitime transcript ({exc}). Re-run `chaitime ingest --force`.") from exc
