"""chaitime.toml: the show's settings. Loaded with defaults; every problem names file, key and fix."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import fsutil
from .errors import ChaitimeError, ConfigError

CONFIG_NAME = "chaitime.toml"
PLACEHOLDER_NAME = "Your Name"  # the template's author and host until the host fills them in
ENGINES = ("auto", "faster-whisper", "openai-whisper")
DEVICES = ("auto", "cpu", "cuda")
DENOISE = ("auto", "off", "light", "strong")  # [audio] denoise (media.sound)
DEHUM = ("auto", "off")


def default_text() -> str:
    """The commented default chaitime.toml shipped with the package."""
    return resources.files("chaitime").joinpath("chaitime.toml").read_text(encoding="utf-8")


DEFAULTS: dict[str, dict[str, Any]] = tomllib.loads(default_text())
# Keys that are commented out in the template but known.
OPTIONAL_KEYS = {
    "show": {"host_voice": str, "type": str, "copyright": str, "block": bool, "complete": bool, "license": str, "license_url": str,
             "funding_url": str, "funding_text": str, "txt": list, "person_img": dict, "person_href": dict,
             "timezone": str, "ai_content": str},
    "audio": {"target_lufs": (int, float), "intro": str, "outro": str, "silence_max_s": (int, float), "silence_keep_s": (int, float), "fillers": list},
    "transcribe": {"vocabulary": list},
    "draft": {"llm_url": str, "llm_model": str, "llm_api_key_env": str, "min_chapter_s": (int, float), "chapters": int},
    "publish": {"locked": bool, "guid": str, "new_feed_url": str, "apple_podcasts_url": str, "spotify_url": str},
    "scale": {"backend": str, "address": str, "jobs": int, "split": bool},
    "deploy": {"target": str, "endpoint_url": str, "git_branch": str},
}

# --- user text: checked before anything is written -------------------------------------------
# Lengths: a title Apple shows, a person's name, a show or episode description (Apple reads 4000 bytes).
MAX_TITLE = 255
MAX_NAME = 100
MAX_DESCRIPTION = 4000
MAX_TERM = 100  # a vocabulary term
MIN_CHAPTER_S = (10, 3600)  # [draft] min_chapter_s: YouTube ignores chapters under 10 s
MAX_CHAPTERS = 100  # [draft] chapters
# C0/C1 control characters (tab and, in multi-line text, newlines excepted), lone surrogates and
# non-characters: invalid in XML (the feed), invisible in the site, and what broke TOML writes.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")
# ISO 639-1 codes (and the two 639-3 codes Whisper knows); a region may follow: "en-us", "pt-BR".
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo
es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki
kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr
nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th
ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu haw yue
""".split())
_LANGUAGE = re.compile(r"^([a-z]{2,3})(-[a-z0-9]{2,8})*$", re.IGNORECASE)


def check_text(value: Any, where: str, *, max_len: int = MAX_TITLE, multiline: bool = False, required: bool = False,
               error: type[ChaitimeError] = ConfigError) -> str:
    """``value`` as text a user gave, or ``error`` (one line: what, where, the fix): not a string,
    control characters, line breaks in a one-line field, longer than ``max_len``, empty when ``required``."""
    if not isinstance(value, str):
        raise error(f"{where} must be text in quotes, not {value!r}.")
    bad = _CONTROL.search(value) or (None if multiline else _LINE_BREAKS.search(value))
    if bad:
        raise error(f"{where} contains the control character {bad.group()!r} at position {bad.start() + 1}. "
                    "Remove it (retype the text without pasting invisible characters).")
    if len(value) > max_len:
        raise error(f"{where} is {len(value)} characters long; keep it to {max_len}.")
    if required and not value.strip():
        raise error(f"{where} is empty. Give it a value.")
    return value


def check_names(value: Any, where: str, *, max_len: int = MAX_NAME, error: type[ChaitimeError] = ConfigError) -> list[str]:
    """A list of names or terms, each checked with ``check_text``."""
    if not isinstance(value, (list, tuple)):
        raise error(f"{where} must be a list of names in quotes, like [\"Ada Lovelace\"], not {value!r}.")
    return [check_text(v, f"{where} item {i + 1}", max_len=max_len, error=error) for i, v in enumerate(value)]


def check_language(value: Any, where: str, *, allow_auto: bool = False, error: type[ChaitimeError] = ConfigError) -> str:
    """An ISO 639-1 language code, optionally with a region ("en", "en-us"); "auto" where detection is allowed."""
    if allow_auto and value == "auto":
        return value
    m = _LANGUAGE.match(value) if isinstance(value, str) else None
    if not m or m.group(1).lower() not in ISO_639_1:
        hint = ' or "auto" to detect it' if allow_auto else ""
        raise error(f"{where} {value!r} is not an ISO 639 language code. Use a code like \"en\", \"de\" or \"pt-br\"{hint}.")
    return value


