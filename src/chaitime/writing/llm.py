"""Optional polish through an OpenAI-compatible endpoint ([draft] llm_url, llm_model).

From the chapter texts, the model writes the summary, the chapter titles and a one-line note per
chapter for the show notes, and suggests pull quotes; a quote is kept only when it appears word
for word in the transcript (post.py also wants whole sentences). Whatever the model writes, the
show's vocabulary is spelled as given. Plain urllib: no client library.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from ..config import Settings
from ..errors import ToolError
from .text import normalize_space, spelled_as_given

log = logging.getLogger("chaitime")

MAX_TITLE_CHARS = 70
MAX_SUMMARY_CHARS = 800
MAX_NOTE_CHARS = 200
EXCERPT_CHARS = 1500  # of each chapter's text sent to the model: enough to name its topic


@dataclass(frozen=True)
class Endpoint:
    url: str  # base URL, like http://localhost:11434/v1
    model: str
    api_key: str | None = None
    timeout_s: float = 120.0


@dataclass(frozen=True)
class Polish:
    summary: str
    titles: tuple[str, ...]
    quotes: tuple[str, ...]  # each verbatim in the transcript
    notes: tuple[str, ...] = ()  # one per chapter, or none


def endpoint_from(settings: Settings) -> Endpoint | None:
    """The configured endpoint, or None when polishing is off (the default)."""
    url = settings.get("draft", "llm_url")
    if not url:
        return None
    key_env = settings.get("draft", "llm_api_key_env")
    return Endpoint(str(url), str(settings.get("draft", "llm_model") or "default"), os.environ.get(key_env) if key_env else None)


def chat(endpoint: Endpoint, messages: list[dict]) -> str:
    """One /chat/completions call; the reply's text."""
    body = json.dumps({"model": endpoint.model, "messages": messages, "temperature": 0.2}).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    url = endpoint.url.rstrip("/") + "/chat/completions"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=endpoint.timeout_s) as response:
            data = json.loads(response.read().decode("utf-8"))
        return str(data["choices"][0]["message"]["content"])
    except urllib.error.HTTPError as exc:
        raise ToolError(f"{url}: the LLM endpoint answered HTTP {exc.code}. Check [draft] llm_url and llm_model in chaitime.toml.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ToolError(f"{url}: can't reach the LLM endpoint ({reason}). Start it, or remove [draft] llm_url to draft offline.") from exc
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ToolError(f"{url}: not an OpenAI-compatible chat reply ({exc}). Check [draft] llm_url.") from exc


def polish(endpoint: Endpoint, *, transcript_text: str, summary: str, titles: Sequence[str], chapter_texts: Sequence[str],
           vocabulary: Sequence[str] = ()) -> Polish:
    """Ask the model for a summary, titles, notes and quotes; keep only what passes the checks,
    with the ``vocabulary`` spelled as given."""
    reply = chat(endpoint, _messages(summary, titles, chapter_texts, vocabulary))
    data = _json_in(reply)
    spell = lambda text: spelled_as_given(text, vocabulary)  # noqa: E731
    return Polish(
        summary=spell(_checked_summary(data.get("summary"), summary)),
        titles=tuple(spell(t) for t in _checked_titles(data.get("titles"), titles)),
        quotes=tuple(q for q in _strings(data.get("quotes")) if is_verbatim(q, transcript_text)),
        notes=tuple(spell(n) for n in _checked_notes(data.get("notes"), len(titles))),
    )


def is_verbatim(quote: str, transcript_text: str) -> bool:
    """The quote appears word for word (spacing aside) in the transcript."""
    q = normalize_space(quote).strip("\"“” ")
    return bool(q) and q in normalize_space(transcript_text)


def _messages(summary: str, titles: Sequence[str], chapter_texts: Sequence[str], vocabulary: Sequence[str] = ()) -> list[dict]:
    chapters = "\n\n".join(f"Chapter {i + 1} (draft title: {t}):\n{text[:EXCERPT_CHARS]}" for i, (t, text) in enumerate(zip(titles, chapter_texts)))
    spelling = f"Spell these names and terms exactly so: {', '.join(vocabulary)}.\n\n" if vocabulary else ""
    return [
        {"role": "system", "content": "You edit podcast show notes. Answer with one JSON object and nothing else."},
        {
            "role": "user",
            "content": (
                f"{spelling}Draft summary: {summary}\n\n{chapters}\n\n"
                f'Return {{"summary": "three or four sentences: who the guest is, the topics in order, one point the guest makes", '
                f'"titles": [{len(titles)} short chapter titles naming each chapter\'s topic, in order], '
                f'"notes": [{len(titles)} one-sentence show notes, one per chapter, in order], '
                f'"quotes": [two or three whole sentences copied exactly from the text]}}.'
            ),
        },
    ]


def _json_in(reply: str) -> dict:
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    try:
        data = json.loads(match.group(0)) if match else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict) or not data:
        log.warning("LLM reply had no JSON object; keeping the offline draft")
        return {}
    return data


def _strings(value) -> list[str]:
    return [normalize_space(v) for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def _checked_summary(value, fallback: str) -> str:
    if isinstance(value, str) and 0 < len(value.strip()) <= MAX_SUMMARY_CHARS:
        return normalize_space(value)
    return fallback


def _checked_notes(value, count: int) -> tuple[str, ...]:
    notes = _strings(value)
    if len(notes) != count or any(len(n) > MAX_NOTE_CHARS for n in notes):
        if value is not None:
            log.warning("LLM notes don't match the %d chapters; the show notes list the titles only", count)
        return ()
    return tuple(n.strip("\"“” ") for n in notes)


def _checked_titles(value, fallback: Sequence[str]) -> tuple[str, ...]:
    titles = _strings(value)
    if len(titles) != len(fallback) or any(len(t) > MAX_TITLE_CHARS for t in titles):
        log.warning("LLM titles don't match the %d chapters; keeping the offline titles", len(fallback))
        return tuple(fallback)
    return tuple(t.strip("\"“” ") for t in titles)
