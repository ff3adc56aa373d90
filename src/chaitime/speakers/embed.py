"""Voice embeddings for windows of 16 kHz speech: one vector per window, close for the same voice.

Two embedders:
- "dvector": the GE2E speaker encoder whose trained weights ship inside the `resemblyzer`
  wheel on PyPI (pretrained.pt; a 3-layer LSTM over 40 mel bands). We load the weights with
  torch into our own small module; nothing downloads. This is the only module importing torch.
- "mfcc": cepstral statistics computed with numpy alone, the fallback without torch.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .audio import RATE

log = logging.getLogger("chaitime")

N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
INSTALL_HINT = "pip install 'torch==2.*' resemblyzer --no-deps (torch's CPU build is enough)"


def available() -> list[str]:
    """Embedders usable here, best first."""
    have_torch = importlib.util.find_spec("torch") is not None
    return (["dvector"] if have_torch and _weights_path() is not None else []) + ["mfcc"]


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


@functools.cache
def _encoder():
    try:
        import torch
    except ImportError as exc:
        raise ModelError(f"speaker embeddings need torch: {INSTALL_HINT}") from exc
    weights = _weights_path()
    if weights is None:
        raise ModelError(f"speaker embeddings need the resemblyzer weights: {INSTALL_HINT}")

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(N_MELS, 256, 3, batch_first=True)
            self.linear = torch.nn.Linear(256, 256)

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / torch.linalg.norm(raw, dim=1, keepdim=True).clamp_min(1e-9)

    model = Encoder()
    state = torch.load(weights, map_location="cpu", weights_only=False)["model_state"]
    model.load_state_dict({k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))})
    model.eval()
    log.debug("speaker encoder loaded from %s", weights)
    return torch, model


def embed_dvector(windows: list[np.ndarray], batch: int = 64) -> np.ndarray:
    """GE2E d-vectors (256-d, unit length), windows batched by equal length."""
    torch, model = _encoder()
    out = np.zeros((len(windows), 256), dtype=np.float32)
    by_len: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        by_len.setdefault(len(w), []).append(i)
    with torch.inference_mode():
        for idx in by_len.values():
            for start in range(0, len(idx), batch):
                part = idx[start : start + batch]
                mels = np.stack([mel_power(windows[i]) for i in part])
                out[part] = model(torch.from_numpy(mels)).numpy()
    return out


EMBEDDERS = {"dvector": embed_dvector, "mfcc": embed_mfcc}
# Average cosine similarity above which raw windows count as one voice when estimating the
# speaker count. dvector: 0.65-0.80 all give the right count on the telephone sample, the
# synthesized interviews and single voices; 0.72 sits in the middle. mfcc has no such range
# (telephone DER 30-35%), so it is only the fallback without torch.
THRESHOLDS = {"dvector": 0.72, "mfcc": -0.2}
