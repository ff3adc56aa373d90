"""What every engine shares: its options and the device choice. Each engine (faster_whisper.py,
openai_whisper.py) offers ``transcribe(audio, language=)``, ``check(language)`` and
``decode_spans(...)`` on 16 kHz float32 audio, returning Segments on that audio's own timeline;
the caller offsets chunks and owns cleanup."""

from __future__ import annotations

import functools
import glob
import os
import sys
from dataclasses import dataclass

from ..config import DEVICES as DEVICE_CHOICES
from ..config import ENGINES as ENGINE_CHOICES
from ..errors import ModelError

ENGINES = tuple(e for e in ENGINE_CHOICES if e != "auto")


@dataclass(frozen=True)
class AsrOptions:
    model: str = "tiny.en"
    engine: str = "auto"  # auto | faster-whisper | openai-whisper
    device: str = "auto"  # auto | cpu | cuda
    language: str | None = "en"  # None or "auto": detect
    vocabulary: tuple[str, ...] = ()  # spellings applied after decoding (vocabulary.correct)
    batch_size: int | None = None
    allow_download: bool = True

    def __post_init__(self) -> None:
        """Bad options fail here, before any audio is decoded: a vocabulary entry that is empty
        or too long (``--vocabulary``), and ``--language auto`` with an English-only model name."""
        from .vocabulary import check

        check(self.vocabulary, "--vocabulary")
        if self.lang is None and english_only_name(self.model):
            raise ModelError(english_only_auto(self.model))

    @property
    def lang(self) -> str | None:
        return None if self.language in (None, "", "auto") else self.language


def english_only_name(model: str) -> bool:
    """A model name (or folder name) that says English-only: tiny.en, base.en, faster-whisper-small.en."""
    return model.rstrip("/\\").lower().endswith(".en")


def english_only_auto(model: str) -> str:
    return (f"--language auto: {model} is an English-only model; it can't detect or transcribe other languages. "
            "Use a multilingual model (--model base or --model small), or --language en.")


@functools.cache
def cuda_available() -> bool:
    """A usable CUDA device, asked of CTranslate2 (cheap) and then of torch if it is installed.
    A Linux machine without NVIDIA device nodes has none: answered without importing torch
    (1.8 s here, before any work could start)."""
    if sys.platform.startswith("linux") and not (glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/dxg")):
        return False
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return True
    except Exception:  # noqa: BLE001 - no CUDA runtime
        pass
    from . import openai_engine

    return openai_engine.cuda_available()


def choose(engine: str, device: str) -> tuple[str, str]:
    """(engine, device) from the user's auto/explicit choices."""
    if engine not in ENGINE_CHOICES:
        raise ModelError(f"unknown engine {engine!r}. Use one of: {', '.join(ENGINE_CHOICES)}.")
    if device not in DEVICE_CHOICES:
        raise ModelError(f"unknown device {device!r}. Use one of: {', '.join(DEVICE_CHOICES)}.")
    has_cuda = cuda_available() if device in ("auto", "cuda") else False
    if device == "cuda" and not has_cuda:
        raise ModelError("--device cuda: no usable CUDA GPU found (no driver or no GPU build of CTranslate2/torch). Use --device cpu or auto.")
    device = device if device != "auto" else ("cuda" if has_cuda else "cpu")
    from . import openai_engine

    if engine == "auto":
        engine = "openai-whisper" if device == "cuda" and openai_engine.installed() else "faster-whisper"
    elif engine == "openai-whisper" and not openai_engine.installed():
        # Asked for before any folder is made (pipeline.transcribe checks the options first).
        raise ModelError('engine openai-whisper is not installed. Install it with `pip install "chaitime[gpu]"` '
                         "(PyTorch and openai-whisper), or use --engine faster-whisper.")
    return engine, device
