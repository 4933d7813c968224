"""The event channel: what the sandboxed runner reports, and the one parser the grader reads it with.

The runner (:mod:`autograder._runner`) writes one JSON event per line; the
student's code runs in the same process and can write to the channel too.
:func:`parse_event` therefore checks size, nesting and shape on the raw bytes
before anything is parsed, and accepts only the shapes the runner writes;
:func:`read_result` turns a probe's result into a plain value or a
:class:`~autograder.plan.ProbeError`. Whether an event comes in its turn is the
monitor's business (:mod:`autograder.monitor`).
"""

from __future__ import annotations

import json
import re

from autograder.grading.plaindata import MAX_VALUE_BYTES, PlainDataError, decode
from autograder.plan import ProbeError

__all__ = ["ProtocolError", "parse_event", "read_result", "fmt_bytes", "MAX_EVENT_BYTES"]


class ProtocolError(Exception):
    """An event the runner never writes (wrong shape, out of turn, too large or too deep): the run is broken."""


#: one event line at most: the largest graded value plus its envelope
MAX_EVENT_BYTES = MAX_VALUE_BYTES + (64 << 10)
#: an event is an object that holds at most a list of objects (the values of a multi-value probe)
MAX_EVENT_DEPTH = 3
#: what is left of an event once its strings are blanked: a few keys per value
MAX_EVENT_SKELETON = 64 << 10
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_RESULTS = ("data", "not_plain", "error")
MAX_ERROR_CHARS = 400


def _is_result(item) -> bool:
    """A probe result as the runner writes it: exactly one of data / not_plain / error, a string."""
    return (
        type(item) is dict
        and len(item) == 1
        and next(iter(item)) in _RESULTS
        and type(next(iter(item.values()))) is str
    )


def parse_event(line: bytes) -> dict:
    """One line of the event channel -> an event of a known shape, or :class:`ProtocolError`.

    Size and nesting are checked on the raw bytes before ``json`` parses
    anything (strings blanked by one regular expression, then the brackets
    counted), so no line can make the grader recurse or allocate beyond
    :data:`MAX_EVENT_BYTES`. The shapes are the three the runner writes::

        {"event": "done", "index": int, "error": str | null}
        {"event": "value", "index": int, "grade_id": str, "data" | "not_plain" | "error": str}
        {"event": "value", "index": int, "grade_id": str, "items": [{"data" | ...: str}, ...]}
        {"event": "end"}

    >>> parse_event(b'{"event": "done", "index": 0, "error": null}')["index"]
    0
    >>> parse_event(b'[1, 2]')
    Traceback (most recent call last):
    ...
    autograder.events.ProtocolError: an event that is not a JSON object
    """
    if len(line) > MAX_EVENT_BYTES:
        raise ProtocolError(f"an event larger than {fmt_bytes(MAX_EVENT_BYTES)}")
    skeleton = _JSON_STRING.sub(b'""', line)
    if len(skeleton) > MAX_EVENT_SKELETON:
        raise ProtocolError("an event with too many fields")
    depth = 0
    for byte in skeleton.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_EVENT_DEPTH:
            raise ProtocolError("an event nested too deeply")
    try:
        event = json.loads(line)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ProtocolError(f"an event that is not JSON ({type(exc).__name__})") from None
    if type(event) is not dict:
        raise ProtocolError("an event that is not a JSON object")
    kind, keys = event.get("event"), set(event)
    if kind == "end" and keys == {"event"}:
        return event
    if type(event.get("index")) is not int:
        raise ProtocolError("an event without a cell index")
    error = event.get("error")
    if (
        kind == "done"
        and keys == {"event", "index", "error"}
        and (error is None or (type(error) is str and len(error) <= MAX_ERROR_CHARS))
    ):
        return event
    if kind == "value" and type(event.get("grade_id")) is str:
        rest = keys - {"event", "index", "grade_id"}
        if rest == {"items"} and type(event["items"]) is list and all(_is_result(i) for i in event["items"]):
            return event
        if len(rest) == 1 and _is_result({k: event[k] for k in rest}):
            return event
    raise ProtocolError(f"an event of unknown shape ({str(kind)[:20]!r})")


def read_result(event: dict):
    """One probe result (checked by parse_event) -> decoded plain value, or ProbeError with the reason."""
    if "data" in event:
        try:
            return decode(event["data"])
        except PlainDataError as exc:
            return ProbeError(f"the value is not plain data ({exc})")
        except Exception as exc:  # the decoder's own limits: not a value the runner can have encoded
            raise ProtocolError(f"a value that cannot be read ({type(exc).__name__})") from None
    if "not_plain" in event:
        return ProbeError(
            f"the value is not plain data ({event['not_plain'][:80]}); "
            "return numbers, strings, lists, sets, dicts or NumPy arrays"
        )
    return ProbeError(f"evaluating it raised {event['error'][:200]}")


def fmt_bytes(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB"
