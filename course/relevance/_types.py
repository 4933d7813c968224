"""The array types the engine's annotations use (NumPy's own typing; no code runs here).

Arrays of the engine are floating point: float64 by default, and float32 flows through unchanged
(a float32 model on float32 input computes in float32), so the alias names the floating kind, not
one width. Arguments that accept anything array-like (lists, nested lists, scalars) are
:data:`numpy.typing.ArrayLike`.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ArrayLike", "FloatArray", "IndexArray", "IntArray", "Shape"]

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
IndexArray: TypeAlias = npt.NDArray[np.int64]
Shape: TypeAlias = tuple[int, ...]
IntArray: TypeAlias = npt.NDArray[np.integer[Any]]
