"""Voice embeddings for windows of 16 kHz speech: one vector per window, close for the same voice.

Two embedders, both numpy only:
- "dvector": the GE2E speaker encoder (a 3-layer LSTM over 40 mel bands) trained by Resemble
  AI and published in the resemblyzer wheel (Apache-2.0, see data/NOTICE). Its model weights
  ship inside chaitime as data/ge2e.npz (scripts/convert_ge2e.py made it from the wheel's
  checkpoint); we run the LSTM with numpy, so torch isn't needed (on 2 cores this is as fast
  as torch: ~2.7 s per 600 windows of 1.6 s). Nothing downloads.
- "mfcc": cepstral statistics, the weak fallback for an install that lost the weights file
  (the speaker stage then says so: see speakers.attribute).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .audio import RATE

log = logging.getLogger("chaitime")

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WEIGHTS = Path(__file__).with_name("data") / "ge2e.npz"
INSTALL_HINT = "reinstall chaitime (pip install --force-reinstall chaitime); its package data holds the weights"


def available() -> list[str]:
    """Embedders usable here, best first."""
    return (["dvector"] if _weights_path() is not None else []) + ["mfcc"]


def embed(windows: list[np.ndarray], method: str) -> np.ndarray:
    """(n, d) float32 embeddings of float32 sample windows at 16 kHz. Batches may be embedded
    separately; pass the stacked result through ``finish`` once."""
    return EMBEDDERS[method](windows)


def finish(vectors: np.ndarray, method: str) -> np.ndarray:
    """Per-recording normalization: cepstral statistics are standardized over all windows."""
    if method != "mfcc" or len(vectors) < 2:
        return vectors
    return (vectors - vectors.mean(axis=0)) / (vectors.std(axis=0) + 1e-6)


# --- shared front end ------------------------------------------------------------------------
@functools.cache
def mel_filters(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = RATE) -> np.ndarray:
    """Triangular filters on the Slaney mel scale, area-normalized: (n_mels, n_fft//2+1)."""
    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate / 2), n_mels + 2))
    lower = (freqs[None, :] - edges[:-2, None]) / (edges[1:-1] - edges[:-2])[:, None]
    upper = (edges[2:, None] - freqs[None, :]) / (edges[2:] - edges[1:-1])[:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def _hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0), linear)


def _mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


def mel_power(wave: np.ndarray) -> np.ndarray:
    """Mel power spectrogram (frames, N_MELS) of a float waveform, centered frames."""
    padded = np.pad(wave, N_FFT // 2)
    n = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(max(n, 1))[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    spec = np.abs(np.fft.rfft(padded[np.minimum(idx, len(padded) - 1)] * window, axis=1)) ** 2
    return (spec.astype(np.float32) @ mel_filters().T).astype(np.float32)


# --- mfcc: numpy only ------------------------------------------------------------------------
def embed_mfcc(windows: list[np.ndarray]) -> np.ndarray:
    """Mean and spread of 19 cepstral coefficients per window (standardized later by ``finish``)."""
    dct = _dct_matrix(20, N_MELS)[1:]
    feats = []
    for w in windows:
        cep = np.log(mel_power(w) + 1e-8) @ dct.T
        feats.append(np.concatenate([cep.mean(axis=0), cep.std(axis=0)]))
    return np.array(feats, dtype=np.float32).reshape(len(windows), -1)


@functools.cache
def _dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    k, n = np.arange(n_out)[:, None], np.arange(n_in)[None, :]
    return np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)).astype(np.float32)


# --- dvector: the GE2E encoder, weights shipped as package data -----------------------------
def _weights_path() -> Path | None:
    """speakers/data/ge2e.npz (made by scripts/convert_ge2e.py), None if the install lacks it."""
    return WEIGHTS if WEIGHTS.is_file() else None


