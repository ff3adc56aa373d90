"""Voice embeddings for windows of 16 kHz speech: one vector per window, close for the same voice.

Two embedders, both numpy only:
- "dvector": the GE2E speaker encoder whose trained weights ship inside the `resemblyzer`
  wheel on PyPI (pretrained.pt; a 3-layer LSTM over 40 mel bands). We read the checkpoint
  with a restricted unpickler and run the LSTM ourselves, so torch isn't needed (on 2 cores
  this is as fast as torch: ~2.7 s per 600 windows of 1.6 s). Nothing downloads.
- "mfcc": cepstral statistics, the weak fallback when resemblyzer isn't installed.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import logging
import pickle
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from ..errors import ModelError
from .audio import RATE

log = logging.getLogger("chaitime")

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
INSTALL_HINT = "pip install resemblyzer --no-deps (only the weights it ships are used; no torch needed)"


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


# --- dvector: the GE2E encoder shipped in the resemblyzer wheel -------------------------------
def _weights_path() -> Path | None:
    """resemblyzer's pretrained.pt, found without importing resemblyzer (its __init__ pulls
    librosa and webrtcvad, which we don't need)."""
    spec = importlib.util.find_spec("resemblyzer")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "pretrained.pt"
        if path.is_file():
            return path
    return None


# The checkpoint is torch's legacy (pre-zip) format: pickles of a magic number, a protocol
# version and sys info; the checkpoint, whose tensors name their storage by persistent id; the
# list of storage keys; then per key an int64 element count and the raw little-endian data.
MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                  "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?"}


# A tensor as the pickle describes it: its storage's bytes only come after the pickle.
class _TensorRef(NamedTuple):
    key: str
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor(storage: tuple[str, int], offset: int, size: tuple, stride: tuple, *_: object) -> _TensorRef:
    return _TensorRef(storage[0], storage[1] + offset, tuple(size), tuple(stride))


class _CheckpointUnpickler(pickle.Unpickler):
    """Builds only dicts, numbers and _TensorRefs: any other class in the file is refused, so
    loading runs no code from it (unlike torch.load(weights_only=False)) and needs no torch."""

    def __init__(self, file: BinaryIO, dtypes: dict[str, np.dtype]) -> None:
        super().__init__(file)
        self.dtypes = dtypes

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return np.dtype(STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the speaker encoder checkpoint")

    def persistent_load(self, pid: tuple) -> tuple[str, int]:
        kind, dtype, key, _location, _numel, view = pid
        if kind not in ("storage", b"storage") or not isinstance(dtype, np.dtype):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        self.dtypes[str(key)] = dtype
        return str(key), (view[1] if view else 0)  # a view starts `offset` elements into its root


@functools.cache
def _weights() -> dict[str, np.ndarray]:
    """lstm.* and linear.* of the checkpoint's model_state as float32 arrays, read once."""
    path = _weights_path()
    if path is None:
        raise ModelError(f"speaker embeddings need the resemblyzer weights: {INSTALL_HINT}")
    dtypes: dict[str, np.dtype] = {}
    try:
        with path.open("rb") as f:
            magic, version, _sys_info = (_CheckpointUnpickler(f, dtypes).load() for _ in range(3))
            if (magic, version) != (MAGIC, 1001):
                raise ValueError("not a torch legacy checkpoint")
            state = _CheckpointUnpickler(f, dtypes).load()["model_state"]
            wanted = {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}
            needed, flat = {ref.key for ref in wanted.values()}, {}
            for key in _CheckpointUnpickler(f, dtypes).load():
                count, size = int(np.frombuffer(f.read(8), "<i8")[0]), dtypes[key].itemsize
                if key in needed:
                    flat[key] = np.frombuffer(f.read(count * size), dtypes[key], count)
                else:
                    f.seek(count * size, 1)
            arrays = {name: _gather(flat[ref.key], ref).astype(np.float32) for name, ref in wanted.items()}
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, IndexError, KeyError, TypeError) as exc:
        raise ModelError(f"can't read the speaker encoder weights {path}: {exc}") from exc
    log.debug("speaker encoder loaded from %s", path)
    return arrays


def _gather(flat: np.ndarray, ref: _TensorRef) -> np.ndarray:
    """Elements offset + sum(index * stride); numpy's indexing checks each stays in bounds."""
    index = np.array(ref.offset, dtype=np.int64)
    for n, step in zip(ref.size, ref.stride):
        index = index[..., None] + step * np.arange(n, dtype=np.int64)
    return flat[index]


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
# Average cosine similarity above which raw windows count as one voice when estimating the
# speaker count. dvector: 0.65-0.80 all give the right count on the telephone sample, the
# synthesized interviews and single voices; 0.72 sits in the middle. mfcc has no such range
# (telephone DER 30-35%), so it is only the fallback without resemblyzer.
THRESHOLDS = {"dvector": 0.72, "mfcc": -0.2}
