"""chaitime.toml: the show's settings. Loaded with defaults; every problem names file, key and fix."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import fsutil
from .errors import ConfigError

CONFIG_NAME = "chaitime.toml"
PLACEHOLDER_NAME = "Your Name"  # the template's author and host until the host fills them in
ENGINES = ("auto", "faster-whisper", "openai-whisper")
DEVICES = ("auto", "cpu", "cuda")


def default_text() -> str:
    """The commented default chaitime.toml shipped with the package."""
    return resources.files("chaitime").joinpath("chaitime.toml").read_text(encoding="utf-8")


DEFAULTS: dict[str, dict[str, Any]] = tomllib.loads(default_text())
# Keys that are commented out in the template but known.
OPTIONAL_KEYS = {
    "show": {"host_voice": str, "type": str},
    "audio": {"target_lufs": (int, float), "intro": str, "outro": str, "silence_max_s": (int, float), "silence_keep_s": (int, float), "fillers": list},
    "transcribe": {"vocabulary": list},
    "draft": {"llm_url": str, "llm_model": str, "llm_api_key_env": str},
    "publish": {"site_title": str, "locked": bool},
}


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


def load(root: Path) -> Settings:
    """Read ``root/chaitime.toml`` over the defaults and validate it."""
    path = Path(root) / CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(Path(root), _merge({}), None)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}). Fix the line it names, or delete the file and run `chaitime init`.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text. Save it as UTF-8.") from exc
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
    lufs = raw.get("audio", {}).get("target_lufs")
    if lufs is not None and not -30 <= lufs <= -10:
        raise ConfigError(f"{path}: [audio] target_lufs {lufs} is out of range. Podcasts use -16 (stereo) or -19 (mono).")
    url = raw.get("publish", {}).get("base_url")
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise ConfigError(f"{path}: [publish] base_url {url!r} must start with https:// (or http://).")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
