"""openai-whisper (PyTorch) engine: the default when a CUDA GPU is usable. The only module that
imports torch and whisper for transcription."""

from __future__ import annotations


def installed() -> bool:
    from importlib.util import find_spec

    return find_spec("whisper") is not None and find_spec("torch") is not None


def cuda_available() -> bool:
    if not installed():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def version() -> str:
    from importlib.metadata import version as v

    return f"openai-whisper {v('openai-whisper')}, torch {v('torch')}"
