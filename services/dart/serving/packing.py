"""Token ids and log-probs travel as packed little-endian bytes: DESIGN.md measured 2.4x
faster than repeated proto fields for 32 x 512 ids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

INT32 = np.dtype("<i4")
FLOAT32 = np.dtype("<f4")


def pack_ids(token_ids: Sequence[int] | np.ndarray) -> bytes:
    return np.asarray(token_ids, dtype=INT32).tobytes()


def pack_floats(values: Sequence[float] | np.ndarray) -> bytes:
    return np.asarray(values, dtype=FLOAT32).tobytes()


def unpack_ids(packed: bytes) -> np.ndarray:
    """Read-only int32 view of the bytes (no copy)."""
    return np.frombuffer(packed, dtype=INT32)


def unpack_floats(packed: bytes) -> np.ndarray:
    return np.frombuffer(packed, dtype=FLOAT32)
