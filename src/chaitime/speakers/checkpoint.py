"""Read the GE2E speaker encoder's weights out of resemblyzer's pretrained.pt without torch.

Only scripts/convert_ge2e.py (which makes the shipped speakers/data/ge2e.npz) and the tests use
this: at run time chaitime loads the .npz. The checkpoint is torch's legacy (pre-zip) format:
pickles of a magic number, a protocol version and sys info; the checkpoint, whose tensors name
their storage by persistent id; the list of storage keys; then per key an int64 element count
and the raw little-endian data.
"""

from __future__ import annotations

import collections
import pickle
from typing import BinaryIO, NamedTuple

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                  "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?"}
PREFIXES = ("lstm.", "linear.")  # the model; the checkpoint also holds optimizer state


# A tensor as the pickle describes it: its storage's bytes only come after the pickle.
class _TensorRef(NamedTuple):
    key: str
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor(storage: tuple[str, int], offset: int, size: tuple, stride: tuple, *_: object) -> _TensorRef:
    return _TensorRef(storage[0], storage[1] + offset, tuple(size), tuple(stride))


class CheckpointUnpickler(pickle.Unpickler):
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


def read_model_weights(f: BinaryIO) -> dict[str, np.ndarray]:
    """lstm.* and linear.* of the checkpoint's model_state as float32 arrays. ``f`` reads the
    checkpoint from its start (a file, or a member of the wheel's zip: seeking is not needed).
    Raises ValueError (or pickle.UnpicklingError) on anything unexpected."""
    dtypes: dict[str, np.dtype] = {}
    magic, version, _sys_info = (CheckpointUnpickler(f, dtypes).load() for _ in range(3))
    if (magic, version) != (MAGIC, 1001):
        raise ValueError("not a torch legacy checkpoint")
    state = CheckpointUnpickler(f, dtypes).load()["model_state"]
    wanted = {k: v for k, v in state.items() if k.startswith(PREFIXES)}
    needed, flat = {ref.key for ref in wanted.values()}, {}
    for key in CheckpointUnpickler(f, dtypes).load():
        count, size = int(np.frombuffer(f.read(8), "<i8")[0]), dtypes[key].itemsize
        data = f.read(count * size)  # read, not seek: zip members don't seek cheaply
        if len(data) != count * size:
            raise ValueError("the checkpoint ends early")
        if key in needed:
            flat[key] = np.frombuffer(data, dtypes[key], count)
    return {name: _gather(flat[ref.key], ref).astype(np.float32) for name, ref in wanted.items()}


def _gather(flat: np.ndarray, ref: _TensorRef) -> np.ndarray:
    """Elements offset + sum(index * stride); numpy's indexing checks each stays in bounds."""
    index = np.array(ref.offset, dtype=np.int64)
    for n, step in zip(ref.size, ref.stride):
        index = index[..., None] + step * np.arange(n, dtype=np.int64)
    return flat[index]
