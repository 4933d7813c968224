"""The runner that executes one notebook inside the sandbox (stdlib + IPython + NumPy only).

It is one self-contained file, longer than the others, because it runs inside the sandbox, where the
``autograder`` package is not mounted and cannot be imported.

Protocol (the grader's side: autograder/events.py parses the events, autograder/monitor.py sends the steps):
- the inbox (stdin; in a warm child the inbox pipe), one JSON line each: ``{"env": {...}}`` (warm: the
  run's extra environment), ``{"cell": {"index", "kind": "code"|"probe", "source"|"expression",
  "grade_id"}}`` — the grader sends the next step only when this one was reported, and counts its
  deadline from then — and ``{"end": true}``; a line ``interrupt`` interrupts the running cell (SIGINT).
- the channel fd (argv[1]): one JSON event per line: ``done`` of each code cell, ``value`` of each
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
import gc
import json
import os
import queue
import shutil
import signal
import stat
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
        return {
            "__ndarray__": {
                "dtype": data.dtype.str,
                "shape": list(data.shape),
                "data": _b64(data.tobytes()).decode("ascii"),
            }
        }
    raise NotPlain(f"object of type {getattr(t, '__qualname__', '?')[:60]}")


def send(channel, event):
    if os.getpid() != _PID:  # a forked child escaped a cell: it must not talk for the runner
        os._exit(0)
    data = (_dumps(event) + "\n").encode("utf-8")
    while data:
        data = data[_write(channel, data) :]


def read_inbox(fd, inbox):
    """The grader's lines: steps go to the main thread, ``interrupt`` interrupts it; None when the pipe ends."""
    buffer = b""
    os.set_blocking(fd, True)
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            inbox.put(None)
            return
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip() == b"interrupt":
                os.kill(_PID, signal.SIGINT)
            elif line.strip():
                inbox.put(json.loads(line))


def start_inbox(fd):
    inbox = queue.Queue()
    threading.Thread(target=read_inbox, args=(fd, inbox), daemon=True).start()
    sys.stdin = open(os.devnull)
    return inbox


KEYCTL = {"x86_64": 250, "aarch64": 219, "i686": 288, "armv7l": 311}


def fresh_keyrings():
    """A new session keyring and empty user keyrings: nothing an earlier run of this uid kept in the kernel.

    The user, user-session and persistent keyrings belong to the uid, not to a
    process, and outlive the sandbox that filled them (keyrings(7)); the
    session keyring is inherited from whoever started the runner.
    """
    import ctypes

    nr = KEYCTL.get(os.uname().machine)
    if nr is None:  # pragma: no cover - other architectures: keyrings are not cleared
        return
    libc = _libc()

    def keyctl(*args):
        return libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))

    keyctl(1, 0)  # KEYCTL_JOIN_SESSION_KEYRING, a new anonymous one
    persistent = keyctl(22, -1, -3)  # KEYCTL_GET_PERSISTENT, linked into that new session keyring
    for ring in (-4, -5, persistent):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING
        if ring != -1:
            keyctl(7, ring)  # KEYCTL_CLEAR
    if persistent != -1:
        keyctl(9, persistent, -3)  # KEYCTL_UNLINK it from the session keyring again


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
    # the grader keeps what a run prints (text); a PNG or SVG repr would be drawn and thrown away
    config.DisplayFormatter.active_types = ["text/plain"]
    return InteractiveShell.instance(config=config)


def probe(shell, expression):
    try:
        value = _eval(_compile(expression, "<grader>", "eval"), shell.user_ns)
    except BaseException as exc:  # the student's code raised while being probed
        return {"error": f"{_type(exc).__name__[:100]}: {str(exc)[:300]}"}
    try:
        return {"data": _dumps(encode(value))}
    except NotPlain as exc:
        return {"not_plain": str(exc)}
    except BaseException as exc:  # e.g. a list whose iteration raises
        return {"not_plain": f"{_type(exc).__name__} while reading the value"}