@dataclass(frozen=True)
class Settings:
    """The whole chaitime.toml merged over defaults, plus where it came from."""

    root: Path
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.data.get(section, {}).get(key, default)

    @property
    def show(self) -> dict[str, Any]:
        return self.data["show"]

    @property
    def hosts(self) -> list[str]:
        return list(self.show.get("hosts") or [self.show.get("author", "")])

    def resolve(self, relative: str | None) -> Path | None:
        """A path from the config, relative to the workspace root."""
        if not relative:
            return None
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.root / p


def check_options(*, title: str | None = None, guests=(), language: str | None = None, date: str | None = None) -> None:
    """Command-line text for an episode, checked before anything is written (InputError)."""
    from .errors import InputError

    if title is not None:
        check_text(title, "--title", required=True, error=InputError)
    check_names(list(guests), "--guest", error=InputError)
    if language is not None:
        check_language(language, "--language", allow_auto=True, error=InputError)
    if date is not None:
        try:
            check_date(date)
        except ValueError as exc:
            raise InputError(f"--date {date!r}: {exc}") from exc


EARLIEST_YEAR = 1900  # RSS dates before this are a typo (0226 for 2026), and feed readers mangle them


def check_date(text: str):
    """An episode date: YYYY-MM-DD, a real day, year 1900 or later (ValueError says what to write)."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(str(text))
    except ValueError:
        raise ValueError("use YYYY-MM-DD, e.g. 2026-11-23.") from None
    if day.year < EARLIEST_YEAR:
        raise ValueError(f"the year {day.year} is before {EARLIEST_YEAR} (a typo?); use YYYY-MM-DD, e.g. 2026-11-23.")
    return day


def check_time(text: str) -> str:
    """An episode's release time: HH:MM on a 24-hour clock (ValueError says what to write)."""
    if hasattr(text, "strftime"):  # a TOML local time (time = 09:00:00)
        text = text.strftime("%H:%M")
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(text).strip())
    if not m:
        raise ValueError('use HH:MM on a 24-hour clock, e.g. time = "09:00".')
    return f"{int(m[1]):02d}:{m[2]}"


def timezone(settings: Settings):
    """[show] timezone as a tzinfo (an IANA name such as "Europe/Berlin"; UTC when unset)."""
    import datetime as dt
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(settings.get("show", "timezone", "") or "").strip()
    if not name or name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{settings.path or CONFIG_NAME}: [show] timezone {name!r} is not a time zone. "
                          'Use an IANA name such as "Europe/Berlin" or "America/New_York".') from None


def init(folder: Path, *, host: str | None = None, title: str | None = None) -> tuple[Path, bool]:
    """Write the default chaitime.toml in ``folder`` unless one exists; returns (path, written).
    ``host``/``title`` fill in the template's placeholders (the demo names its sample host)."""
    path = Path(folder) / CONFIG_NAME
    if path.exists():
        return path, False
    text = default_text()
    if host:
        text = text.replace(_toml_str(PLACEHOLDER_NAME), _toml_str(host))
    if title:
        text = text.replace('"My Interview Show"', _toml_str(title))
    fsutil.write_text(path, text)
    for sub in ("episodes", "feeds"):
        (Path(folder) / sub).mkdir(parents=True, exist_ok=True)
    return path, True


_BOM = b"\xef\xbb\xbf"


def read_settings_text(path: Path) -> str:
    """chaitime.toml's text as the host saved it, a UTF-8 byte-order mark and CRLF line ends
    accepted (an editor on Windows writes both); anything else that isn't UTF-8 is named."""
    try:
        return path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}). Save it as UTF-8.") from exc


def edit_settings_text(path: Path, change: Callable[[str], str | None]) -> str | None:
    """Apply ``change`` to chaitime.toml's text (LF line ends) and write the result back the way
    the host's file was: its byte-order mark, its line ends and its mode kept, atomically.
    ``change`` returns None to leave the file alone; the new text (LF) is returned."""
    raw = path.read_bytes()
    new = change(read_settings_text(path))
    if new is None:
        return None
    out = new.replace("\n", "\r\n") if b"\r\n" in raw else new
    fsutil.write_bytes(path, (_BOM if raw.startswith(_BOM) else b"") + out.encode("utf-8"))
    return new


def load(root: Path) -> Settings:
    """Read ``root/chaitime.toml`` over the defaults and validate it."""
    path = Path(root) / CONFIG_NAME
    try:
        raw = tomllib.loads(read_settings_text(path))
    except FileNotFoundError:
        return Settings(Path(root), _merge({}), None)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the line it names, or delete the file and run `chaitime init`.") from exc
    _validate(path, raw)
    return Settings(Path(root), _merge(raw), path)