@functools.cache
def _weights() -> dict[str, np.ndarray]:
    """lstm.* and linear.* weights as float32 arrays, read once."""
    path = _weights_path()
    if path is None:
        raise ModelError(f"speaker embeddings need {WEIGHTS}: {INSTALL_HINT}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k].astype(np.float32) for k in data.files if k.startswith(("lstm.", "linear."))}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"can't read the speaker encoder weights {path}: {exc}. {INSTALL_HINT}") from exc
    log.debug("speaker encoder loaded from %s", path)
    return arrays


@functools.cache
def _layers() -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Per layer (W_ih, W_hh, b_ih + b_hh) with gates reordered from torch's i,f,g,o to
    i,f,o,g and the sigmoid gates' rows halved: sigmoid(x) = (tanh(x/2) + 1) / 2, so one tanh
    over all four gates does it. Halving is exact in binary floating point."""
    w = _weights()
    hidden = w["linear.weight"].shape[1]
    order = np.r_[0 : 2 * hidden, 3 * hidden : 4 * hidden, 2 * hidden : 3 * hidden]
    scale = np.r_[np.full(3 * hidden, 0.5, np.float32), np.ones(hidden, np.float32)]
    layers, n = [], 0
    while f"lstm.weight_ih_l{n}" in w:
        w_ih, w_hh = (w[f"lstm.weight_{k}_l{n}"][order] * scale[:, None] for k in ("ih", "hh"))
        bias = (w[f"lstm.bias_ih_l{n}"] + w[f"lstm.bias_hh_l{n}"])[order] * scale
        layers.append((w_ih, w_hh, bias[:, None]))
        n += 1
    return layers, w["linear.weight"], w["linear.bias"]


def _encode(mels: list[np.ndarray]) -> np.ndarray:
    """Mel power sequences (frames_i, 40), longest first -> (batch, 256) unit d-vectors: the
    LSTM's hidden state at each sequence's own last frame, linear, ReLU, L2 norm. Shorter
    sequences are zero-padded; a layer's state at step t depends only on steps <= t, so each
    sequence's result is exact. Features are (time, feature, batch) so that every gate and
    every step is one contiguous block, and each step works in place, allocating nothing."""
    layers, w_out, b_out = _layers()
    lengths = [len(m) for m in mels]
    steps, batch = lengths[0], len(mels)
    seq = np.zeros((steps, N_MELS, batch), np.float32)
    for j, m in enumerate(mels):
        seq[: len(m), :, j] = m
    ends: dict[int, list[int]] = {}
    for j, n in enumerate(lengths):
        ends.setdefault(n - 1, []).append(j)
    final = np.empty((layers[-1][1].shape[1], batch), np.float32)
    for n, (w_ih, w_hh, bias) in enumerate(layers):
        last = n == len(layers) - 1
        size = w_hh.shape[1]
        proj = np.matmul(w_ih, seq)  # (time, 4 * size, batch): all input projections at once
        proj += bias
        seq = np.empty((1 if last else steps, size, batch), np.float32)
        h, c = np.zeros((size, batch), np.float32), np.zeros((size, batch), np.float32)
        gates, tmp = np.empty((4 * size, batch), np.float32), np.empty((size, batch), np.float32)
        sig, i, f, o, g = gates[: 3 * size], *(gates[k * size : (k + 1) * size] for k in range(4))
        for t in range(steps):
            np.matmul(w_hh, h, out=gates)
            gates += proj[t]
            np.tanh(gates, out=gates)
            sig *= 0.5
            sig += 0.5
            c *= f
            np.multiply(i, g, out=tmp)
            c += tmp
            np.tanh(c, out=tmp)
            h = seq[0 if last else t]  # the last layer keeps only the states where sequences end
            np.multiply(o, tmp, out=h)
            if last and t in ends:
                final[:, ends[t]] = h[:, ends[t]]
    raw = np.maximum(final.T @ w_out.T + b_out, 0.0)
    return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)


def embed_dvector(windows: list[np.ndarray], batch: int = 128) -> np.ndarray:
    """GE2E d-vectors (256-d, unit length). Windows are batched longest first, so a batch
    holds windows of about one length whatever the mix (a recording's short regions give
    many lengths; batching by exact length ran batches of ~8 and took twice as long)."""
    out = np.zeros((len(windows), 256), dtype=np.float32)
    order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
    for start in range(0, len(order), batch):
        part = order[start : start + batch]
        out[part] = _encode([mel_power(windows[i]) for i in part])
    return out


EMBEDDERS = {"dvector": embed_dvector, "mfcc": embed_mfcc}