def next_step(inbox):
    """The grader's next line (blocking); an interrupt that arrives between cells is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    message = inbox.get()
    if message is None:  # the grader went away
        os._exit(0)
    return message


def run_plan(inbox, channel, shell=None):
    """Execute the steps the grader sends, one at a time, in a fresh IPython shell; report on ``channel``.

    ``shell``: a shell no student has used (a warm run's copy of the zygote's); else one is made at the first cell.
    """
    run_cell = None
    while True:
        message = next_step(inbox)
        if "env" in message:
            os.environ.update({str(k): str(v) for k, v in message["env"].items()})
            continue
        if message.get("end"):
            break
        cell = message["cell"]
        if run_cell is None:
            shell = shell or make_shell()
            run_cell = shell.run_cell  # bound once: a cell that replaces the method does not run the next ones
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if cell["kind"] == "probe" and "expressions" in cell:
            items = [probe(shell, expression) for expression in cell["expressions"]]
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt after the step must not kill the report
            send(channel, {"event": "value", "index": cell["index"], "grade_id": cell["grade_id"], "items": items})
            continue
        if cell["kind"] == "probe":
            result = probe(shell, cell["expression"])
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            send(channel, {"event": "value", "index": cell["index"], "grade_id": cell["grade_id"], **result})
            continue
        try:
            result = run_cell(cell["source"], store_history=True)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            error = result.error_before_exec or result.error_in_exec
            ename = _type(error).__name__ if error is not None else None
        except BaseException as exc:  # KeyboardInterrupt outside IPython's own handler
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            ename = _type(exc).__name__
        # a failed cell's traceback keeps its frames (and e.g. a memory hog's arrays) alive
        sys.last_type = sys.last_value = sys.last_traceback = None
        sys.stdout.flush()
        sys.stderr.flush()
        send(channel, {"event": "done", "index": cell["index"], "error": ename and ename[:200]})
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
    fresh_keyrings()
    inbox = start_inbox(sys.stdin.fileno())
    prepare_scratch()
    run_plan(inbox, channel)


# ---------------------------------------------------------------- warm start (zygote)
# The zygote is started once per worker inside its own bwrap sandbox, as root of the
# sandbox with only CAP_SETUID/CAP_SETGID/CAP_SYS_ADMIN. It imports the heavy libraries once;
# for each submission it forks a child that enters a new IPC namespace, drops to the leased
# unprivileged uid (losing every capability), joins a new session keyring, sets the rlimits
# and runs the steps the grader writes to the inbox pipe. Runs are strictly one after
# another: the zygote starts a run only when no process of the uid lives, and before it
# reports a run as finished it kills every process of that uid and wipes /scratch, /tmp and
# /dev/shm whatever modes the run left there (and exits, retiring itself, when anything
# survives). The zygote holds no student data: it never reads the inbox, so what it forks
# is the same for every student.
# It also makes the IPython shell the runs start from (its files under /tmp stay the
# zygote's: read-only to the runs, never wiped) and freezes its objects for the collector.

RLIMITS = {
    "memory_bytes": "RLIMIT_AS",
    "processes": "RLIMIT_NPROC",
    "file_bytes": "RLIMIT_FSIZE",
    "open_files": "RLIMIT_NOFILE",
    "cpu_seconds": "RLIMIT_CPU",
}
CLONE_NEWIPC, CLONE_NEWNS = 0x08000000, 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_PRIVATE, MS_REC, MNT_DETACH = 2, 4, 8, 1 << 18, 1 << 14, 2
WIPED = ("/scratch", "/tmp", "/dev/shm")
_SHELL = None  # the zygote's IPython shell, made before any run: each child gets its own copy by the fork


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _no_new_privs():
    _libc().prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def _no_capabilities():
    """Empty every capability set the uid change left (bwrap's inheritable set included)."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    if _libc().capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()) != 0:  # _LINUX_CAPABILITY_VERSION_3
        raise OSError(ctypes.get_errno(), "capset")


def ipc_limits(sysctls):
    """Set the SysV limits of this (new) IPC namespace; needs CAP_SYS_ADMIN, so before the drop to the uid.

    ``sysctls``: name under /proc/sys/kernel -> number (``autograder.sandbox.ipc_sysctls``). They are
    written through a proc mounted for a moment in a private mount namespace (the sandbox's /proc/sys
    is read-only).
    """
    import ctypes

    libc = _libc()
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    if libc.mount(b"proc", b"/tmp", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        raise OSError(ctypes.get_errno(), "mount proc")
    try:
        for name, value in sysctls.items():
            with open(f"/tmp/sys/kernel/{os.path.basename(name)}", "w") as fh:
                fh.write(f"{int(value)}\n")
    finally:
        libc.umount2(b"/tmp", MNT_DETACH)


def _new_ipc_namespace(sysctls):
    """SysV shared memory, semaphores, message queues and POSIX queues of earlier runs are out of reach."""
    import ctypes

    if _libc().unshare(CLONE_NEWIPC) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWIPC)")
    ipc_limits(sysctls)


def _child(inbox_fd, channel, control, stdin_fd, uid, limits, sysctls):
    global _PID
    import resource

    _PID = os.getpid()
    os.close(control)
    os.close(stdin_fd)
    _new_ipc_namespace(sysctls)
    os.setsid()
    for key, name in RLIMITS.items():
        if key in limits:
            resource.setrlimit(getattr(resource, name), (int(limits[key]), int(limits[key])))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _no_capabilities()
    _no_new_privs()
    fresh_keyrings()
    inbox = start_inbox(inbox_fd)
    prepare_scratch()
    run_plan(inbox, channel, _SHELL)


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
    """Run ``fn`` in a forked helper that has dropped to ``uid`` (it can then reach exactly uid's things).

    Returns the helper's exit code: 0 when ``fn`` returned True.
    """
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            code = 0 if fn() else 1
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(helper, 0)[1])


