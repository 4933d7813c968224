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


def run_plan(plan, channel):
    """Execute the plan's cells in a fresh IPython shell, reporting on ``channel``."""
    shell = make_shell()
    run_cell = shell.run_cell
    for cell in plan["cells"]:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        send(channel, {"event": "start", "index": cell["index"]})
        if cell["kind"] == "probe" and "expressions" in cell:
            items = [probe(shell, expression) for expression in cell["expressions"]]
            send(channel, {"event": "value", "index": cell["index"], "grade_id": cell["grade_id"], "items": items})
            continue
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


def main():
    if os.environ.get("XAI_GRADER_NPROC"):  # unprivileged bwrap: the process limit of this user namespace
        import resource

        n = int(os.environ["XAI_GRADER_NPROC"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    channel = int(sys.argv[1])
    stdin = sys.stdin.buffer
    plan = json.loads(stdin.readline())
    threading.Thread(target=watch_interrupts, args=(stdin,), daemon=True).start()
    sys.stdin = open(os.devnull)
    prepare_scratch()
    run_plan(plan, channel)


# ---------------------------------------------------------------- warm start (zygote)
# The zygote is started once per worker inside its own bwrap sandbox, as root of the
# sandbox with only CAP_SETUID/CAP_SETGID. It imports the heavy libraries once; for each
# submission it forks a child that drops to the leased unprivileged uid, sets the rlimits
# and runs the plan. Runs are strictly one after another: before it reports a run as
# finished the zygote kills every process of that uid and wipes /scratch, /tmp and
# /dev/shm, so nothing of one student is left when the next one starts. The zygote holds
# no student data: a plan goes straight from a pipe into the child.

RLIMITS = {"memory_bytes": "RLIMIT_AS", "processes": "RLIMIT_NPROC", "file_bytes": "RLIMIT_FSIZE",
           "open_files": "RLIMIT_NOFILE", "cpu_seconds": "RLIMIT_CPU"}


def _no_new_privs():
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def _child(plan_fd, channel, control, stdin_fd, uid, limits, env):
    global _PID
    import resource

    _PID = os.getpid()
    os.close(control)
    os.close(stdin_fd)
    os.setsid()
    for key, name in RLIMITS.items():
        if key in limits:
            resource.setrlimit(getattr(resource, name), (int(limits[key]), int(limits[key])))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _no_new_privs()
    os.environ.update(env)
    with os.fdopen(plan_fd, "rb") as fh:
        plan = json.loads(fh.readline())
    sys.stdin = open(os.devnull)
    prepare_scratch()
    run_plan(plan, channel)


def _uid_processes(uid):
    """Live (non-zombie) processes of ``uid``."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in (b"Z", b"X"):
                pids.append(int(name))
    return pids


def _as_uid(uid, fn):
    """Run ``fn`` in a forked helper that has dropped to ``uid`` (it can then reach exactly uid's things)."""
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            fn()
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def _kill_uid(uid):
    """SIGKILL every process of ``uid``: kill(-1) from a helper running as uid reaches exactly those."""
    import time

    for _ in range(400):
        if not _uid_processes(uid):
            return
        _as_uid(uid, lambda: os.kill(-1, signal.SIGKILL))
        time.sleep(0.005)
    raise RuntimeError(f"processes of uid {uid} survive")


def _wipe_tree(path):
    """Delete what the run's uid left in ``path``; entries it does not own (mount points) stay."""
    me = os.geteuid()
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        try:
            if os.lstat(full).st_uid != me:
                continue
        except OSError:
            continue
        if os.path.isdir(full) and not os.path.islink(full):
            for root, dirs, _ in os.walk(full):  # the owner may have made its own directories read-only
                for name in dirs:
                    try:
                        os.chmod(os.path.join(root, name), 0o700)
                    except OSError:
                        pass
            shutil.rmtree(full, ignore_errors=True)
        else:
            try:
                os.unlink(full)
            except OSError:
                pass


def _wipe(uid):
    def wipe():
        for path in ("/scratch", "/tmp", "/dev/shm"):
            _wipe_tree(path)
    _as_uid(uid, wipe)


def serve(channel, control):
    """The zygote loop: commands on stdin, one JSON line each; reports on ``control``."""
    import select

    stdin_fd = sys.stdin.fileno()
    reader = os.fdopen(stdin_fd, "rb", buffering=0)
    buffer = b""
    for name in json.loads(reader.readline()).get("preload", []):
        try:
            __import__(name)
        except BaseException:  # a missing optional module only costs the warm start
            pass
    send(control, {"event": "ready"})
    child = None
    while True:
        if child is not None:
            pid, status = os.waitpid(child["pid"], os.WNOHANG)
            if pid:
                _finish(child, status, control)
                child = None
        ready, _, _ = select.select([stdin_fd], [], [], 0.02)
        if not ready:
            continue
        data = os.read(stdin_fd, 1 << 20)
        if not data:
            if child is not None:
                _kill_uid(child["uid"])
            os._exit(0)
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command = json.loads(line)
            if command["cmd"] == "run" and child is None:
                child = _start(command, channel, control, stdin_fd)
            elif command["cmd"] == "interrupt" and child is not None:
                try:
                    os.kill(child["pid"], signal.SIGINT)
                except ProcessLookupError:
                    pass
            elif command["cmd"] == "kill" and child is not None:
                try:
                    os.kill(child["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status = os.waitpid(child["pid"], 0)
                _finish(child, status, control)
                child = None


def _start(command, channel, control, stdin_fd):
    uid = int(command["uid"])
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write_fd)
        try:
            _child(read_fd, channel, control, stdin_fd, uid, command["limits"], command["env"])
        finally:
            os._exit(70)
    os.close(read_fd)
    data = (json.dumps(command["plan"]) + "\n").encode()
    while data:  # the child reads it right away; a plan fits in memory
        data = data[os.write(write_fd, data):]
    os.close(write_fd)
    return {"pid": pid, "uid": uid}


def _finish(child, status, control):
    _kill_uid(child["uid"])
    _wipe(child["uid"])
    code = os.waitstatus_to_exitcode(status)
    send(control, {"event": "exited", "status": code})


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
