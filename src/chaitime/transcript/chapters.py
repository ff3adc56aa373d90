"""Chapters: the type every stage shares (the draft makes them, render re-times them, the feed
and the MP3 carry them) and chapters.json, Podcasting 2.0's JSON chapters, written and read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

CHAPTERS_VERSION = "1.2.0"


@dataclass(frozen=True)
class Chapter:
    start_s: float
    title: str
    end_s: float | None = None


def chapters_json(chapters: list[Chapter]) -> str:
    """Podcasting 2.0 JSON chapters (application/json+chapters, version 1.2.0)."""
    items = []
    for ch in chapters:
        item: dict = {"startTime": _number(ch.start_s), "title": ch.title}
        if ch.end_s is not None:
            item["endTime"] = _number(ch.end_s)
        items.append(item)
    return json.dumps({"version": CHAPTERS_VERSION, "chapters": items}, ensure_ascii=False, indent=1) + "\n"


def load_chapters(path: Path) -> list[Chapter]:
    """Read chapters.json back (the host may have edited the titles)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        chapters = [
            Chapter(float(c["startTime"]), str(c.get("title", "")).strip(), float(c["endTime"]) if "endTime" in c else None)
            for c in data["chapters"]
        ]
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no chapters. Run `chaitime draft` to make them.") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not Podcasting 2.0 chapters ({exc}). Expected "
                         '{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "..."}]}; fix it, or delete it to regenerate it.') from exc
    return sorted(chapters, key=lambda c: c.start_s)


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 3)
