"""Decode graded values sent by the sandboxed runner — plain data only.

The runner encodes each graded value as JSON in which lists are JSON arrays
and everything else that is not a JSON scalar is tagged: ``{"__set__": [...]}``,
``{"__dict__": [[key, value], ...]}`` and ``{"__ndarray__": {"dtype", "shape",
"data"}}`` (base64 of the raw bytes). :func:`decode` is the trust boundary: it
accepts exactly these shapes, rebuilds arrays with ``np.frombuffer`` for a short
list of numeric dtypes and never unpickles, so nothing that comes out of it has
methods the student wrote (an always-true ``__eq__`` cannot cross).

Examples
--------
>>> decode('{"__set__": ["B", "C"]}') == frozenset({"B", "C"})
True
>>> decode('[1, 2.5, "x", null]')
[1, 2.5, 'x', None]
"""
from __future__ import annotations

import base64
import binascii
import json
import math

import numpy as np

from course.errors import CourseError

__all__ = ["PlainDataError", "decode", "MAX_VALUE_BYTES"]

MAX_VALUE_BYTES = 16 << 20
MAX_DEPTH = 20
#: digits of an integer literal: int() is quadratic in them, and sys.set_int_max_str_digits may be lifted
MAX_INT_DIGITS = 4300
#: characters of a float literal (the runner writes repr(float), at most 24)
MAX_FLOAT_CHARS = 400
_DTYPES = {np.dtype(c).newbyteorder(order).str for c in "?bhilqBHILQefd" for order in "<>"} | {"|b1", "|i1", "|u1"}


class PlainDataError(CourseError):
    """A graded value that is not plain data (or a malformed message)."""


def decode(text: str | bytes):
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


def _decode(obj, depth):
    if depth > MAX_DEPTH:
        raise PlainDataError("value nested too deeply")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is list:
        return [_decode(v, depth + 1) for v in obj]
    if type(obj) is dict and len(obj) == 1:
        (tag, payload), = obj.items()
        if tag == "__set__" and type(payload) is list:
            try:
                return frozenset(_hashable(_decode(v, depth + 1)) for v in payload)
            except TypeError:
                raise PlainDataError("set of unhashable values") from None
        if tag == "__dict__" and type(payload) is list:
            out = {}
            for pair in payload:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise PlainDataError("malformed dict")
                out[pair[0]] = _decode(pair[1], depth + 1)
            return out
        if tag == "__ndarray__" and type(payload) is dict:
            return _array(payload)
    raise PlainDataError("unknown value shape")


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, np.ndarray):
        return tuple(_hashable(v) for v in value.tolist())
    if isinstance(value, dict):
        raise TypeError("dict in a set")
    return value


def _array(payload: dict) -> np.ndarray:
    dtype, shape, data = payload.get("dtype"), payload.get("shape"), payload.get("data")
    if type(dtype) is not str or dtype not in _DTYPES:
        raise PlainDataError(f"array dtype {dtype!r} is not a plain numeric type")
    if (type(shape) is not list or len(shape) > 32
            or not all(type(n) is int and 0 <= n <= MAX_VALUE_BYTES for n in shape)):  # (0, 10**400): no
        raise PlainDataError("malformed array shape")
    try:
        buffer = base64.b64decode(data, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise PlainDataError("malformed array data") from None
    dt = np.dtype(dtype)
    if len(buffer) != math.prod(shape) * dt.itemsize:
        raise PlainDataError("array data does not match its shape")
    return np.frombuffer(buffer, dtype=dt).reshape(shape).astype(dt.newbyteorder("="), copy=True)