def _merge(raw: dict) -> dict[str, dict[str, Any]]:
    merged = {section: dict(values) for section, values in DEFAULTS.items()}
    for section, values in raw.items():
        merged.setdefault(section, {}).update(values)
    return merged


def _validate(path: Path, raw: dict) -> None:
    for section, values in raw.items():
        if section not in DEFAULTS and section not in OPTIONAL_KEYS:
            raise ConfigError(f"{path}: unknown section [{section}]. Known: {', '.join(f'[{s}]' for s in DEFAULTS)}.")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: {section} must be a [section] table.")
        known = {**{k: type(v) for k, v in DEFAULTS.get(section, {}).items()}, **OPTIONAL_KEYS.get(section, {})}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{path}: [{section}] unknown key {key!r}. Known keys: {', '.join(sorted(known))}.")
            _check_type(path, section, key, value, known[key])
    _check_choices(path, raw)


def _check_type(path: Path, section: str, key: str, value: Any, expected) -> None:
    expected = expected if isinstance(expected, tuple) else (expected,)
    if bool in expected and not isinstance(value, bool):
        raise ConfigError(f"{path}: [{section}] {key} must be true or false, not {value!r}.")
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        names = " or ".join({"str": "a string", "list": "a list", "int": "a number", "float": "a number", "bool": "true/false"}[t.__name__] for t in expected)
        raise ConfigError(f"{path}: [{section}] {key} must be {names}, not {value!r}.")


def _check_choices(path: Path, raw: dict) -> None:
    t = raw.get("transcribe", {})
    if t.get("engine", "auto") not in ENGINES:
        raise ConfigError(f"{path}: [transcribe] engine {t['engine']!r} is unknown. Use one of: {', '.join(ENGINES)}.")
    if t.get("device", "auto") not in DEVICES:
        raise ConfigError(f"{path}: [transcribe] device {t['device']!r} is unknown. Use one of: {', '.join(DEVICES)}.")
    if t.get("vocabulary"):
        from .asr.vocabulary import check

        check(t["vocabulary"], "[transcribe] vocabulary", where=str(path))
    for key, accepted in (("denoise", DENOISE), ("dehum", DEHUM)):
        value = raw.get("audio", {}).get(key)
        if value is not None and value not in accepted:
            raise ConfigError(f"{path}: [audio] {key} {value!r} is unknown. Use one of: {', '.join(accepted)}.")
    lufs = raw.get("audio", {}).get("target_lufs")
    if lufs is not None and not -30 <= lufs <= -10:
        raise ConfigError(f"{path}: [audio] target_lufs {lufs} is out of range. Podcasts use -16 (stereo) or -19 (mono).")
    show = raw.get("show", {})
    for key, limit in (("title", MAX_TITLE), ("author", MAX_NAME), ("email", MAX_NAME), ("category", MAX_NAME)):
        if key in show:
            check_text(show[key], f"{path}: [show] {key}", max_len=limit, required=key == "title")
    if "description" in show:
        check_text(show["description"], f"{path}: [show] description", max_len=MAX_DESCRIPTION, multiline=True, required=True)
    if "hosts" in show:
        check_names(show["hosts"], f"{path}: [show] hosts")
    if "language" in show:
        check_language(show["language"], f"{path}: [show] language")
    if "language" in t:
        check_language(t["language"], f"{path}: [transcribe] language", allow_auto=True)
    if "vocabulary" in t:
        check_names(t["vocabulary"], f"{path}: [transcribe] vocabulary", max_len=MAX_TERM)
    if "fillers" in raw.get("audio", {}):
        check_names(raw["audio"]["fillers"], f"{path}: [audio] fillers", max_len=MAX_TERM)
    scale = raw.get("scale", {})
    if scale.get("backend", "local") not in ("local", "ray"):
        raise ConfigError(f"{path}: [scale] backend {scale['backend']!r} is unknown. Use one of: local, ray.")
    if scale.get("jobs", 1) < 1:
        raise ConfigError(f"{path}: [scale] jobs must be 1 or more, not {scale['jobs']}.")
    d = raw.get("draft", {})
    if "min_chapter_s" in d and not MIN_CHAPTER_S[0] <= d["min_chapter_s"] <= MIN_CHAPTER_S[1]:
        raise ConfigError(f"{path}: [draft] min_chapter_s {d['min_chapter_s']} is out of range. Use {MIN_CHAPTER_S[0]}-{MIN_CHAPTER_S[1]} "
                          "seconds (YouTube needs 10; 30 is the default).")
    if "chapters" in d and not 1 <= d["chapters"] <= MAX_CHAPTERS:
        raise ConfigError(f"{path}: [draft] chapters {d['chapters']} is out of range. Use 1-{MAX_CHAPTERS}, or leave it out to let the content decide.")
    url = raw.get("publish", {}).get("base_url")
    if url is not None:
        from .publish.urls import check_base_url

        check_base_url(url, f"{path}: [publish] base_url")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
