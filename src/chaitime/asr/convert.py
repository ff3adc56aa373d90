"""Read a faster-whisper (CTranslate2) Whisper model folder as openai-whisper weights, so the GPU
engine runs offline from the same model packages as the CPU engine. numpy only: the caller
(openai_engine) turns the arrays into torch tensors.

CTranslate2's model.bin layout (ctranslate2/python/ctranslate2/specs/model_spec.py, ``_serialize``):
u32 version, string name, u32 revision, u32 count, then per variable: string name, u8 rank,
u32 shape[rank], u8 dtype, u32 byte count, bytes; then u32 count of (alias, target) strings.
Strings are a u16 length (including a trailing NUL) and the bytes."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import ModelError

# CTranslate2 DataType ids; 5 is bfloat16 (no numpy type: widened to float32 by hand).
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}


@dataclass(frozen=True)
class OpenAIWeights:
    dims: dict[str, int]  # whisper.model.ModelDimensions fields
    state: dict[str, np.ndarray]  # whisper.model.Whisper state_dict, float16
    alignment_heads: tuple[tuple[int, int], ...]  # (layer, head) pairs for word timing


def read_ct2(model_bin: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 model.bin, aliases resolved."""
    with open(model_bin, "rb") as f:
        version = _u(f, "I")
        if version < 5:
            raise ModelError(f"{model_bin}: CTranslate2 model format {version} is too old; re-convert it with a recent ct2-transformers-converter.")
        _string(f), _u(f, "I")  # model name, revision
        variables = dict(_variable(f) for _ in range(_u(f, "I")))
        aliases = dict((_string(f), _string(f)) for _ in range(_u(f, "I")))
    variables.update({alias: variables[target] for alias, target in aliases.items()})
    return variables


def openai_weights(model_dir: Path) -> OpenAIWeights:
    """Map a faster-whisper model folder onto openai-whisper's parameter names."""
    model_bin = Path(model_dir) / "model.bin"
    if not model_bin.is_file():
        raise ModelError(f"{model_dir}: no model.bin; give a faster-whisper model folder.")
    v = read_ct2(model_bin)
    width = int(v["encoder/conv1/weight"].shape[0])
    n_audio, n_text = _layers(v, "encoder"), _layers(v, "decoder")
    state = {**_encoder(v, width, n_audio), **_decoder(v, width, n_text)}
    dims = dict(
        n_mels=v["encoder/conv1/weight"].shape[1], n_audio_ctx=v["encoder/position_encodings/encodings"].shape[0],
        n_audio_state=width, n_audio_head=int(v["encoder/num_heads"]), n_audio_layer=n_audio,
        n_vocab=v["decoder/embeddings/weight"].shape[0], n_text_ctx=v["decoder/position_encodings/encodings"].shape[0],
        n_text_state=width, n_text_head=int(v["decoder/num_heads"]), n_text_layer=n_text,
    )
    return OpenAIWeights({k: int(x) for k, x in dims.items()}, state, _alignment_heads(Path(model_dir)))


def _encoder(v: dict, width: int, layers: int) -> dict[str, np.ndarray]:
    out = {f"encoder.{n}.{p}": v[f"encoder/{n}/{p}"] for n in ("conv1", "conv2") for p in ("weight", "bias")}
    out["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    out.update(_norm("encoder.ln_post", v, "encoder/layer_norm"))
    for i in range(layers):
        out.update(_block(v, f"encoder.blocks.{i}", f"encoder/layer_{i}", width, cross=False))
    return _half(out)


def _decoder(v: dict, width: int, layers: int) -> dict[str, np.ndarray]:
    out = {"decoder.token_embedding.weight": v["decoder/embeddings/weight"],
           "decoder.positional_embedding": v["decoder/position_encodings/encodings"]}
    out.update(_norm("decoder.ln", v, "decoder/layer_norm"))
    for i in range(layers):
        out.update(_block(v, f"decoder.blocks.{i}", f"decoder/layer_{i}", width, cross=True))
    return _half(out)


def _block(v: dict, dst: str, src: str, width: int, *, cross: bool) -> dict[str, np.ndarray]:
    """One residual block. CTranslate2 fuses q/k/v (self) and k/v (cross) into one matrix."""
    q, k, val = (slice(i * width, (i + 1) * width) for i in range(3))
    sa, out = f"{src}/self_attention", {}
    out.update(_linear(f"{dst}.attn.query", v, f"{sa}/linear_0", q))
    out.update(_linear(f"{dst}.attn.key", v, f"{sa}/linear_0", k, bias=False))
    out.update(_linear(f"{dst}.attn.value", v, f"{sa}/linear_0", val))
    out.update(_linear(f"{dst}.attn.out", v, f"{sa}/linear_1"))
    out.update(_norm(f"{dst}.attn_ln", v, f"{sa}/layer_norm"))
    if cross:
        ca = f"{src}/attention"
        out.update(_linear(f"{dst}.cross_attn.query", v, f"{ca}/linear_0"))
        out.update(_linear(f"{dst}.cross_attn.key", v, f"{ca}/linear_1", q, bias=False))
        out.update(_linear(f"{dst}.cross_attn.value", v, f"{ca}/linear_1", k))
        out.update(_linear(f"{dst}.cross_attn.out", v, f"{ca}/linear_2"))
        out.update(_norm(f"{dst}.cross_attn_ln", v, f"{ca}/layer_norm"))
    out.update(_linear(f"{dst}.mlp.0", v, f"{src}/ffn/linear_0"))
    out.update(_linear(f"{dst}.mlp.2", v, f"{src}/ffn/linear_1"))
    out.update(_norm(f"{dst}.mlp_ln", v, f"{src}/ffn/layer_norm"))
    return out


def _linear(dst: str, v: dict, src: str, rows: slice = slice(None), *, bias: bool = True) -> dict[str, np.ndarray]:
    if f"{src}/weight_scale" in v:
        raise ModelError(f"{src}: this model folder is quantized (int8); the GPU engine needs a float16/float32 faster-whisper model.")
    out = {f"{dst}.weight": v[f"{src}/weight"][rows]}
    if bias:
        out[f"{dst}.bias"] = v[f"{src}/bias"][rows]
    return out


def _norm(dst: str, v: dict, src: str) -> dict[str, np.ndarray]:
    return {f"{dst}.weight": v[f"{src}/gamma"], f"{dst}.bias": v[f"{src}/beta"]}


def _half(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(a, dtype=np.float16) for k, a in arrays.items()}


def _layers(v: dict, side: str) -> int:
    return len({m.group(1) for k in v if (m := re.match(rf"{side}/layer_(\d+)/", k))})


def _alignment_heads(model_dir: Path) -> tuple[tuple[int, int], ...]:
    config = model_dir / "config.json"
    if not config.is_file():
        return ()
    heads = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads") or []
    return tuple((int(layer), int(head)) for layer, head in heads)


def _u(f: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    return struct.unpack(fmt, f.read(size))[0]


def _string(f: BinaryIO) -> str:
    return f.read(_u(f, "H"))[:-1].decode("utf-8")


def _variable(f: BinaryIO) -> tuple[str, np.ndarray]:
    name = _string(f)
    rank = _u(f, "B")
    shape = struct.unpack(f"{rank}I", f.read(4 * rank))
    dtype, data = _DTYPES[_u(f, "B")], f.read(_u(f, "I"))
    if dtype == "bfloat16":
        array = (np.frombuffer(data, np.uint16).astype(np.uint32) << 16).view(np.float32)
    else:
        array = np.frombuffer(data, dtype)
    return name, array.reshape(shape)
