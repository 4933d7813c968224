"""Moved: the plain-data codec is :mod:`autograder.grading.plaindata` (this name stays for its importers)."""

from autograder.grading.plaindata import MAX_VALUE_BYTES, PlainDataError, decode  # noqa: F401 - re-export

__all__ = ["PlainDataError", "decode", "MAX_VALUE_BYTES"]