def _kill_uid(uid):
    """SIGKILL every process of ``uid``: kill(-1) from a helper running as uid reaches exactly those."""
    import time

    for _ in range(400):
        if not _uid_processes(uid):
            return
        _as_uid(uid, lambda: os.kill(-1, signal.SIGKILL))
        time.sleep(0.005)
    _retire(f"processes of uid {uid} survive")


def _retire(reason):
    """The zygote cannot promise a clean next run: it ends, and the grader discards this kernel."""
    os.write(2, f"grader zygote: {reason}\n".encode())
    os._exit(3)


def _unlock(top):
    """Give the owner rwx on ``top`` and every directory below it (a run may leave 000 or 555 directories)."""
    os.chmod(top, 0o700)
    for root, dirs, _ in os.walk(top):  # top-down: each directory is unlocked before it is listed
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o700)
                except OSError:
                    pass


def _wipe_tree(path):
    """Delete what the run's uid left in ``path``; entries it does not own (mount points) stay."""
    me = os.geteuid()
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if st.st_uid != me:
            continue
        try:
            if stat.S_ISDIR(st.st_mode):
                _unlock(full)
                shutil.rmtree(full, ignore_errors=True)
            else:
                os.unlink(full)
        except OSError:
            pass


def _left_over():
    """Entries of the current uid still in the wiped folders."""
    me = os.geteuid()
    left = []
    for path in WIPED:
        for entry in os.listdir(path):
            try:
                if os.lstat(os.path.join(path, entry)).st_uid == me:
                    left.append(os.path.join(path, entry))
            except OSError:
                continue
    return left


def _wipe(uid):
    def wipe():
        for path in WIPED:
            _wipe_tree(path)
        return not _left_over()

    if _as_uid(uid, wipe) != 0:
        _retire(f"files of uid {uid} survive the wipe")


def warm_matplotlib():
    """Pay matplotlib's first-figure costs once in the zygote: the font list and metrics, the glyph tables,
    the PNG writer (about a second), which every forked run would otherwise pay again to draw one figure.
    Nothing of a student is involved: a fixed figure rendered to memory. A preloaded module may also define
    ``zygote_warm_up()`` (no arguments, no student data) for first-use costs of its own."""
    try:
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(1, 1))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_title("warm")
        ax.annotate("A", (0.2, 0.2), xytext=(0.8, 0.8), arrowprops={"arrowstyle": "->"})
        fig.savefig(io.BytesIO(), format="png")
        fig.savefig(io.BytesIO(), format="svg")
    except BaseException:  # matplotlib missing or broken: the runs import it themselves
        pass


def serve(channel, control, inbox_fd):
    """The zygote loop: commands on stdin, one JSON line each; reports on ``control``."""
    import select

    stdin_fd = sys.stdin.fileno()
    reader = os.fdopen(stdin_fd, "rb", buffering=0)
    buffer = b""
    preload = json.loads(reader.readline()).get("preload", [])
    for name in preload:
        try:
            __import__(name)
        except BaseException:  # a missing optional module only costs the warm start
            pass
    if any(name == "matplotlib" or name.startswith(("matplotlib.", "course")) for name in preload):
        warm_matplotlib()
    for name in preload:  # a module's own first-use costs (e.g. drawings every submission shows)
        warm = getattr(sys.modules.get(name), "zygote_warm_up", None)
        if callable(warm):
            try:
                warm()
            except BaseException:
                pass
    global _SHELL
    try:  # IPython's shell costs ~40 ms to make: made once here, never used here, copied into each run
        _SHELL = make_shell()
    except BaseException:  # the runs make their own
        _SHELL = None
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
            if command["cmd"] == "run":
                if child is not None:  # the grader lost track of a run: never start one beside it
                    _kill_uid(child["uid"])
                    _retire("a run was asked for while another one lives")
                child = _start(command, channel, control, inbox_fd, stdin_fd)
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


def _start(command, channel, control, inbox_fd, stdin_fd):
    uid = int(command["uid"])
    _kill_uid(uid)  # a process of an earlier run (of any grader) never sees this one
    # the zygote's objects go to the collector's permanent generation: a run's collections never walk them,
    # so the fork's copy-on-write pages stay shared (Python's gc.freeze documentation)
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        try:
            _child(inbox_fd, channel, control, stdin_fd, uid, command["limits"], command["ipc"])
        finally:
            os._exit(70)
    return {"pid": pid, "uid": uid}


def _finish(child, status, control):
    _kill_uid(child["uid"])
    _wipe(child["uid"])
    code = os.waitstatus_to_exitcode(status)
    send(control, {"event": "exited", "status": code})


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
