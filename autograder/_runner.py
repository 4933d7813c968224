"""The runner that executes one notebook inside the sandbox (stdlib + IPython + NumPy only).

Protocol (see autograder/kernel.py for the other side):
- stdin, first line: the plan, JSON ``{"cells": [{"index", "kind": "code"|"probe", "source"|"expression",
  "grade_id"}]}``; later lines: ``interrupt`` asks to interrupt the running cell (SIGINT).
- the channel fd (argv[1]): one JSON event per line: ``start``/``done`` of each cell, ``value`` of each
  probe, ``end``.
- stdout/stderr: whatever the student's code prints.

Nothing written here is trusted by the grader: student code runs in this very
process and could write any event itself. Events only carry *plain data*
(numbers, strings, lists, sets, dicts with string keys, numeric NumPy arrays),
which the grader decodes without unpickling anything and compares against keys
that are never sent here. Writing a value by hand is no better than computing
it, so forging events earns nothing.
"""
import base64
import builtins
import json
import os
import shutil
import signal
import sys
import threading

_PID = os.getpid()
_eval, _compile, _type, _write = builtins.eval, builtins.compile, builtins.type, os.write
_dumps, _b64 = json.dumps, base64.b64encode
MAX_DEPTH = 20


class NotPlain(Exception):
    pass


def _numpy_types():
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return None, set()
    return np, {np.dtype(c).type for c in "?bhilqBHILQefd"}


NP, _NP_SCALARS = _numpy_types()
# identity tests only: a metaclass can make ``==`` between types lie
_SCALAR_IDS = {id(t) for t in (bool, int, float, str, type(None))}
_SEQ_IDS = {id(list), id(tuple)}
_SET_IDS = {id(set), id(frozenset)}
_NP_SCALAR_IDS = {id(t) for t in _NP_SCALARS}


def encode(value, depth=0):
    """Plain data -> JSON-able structure; anything with its own type raises NotPlain."""
    t = _type(value)
    if depth > MAX_DEPTH:
        raise NotPlain("nested too deeply")
    if id(t) in _SCALAR_IDS:
        return value
    if id(t) in _SEQ_IDS:
        return [encode(v, depth + 1) for v in value]
    if id(t) in _SET_IDS:
        return {"__set__": [encode(v, depth + 1) for v in value]}
    if t is dict:
        items = []
        for k, v in value.items():
            if _type(k) is not str:
                raise NotPlain(f"dict key of type {_type(k).__name__}")
            items.append([k, encode(v, depth + 1)])
        return {"__dict__": items}
    if id(t) in _NP_SCALAR_IDS:
        return value.item()
    if NP is not None and t is NP.ndarray:
        if value.dtype.kind not in "biuf":
            raise NotPlain(f"array of dtype {value.dtype}")
        data = NP.ascontiguousarray(value)
        return {"__ndarray__": {"dtype": data.dtype.str, "shape": list(data.shape),
                                "data": _b64(data.tobytes()).decode("ascii")}}
    raise NotPlain(f"object of type {getattr(t, '__qualname__', '?')[:60]}")


def send(channel, event):
    if os.getpid() != _PID:  # a forked child escaped a cell: it must not talk for the runner
        os._exit(0)
    data = (_dumps(event) + "\n").encode("utf-8")
    while data:
        data = data[_write(channel, data):]


def watch_interrupts(stdin):
    for line in stdin:
        if line.strip() == b"interrupt":
            os.kill(_PID, signal.SIGINT)


def prepare_scratch():
    files = os.environ.get("XAI_GRADER_FILES") or "/opt/xai-grader/files"
    scratch = os.environ.get("XAI_GRADER_SCRATCH") or "/scratch"
    if os.path.isdir(files):
        shutil.copytree(files, scratch, dirs_exist_ok=True)
    os.chdir(scratch)


def make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=config)


def probe(shell, expression):
    try:
        value = _eval(_compile(expression, "<grader>", "eval"), shell.user_ns)
    except BaseException as exc:  # the student's code raised while being probed
        return {"error": f"{_type(exc).__name__}: {str(exc)[:300]}"}
    try:
        return {"data": _dumps(encode(value))}
    except NotPlain as exc:
        return {"not_plain": str(exc)}
    except BaseException as exc:  # e.g. a list whose iteration raises
        return {"not_plain": f"{_type(exc).__name__} while reading the value"}


def main():
    channel = int(sys.argv[1])
    stdin = sys.stdin.buffer
    plan = json.loads(stdin.readline())
    threading.Thread(target=watch_interrupts, args=(stdin,), daemon=True).start()
    sys.stdin = open(os.devnull)
    prepare_scratch()
    shell = make_shell()
    run_cell = shell.run_cell
    for cell in plan["cells"]:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        send(channel, {"event": "start", "index": cell["index"]})
        if cell["kind"] == "probe":
            result = probe(shell, cell["expression"])
            send(channel, {"event": "value", "index": cell["index"], "grade_id": cell["grade_id"], **result})
            continue
        try:
            result = run_cell(cell["source"], store_history=True)
            error = result.error_before_exec or result.error_in_exec
            ename = _type(error).__name__ if error is not None else None
        except BaseException as exc:  # KeyboardInterrupt outside IPython's own handler
            ename = _type(exc).__name__
        # a failed cell's traceback keeps its frames (and e.g. a memory hog's arrays) alive
        sys.last_type = sys.last_value = sys.last_traceback = None
        sys.stdout.flush()
        sys.stderr.flush()
        send(channel, {"event": "done", "index": cell["index"], "error": ename})
    send(channel, {"event": "end"})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
