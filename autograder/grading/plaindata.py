"""Plain data: the only values that cross from a student's kernel to the grader, and their one format.

Plain data are ``None``, ``bool``, ``int``, ``float``, ``str``, lists, sets of
hashable plain values, dicts with ``str`` keys, and NumPy arrays of booleans,
integers and floats (strings too, in the kernel's own process). Nothing with
methods a student wrote gets through: a value is rebuilt from builtin types,
never kept by reference and never unpickled, so an always-true ``__eq__``
cannot reach a checker.

Two halves, one format:

- **kernel side** -- :func:`to_plain` turns a value computed in the student's
  kernel into plain data or raises CourseError (sets become sorted lists,
  tuples lists, NumPy scalars Python numbers, arrays copies). The nbgrader
  hidden tests (:func:`autograder.grading.hidden.check_in_kernel`) grade what
  it returns in the kernel's own process. The sandboxed runner
  (``autograder/_runner.py``, standalone: it runs where ``autograder`` is not
  importable) writes the same values as JSON for the wire, lists as JSON arrays
  and everything else that is not a JSON scalar tagged: ``{"__set__": [...]}``,
  ``{"__dict__": [[key, value], ...]}`` and ``{"__ndarray__": {"dtype",
  "shape", "data"}}`` (base64 of the raw bytes).
- **grader side** -- :func:`decode` is the trust boundary for that JSON: it
  accepts exactly these shapes, bounded in size, depth, digits and dtypes
  (``np.frombuffer`` for a short list of numeric dtypes), and raises
  :class:`PlainDataError` for anything else. The pipeline then passes decoded
  values through :func:`to_plain` too, so both routes hand the checkers the
  same form.

:func:`raised` is the plain value standing for an expression that raised.

Examples
--------
>>> decode('{"__set__": ["B", "C"]}') == frozenset({"B", "C"})
True
>>> decode('[1, 2.5, "x", null]')
[1, 2.5, 'x', None]
>>> to_plain({"b", "a"}), to_plain((1, 2.5)), to_plain(np.float32(0.5))
(['a', 'b'], [1, 2.5], 0.5)
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, Literal

import numpy as np

from course.errors import CourseError

__all__ = ["PlainDataError", "decode", "to_plain", "raised", "MAX_VALUE_BYTES"]

MAX_VALUE_BYTES = 16 << 20
MAX_DEPTH = 20
#: digits of an integer literal: int() is quadratic in them, and sys.set_int_max_str_digits may be lifted
MAX_INT_DIGITS = 4300
#: characters of a float literal (the runner writes repr(float), at most 24)
MAX_FLOAT_CHARS = 400
_ORDERS: tuple[Literal["<"], Literal[">"]] = ("<", ">")
_DTYPES = {np.dtype(c).newbyteorder(order).str for c in "?bhilqBHILQefd" for order in _ORDERS} | {"|b1", "|i1", "|u1"}


class PlainDataError(CourseError):
    """A graded value that is not plain data (or a malformed message)."""


def decode(text: str | bytes) -> Any:
    """Parse one value sent by the runner; raise PlainDataError for anything else."""
    if len(text) > MAX_VALUE_BYTES:
        raise PlainDataError(f"value larger than {MAX_VALUE_BYTES >> 20} MB")
    try:
        raw = json.loads(text, parse_int=_int, parse_float=_float)
    except PlainDataError:
        raise
    except (ValueError, RecursionError) as exc:
        raise PlainDataError(f"malformed value ({exc.__class__.__name__})") from None
    return _decode(raw, 0)


def _int(literal: str) -> int:
    """A JSON integer, refused beyond :data:`MAX_INT_DIGITS` digits whatever the interpreter's own limit."""
    if len(literal) - literal.startswith("-") > MAX_INT_DIGITS:
        raise PlainDataError(f"an integer with more than {MAX_INT_DIGITS} digits")
    return int(literal)


def _float(literal: str) -> float:
    """A JSON float (linear in its length; any exponent gives inf or 0.0), at most :data:`MAX_FLOAT_CHARS`."""
    if len(literal) > MAX_FLOAT_CHARS:
        raise PlainDataError(f"a number written with more than {MAX_FLOAT_CHARS} digits")
    return float(literal)


def _decode(obj: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise PlainDataError("value nested too deeply")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is list:
        return [_decode(v, depth + 1) for v in obj]
    if type(obj) is dict and len(obj) == 1:
        ((tag, payload),) = obj.items()
        if tag == "__set__" and type(payload) is list:
            try:
                return frozenset(_hashable(_decode(v, depth + 1)) for v in payload)
            except TypeError:
                raise PlainDataError("set of unhashable values") from None
        if tag == "__dict__" and type(payload) is list:
            out: dict[str, Any] = {}
            for pair in payload:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise PlainDataError("malformed dict")
                out[pair[0]] = _decode(pair[1], depth + 1)
            return out
        if tag == "__ndarray__" and type(payload) is dict:
            return _array(payload)
    raise PlainDataError("unknown value shape")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, np.ndarray):
        return tuple(_hashable(v) for v in value.tolist())
    if isinstance(value, dict):
        raise TypeError("dict in a set")
    return value


def _array(payload: dict[str, Any]) -> np.ndarray:
    dtype, shape, data = payload.get("dtype"), payload.get("shape"), payload.get("data")
    if type(dtype) is not str or dtype not in _DTYPES:
        raise PlainDataError(f"array dtype {dtype!r} is not a plain numeric type")
    if (
        type(shape) is not list
        or len(shape) > 32
        or not all(type(n) is int and 0 <= n <= MAX_VALUE_BYTES for n in shape)
    ):  # (0, 10**400): no
        raise PlainDataError("malformed array shape")
    if type(data) is not str:
        raise PlainDataError("malformed array data")
    try:
        buffer = base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise PlainDataError("malformed array data") from None
    dt = np.dtype(dtype)
    if len(buffer) != math.prod(shape) * dt.itemsize:
        raise PlainDataError("array data does not match its shape")
    return np.frombuffer(buffer, dtype=dt).reshape(shape).astype(dt.newbyteorder("="), copy=True)


# ------------------------------------------------------------------ the kernel side


def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a kernel value to plain data, refusing anything with behaviour of its own.

    >>> to_plain([np.int64(3), {"k": (1.5,)}])
    [3, {'k': [1.5]}]
    """
    if _depth > MAX_DEPTH:
        raise CourseError("value nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if type(value) is np.ndarray:
        if value.dtype.kind not in "biufU":
            raise CourseError(f"array of dtype {value.dtype} is not plain data")
        return np.array(value, copy=True)
    if type(value) in (list, tuple):
        return [to_plain(v, _depth + 1) for v in value]
    if type(value) in (set, frozenset):
        items = [to_plain(v, _depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise CourseError("dict keys must be strings")
        return {k: to_plain(v, _depth + 1) for k, v in value.items()}
    raise CourseError(f"a {type(value).__name__} is not plain data (return numbers, strings, lists or arrays)")


def raised(exc: BaseException) -> dict[str, str]:
    """The plain value standing for an expression that raised ``exc``.

    >>> raised(ValueError("boom"))
    {'error': 'ValueError: boom'}
    """
    return {"error": f"{type(exc).__name__}: {exc}"}
