"""Execute a notebook plan in the sandbox and collect the graded values as plain data.

A *plan* is the restored notebook as a list of steps: ``code`` cells (the
student's answers and the instructor's locked cells) and ``probe`` steps that
stand where the autograder-test cells were: one Python expression per grade id,
evaluated in the student's namespace, whose value comes back as plain data
(:mod:`autograder.plaindata`). The hidden tests and the keys never enter the
sandbox; the grader compares values in its own process
(:mod:`autograder.checkers`).

The grader sends the plan one step at a time and times each step from when it
sent it; the runner reports each step on an event channel that the student's
code, running in the same process, can write to as well. Events are therefore
trusted for nothing but this run's own values: :func:`parse_event` checks size,
nesting and shape before anything is parsed, the monitor checks each event's
turn, and any other line ends the run as *broken* (its processes killed, its
warm kernel retired).

The grader enforces the wall-time and output limits from outside: a cell over
``cell_seconds`` is interrupted (SIGINT, like a Jupyter interrupt) and the run
is killed if it is still busy ``interrupt_grace`` seconds later; the whole
run is killed at ``notebook_seconds`` or after ``output_bytes`` of output. Any
value received before that is kept: a submission that hits a limit gets the
points of the parts it finished, plus a line saying which limit it hit.

Examples
--------
>>> from autograder.sandbox import Sandbox, Limits
>>> plan = [Step(0, "code", "x = 6 * 7"), Step(1, "probe", "x", grade_id="q1")]
>>> run = execute(plan, Sandbox(Limits(), unsafe=True))   # doctest: +SKIP
>>> run.values["q1"]                                       # doctest: +SKIP
42
"""

from __future__ import annotations

import json
import os
import re
import select
import selectors
import shutil
import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from autograder.plaindata import MAX_VALUE_BYTES, PlainDataError, decode
from autograder.sandbox import Sandbox, ipc_sysctls

__all__ = ["Step", "ProbeError", "ProtocolError", "CellResult", "Execution", "execute", "parse_event"]

#: output kept per cell for the feedback (the limit on what is *read* is Limits.output_bytes)
KEEP_OUTPUT = 4000


@dataclass(frozen=True)
class Step:
    """One step of a plan: a code cell or a probe for one grade id.

    ``label`` names the cell for students ("cell 4", "answer cell q1").
    """

    index: int
    kind: str  # "code" | "probe"
    source: str
    grade_id: str | None = None
    label: str = ""
    expressions: tuple = ()  # a probe with several values: evaluated one by one, errors kept apart

    def to_json(self) -> dict:
        if self.kind == "probe":
            out = {"index": self.index, "kind": "probe", "expression": self.source, "grade_id": self.grade_id}
            if self.expressions:
                out["expressions"] = list(self.expressions)
            return out
        return {"index": self.index, "kind": "code", "source": self.source}


@dataclass(frozen=True)
class ProbeError:
    """Stands for one expression of a multi-value probe that gave no plain value."""

    message: str


@dataclass
class CellResult:
    status: str = "not run"  # ok | error | interrupted | stopped | not run
    error: str | None = None
    output: str = ""


@dataclass
class Execution:
    """What one sandboxed run produced.

    ``values`` maps grade id -> decoded plain value; ``problems`` maps grade id
    -> why no value came (exception in the probe, not plain data, not reached);
    ``limits`` holds one feedback line per limit that was hit.
    """

    values: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)
    limits: list = field(default_factory=list)
    completed: bool = False
    seconds: float = 0.0
    exit_status: int | None = None
    broken: bool = False  # it wrote what the runner never writes: stopped, and its warm kernel retired


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
    autograder.kernel.ProtocolError: an event that is not a JSON object
    """
    if len(line) > MAX_EVENT_BYTES:
        raise ProtocolError(f"an event larger than {_fmt_bytes(MAX_EVENT_BYTES)}")
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


def _item(event: dict):
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


def _fmt_bytes(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB"


def _how(status: int) -> str:
    """An exit status in words; real-time signals (no name in ``signal.Signals``) by number.

    A cold sandbox reports its runner's death by signal n as bwrap's exit status 128 + n.

    >>> _how(-9), _how(-40), _how(168), _how(3)
    ('signal SIGKILL', 'signal 40', 'exit status 168 (signal 40)', 'exit status 3')
    """
    if 128 < status <= 128 + 64:
        return f"exit status {status} ({_how(128 - status)})"
    if status >= 0:
        return f"exit status {status}"
    try:
        return f"signal {signal.Signals(-status).name}"
    except ValueError:
        return f"signal {-status}"


def _memfd_bytes(uid: int) -> int:
    """Memory held in memfd files by the processes of ``uid`` (not counted by RLIMIT_AS until mapped)."""
    held = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            fds = os.listdir(f"/proc/{name}/fd")
        except OSError:
            continue
        for fd in fds:
            path = f"/proc/{name}/fd/{fd}"
            try:
                if os.readlink(path).startswith("/memfd:"):
                    st = os.stat(path)
                    held[(st.st_dev, st.st_ino)] = st.st_blocks * 512
            except OSError:
                continue
    return sum(held.values())


class _Monitor:
    """Sends the plan one step at a time, reads the runner's pipes and enforces the limits.

    The grader's clock decides: a step's deadline starts when the grader sends
    it, and the next step is sent only when the runner reported this one. Events
    are trusted for nothing but the values of this very run; one the runner
    would never write (see :func:`parse_event`, or out of turn) ends the run as
    *broken*.
    """

    MEMORY_POLL = 0.25  # seconds between two looks at the run's memfd files

    def __init__(self, plan: list[Step], limits, target, uid: int | None = None):
        self.steps = list(plan)
        self.plan = {s.index: s for s in plan}
        self.lim = limits
        self.box = target  # has interrupt() and kill()
        self.uid = uid
        self.run = Execution(cells={s.index: CellResult() for s in plan})
        self.position = -1  # the step sent last (position in self.steps)
        self.current: int | None = None  # its plan index while it is not reported
        self.last_code: int | None = None  # the code cell that output is shown under (test cells show results)
        self.end_sent = False
        self.outbox = bytearray()  # lines for the runner, written as its pipe takes them
        self.cell_deadline = self.kill_deadline = None
        self.next_memory_check = 0.0
        self.output_total = 0
        self.chan_buffer = b""
        self.stopped = False
        self.stop_time = None

    # ------------------------------------------------------------ sending
    def begin(self, preamble: bytes = b"") -> None:
        """Queue ``preamble`` (e.g. the run's environment) and the first step."""
        self.outbox += preamble
        self._send_next()

    def _send_next(self) -> None:
        self.position += 1
        self.kill_deadline = None
        if self.position >= len(self.steps):
            self.current = self.cell_deadline = None
            self.end_sent = True
            self.outbox += b'{"end": true}\n'
            return
        step = self.steps[self.position]
        self.current = step.index
        self.outbox += (json.dumps({"cell": step.to_json()}) + "\n").encode()
        self.cell_deadline = time.monotonic() + self.lim.cell_seconds
        if step.kind == "code":
            self.run.cells[step.index].status = "running"
            self.last_code = step.index

    # ------------------------------------------------------------ events
    def on_event(self, event: dict) -> None:
        """One event checked by :func:`parse_event`; raises ProtocolError when it is out of turn."""
        kind = event["event"]
        if kind == "end":
            if not self.end_sent or self.run.completed:
                raise ProtocolError("the end reported before the last cell was sent")
            self.run.completed = True
            return
        index = event["index"]
        if self.current is None or index != self.current:
            raise ProtocolError("a report for a cell that is not running")
        step = self.plan[index]
        if kind == "done":
            if step.kind != "code":
                raise ProtocolError("a code-cell report for a test")
            cell = self.run.cells[index]
            error = event["error"]
            if cell.status != "interrupted":
                cell.status = "error" if error else "ok"
            cell.error = error[:80] if error else None
            self._note_resource_error(step, cell.error)
        else:
            if step.kind != "probe" or event["grade_id"] != step.grade_id:
                raise ProtocolError("a value for a grade id that is not being tested")
            if ("items" in event) != bool(step.expressions) or (
                step.expressions and len(event["items"]) != len(step.expressions)
            ):
                raise ProtocolError("a value of the wrong shape for its test")
            gid = step.grade_id
            self.run.cells[index].status = "ok"
            if step.expressions:
                self.run.values[gid] = [_item(item) for item in event["items"]]
            else:
                value = _item(event)
                if isinstance(value, ProbeError):
                    self.run.problems[gid] = value.message
                else:
                    self.run.values[gid] = value
        self._send_next()

    def _note_resource_error(self, step: Step, error: str | None) -> None:
        if error == "MemoryError":
            self.limit(f"memory limit ({_fmt_bytes(self.lim.memory_bytes)}) reached in {step.label} (MemoryError)")
        elif error == "BlockingIOError":
            self.limit(f"process limit ({self.lim.processes} processes) reached in {step.label}")

    def limit(self, line: str) -> None:
        if line not in self.run.limits:
            self.run.limits.append(line)

    def broken(self, reason: str) -> None:
        """End the run: it wrote what the runner never writes."""
        if self.run.broken:
            return
        self.run.broken = True
        self.limit(
            f"the notebook broke the grader's event protocol{self._where()} ({reason}); the notebook was stopped there"
        )
        if not self.stopped:
            self.stop()

    # ------------------------------------------------------------ streams
    def on_output(self, data: bytes) -> None:
        self.output_total += len(data)
        # output is shown under the code cell that was sent last (a test cell shows its result line)
        target = self.current if self.current is not None and self.plan[self.current].kind == "code" else self.last_code
        if target is not None:
            cell = self.run.cells[target]
            if len(cell.output) < KEEP_OUTPUT:
                cell.output += data.decode("utf-8", errors="replace")[: KEEP_OUTPUT - len(cell.output)]
        if self.output_total > self.lim.output_bytes and not self.stopped:
            where = self._where()
            self.limit(
                f"output limit ({_fmt_bytes(self.lim.output_bytes)}) exceeded{where}; the notebook was stopped there"
            )
            self.stop()

    def on_channel(self, data: bytes) -> None:
        self.chan_buffer += data
        try:
            while b"\n" in self.chan_buffer and not self.stopped:
                line, self.chan_buffer = self.chan_buffer.split(b"\n", 1)
                self.on_event(parse_event(line))
        except ProtocolError as exc:
            self.broken(str(exc))
        if len(self.chan_buffer) > MAX_EVENT_BYTES and not self.stopped:
            self.limit(f"a graded value was larger than {_fmt_bytes(MAX_VALUE_BYTES)}{self._where()}")
            self.stop()

    def _where(self) -> str:
        return f" in {self.plan[self.current].label}" if self.current is not None else ""

    # ------------------------------------------------------------ time
    def next_timeout(self, notebook_deadline: float) -> float:
        deadlines = [notebook_deadline] + [d for d in (self.cell_deadline, self.kill_deadline) if d]
        if self.uid is not None:
            deadlines.append(self.next_memory_check)
        if self.stopped:  # only waiting for the pipes to close / the zygote to confirm
            return 0.05
        return max(0.0, min(deadlines) - time.monotonic())

    def check_time(self, notebook_deadline: float) -> None:
        now = time.monotonic()
        if self.stopped:
            return
        if self.uid is not None and now >= self.next_memory_check:
            self.next_memory_check = now + self.MEMORY_POLL
            held = _memfd_bytes(self.uid)
            if held > self.lim.memory_bytes:
                self.limit(
                    f"memory limit ({_fmt_bytes(self.lim.memory_bytes)}) reached{self._where()} "
                    f"({_fmt_bytes(held)} held in memfd files); the notebook was stopped there"
                )
                self.stop()
                return
        if now >= notebook_deadline:
            self.limit(
                f"notebook time limit ({self.lim.notebook_seconds:g} s) reached{self._where()}; "
                "the notebook was stopped there"
            )
            self.stop()
        elif self.kill_deadline and now >= self.kill_deadline:
            self.limit(
                f"{self.plan[self.current].label} ignored the interrupt after the cell time limit "
                f"({self.lim.cell_seconds:g} s); the notebook was stopped there"
            )
            self.stop()
        elif self.cell_deadline and now >= self.cell_deadline and self.current is not None:
            self.limit(
                f"cell time limit ({self.lim.cell_seconds:g} s) reached in {self.plan[self.current].label}; "
                "the cell was interrupted"
            )
            self.run.cells[self.current].status = "interrupted"
            self.cell_deadline, self.kill_deadline = None, now + self.lim.interrupt_grace
            self.box.interrupt()

    def stop(self) -> None:
        self.stopped = True
        self.stop_time = time.monotonic()
        self.outbox.clear()  # no step (nor interrupt) for a run that is being killed
        if self.current is not None and self.run.cells[self.current].status in ("running", "interrupted", "not run"):
            self.run.cells[self.current].status = "stopped"
        self.box.kill()


class _ColdRun:
    """One sandboxed process for one run; an interrupt is a line after the cell on its stdin."""

    def __init__(self, box):
        self.box = box
        self.outbox = bytearray()

    def interrupt(self):
        self.outbox += b"interrupt\n"

    def kill(self):
        self.box.kill()


def _loop(
    monitor, fds: dict, notebook_deadline: float, inbox_fd: int | None, control_fd: int | None = None, on_control=None
):
    """Feed the runner its steps and read its pipes until they close (cold) or the zygote reports the run done.

    Nothing read here can raise out of the loop: a handler that fails ends the run as broken.
    """
    sel = selectors.DefaultSelector()
    for fd in list(fds) + ([control_fd] if control_fd is not None else []):
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    if inbox_fd is not None:
        os.set_blocking(inbox_fd, False)
    open_fds = set(fds)
    finished = writing = False
    try:
        while open_fds if control_fd is None else not finished:
            if inbox_fd is not None and bool(monitor.outbox) != writing:
                writing = not writing
                if writing:
                    sel.register(inbox_fd, selectors.EVENT_WRITE)
                else:
                    sel.unregister(inbox_fd)
            for key, _ in sel.select(timeout=monitor.next_timeout(notebook_deadline)):
                if key.fd == inbox_fd:
                    inbox_fd, writing = _write_some(monitor, inbox_fd, sel, writing)
                    continue
                try:
                    data = os.read(key.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if key.fd == control_fd:
                    finished = on_control(data)
                    continue
                if not data:
                    sel.unregister(key.fd)
                    open_fds.discard(key.fd)
                    continue
                if fds[key.fd] == monitor.on_channel:
                    # the runner flushes a cell's output before it reports the cell: read that output
                    # first, so it is credited to the cell that printed it
                    _drain(monitor, {fd: h for fd, h in fds.items() if fd in open_fds and h != monitor.on_channel})
                if not monitor.stopped:
                    _handle(monitor, fds[key.fd], data)
            monitor.check_time(notebook_deadline)
            if monitor.run.completed and not monitor.stopped:
                monitor.stopped = True
                monitor.stop_time = time.monotonic()
                monitor.box.kill()  # leftover background processes must not outlive the run
            if control_fd is not None and monitor.stopped and time.monotonic() > monitor.stop_time + 20:
                break  # the zygote does not answer: the caller discards it
        # warm: the run's writers are dead; empty the shared pipes completely so that
        # nothing of this run is read as the next student's output
        _drain(monitor, {fd: fds[fd] for fd in open_fds})
    finally:
        sel.close()


def _write_some(monitor, fd: int, sel, writing: bool):
    """Write what the runner's pipe takes now; a closed pipe stops the sending."""
    try:
        del monitor.outbox[: os.write(fd, monitor.outbox[: 1 << 16])]
    except BlockingIOError:
        pass
    except OSError:  # the runner is gone: nothing more to send
        monitor.outbox.clear()
        if writing:
            sel.unregister(fd)
        return None, False
    return fd, writing


def _handle(monitor, handler, data: bytes) -> None:
    try:
        handler(data)
    except Exception as exc:  # a failure reading what the run wrote is the run's, never the grader's loop's
        monitor.broken(f"{type(exc).__name__} while reading it")


def _drain(monitor, fds: dict) -> None:
    """Read what is already in the pipes ``fds`` (non-blocking); kept only while the run is not stopped."""
    for fd, handler in fds.items():
        while True:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                break
            if not data:
                break
            if not monitor.stopped:
                _handle(monitor, handler, data)


def execute(
    plan: list[Step],
    sandbox: Sandbox,
    *,
    files_dir: str | None = None,
    env: dict | None = None,
    warm: WarmKernel | None = None,
) -> Execution:
    """Run ``plan`` in a fresh sandboxed process; never raises for what the student's code does.

    ``env``: extra environment variables of the run (e.g. ``XAI_STUDENT_ID``);
    ``warm``: a :class:`WarmKernel` to fork the run from instead of starting a new sandbox.
    """
    if warm is not None and warm.usable():
        return warm.execute(plan, env or {})
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    scratch = tempfile.mkdtemp(prefix="xai-scratch-") if sandbox.unsafe else None
    try:
        box = sandbox.spawn(
            sandbox.runner_argv() + [str(write_fd)], files_dir=files_dir, pass_fds=(write_fd,), scratch=scratch, env=env
        )
    finally:
        os.close(write_fd)
    cold = _ColdRun(box)
    monitor = _Monitor(plan, sandbox.limits, cold, uid=box.uid)
    cold.outbox = monitor.outbox  # an interrupt line queues behind the step being written
    monitor.begin()
    fds = {
        box.proc.stdout.fileno(): monitor.on_output,
        box.proc.stderr.fileno(): monitor.on_output,
        read_fd: monitor.on_channel,
    }
    try:
        _loop(monitor, fds, started + sandbox.limits.notebook_seconds, box.proc.stdin.fileno())
    finally:
        os.close(read_fd)
        status = box.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return _conclude(monitor, plan, status, started)


def _conclude(monitor, plan, status, started) -> Execution:
    run = monitor.run
    run.exit_status = status
    run.seconds = time.monotonic() - started
    if not run.completed and not monitor.stopped:
        where = monitor._where()
        run.limits.append(f"the kernel died{where} ({_how(status)}); the cells after it were not run")
        if monitor.current is not None:
            run.cells[monitor.current].status = "stopped"
    for step in plan:
        if step.kind == "probe" and step.grade_id not in run.values and step.grade_id not in run.problems:
            run.problems[step.grade_id] = "not reached: the notebook stopped before this test"
    return run


_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xai-zygote-spawner")


class WarmKernel:
    """A sandbox whose zygote has the assignment's libraries imported; runs fork from it one by one.

    Safe because runs never overlap: each run's child gets a new IPC namespace
    and session keyring, drops to the leased unprivileged uid with its own
    rlimits, and before a run is reported finished the zygote kills every
    process of that uid and wipes /scratch, /tmp and /dev/shm (see
    ``_runner.serve``); the zygote refuses to start a run while a process of
    the uid lives. The zygote never sees a student's cells: the grader writes
    them to the run's inbox pipe, which only the forked child reads. A run
    that breaks the event protocol retires its kernel. Only available when the
    grader is root (the zygote needs CAP_SETUID inside the sandbox); otherwise
    :func:`execute` starts a cold sandbox per run.
    """

    def __init__(self, sandbox: Sandbox, files_dir: str | None, preload: tuple[str, ...]):
        self.sandbox = sandbox
        self.limits = sandbox.limits
        self.broken = False
        self.channel_r, channel_w = os.pipe()
        self.control_r, control_w = os.pipe()
        # the grader keeps the inbox's read end too, to empty it after a run that did not read all of it
        self.inbox_r, self.inbox_w = os.pipe()
        try:
            # bwrap's --die-with-parent follows the *thread* that started it: a zygote outlives the
            # worker thread that asked for it only when a long-lived thread spawns it
            self.box = _SPAWNER.submit(
                sandbox.spawn,
                sandbox.runner_argv() + ["--zygote", str(channel_w), str(control_w), str(self.inbox_r)],
                files_dir=files_dir,
                pass_fds=(channel_w, control_w, self.inbox_r),
                zygote=True,
            ).result()
        finally:
            os.close(channel_w)
            os.close(control_w)
        self.uid = self.box.uid
        self._control_buffer = b""
        self._send({"preload": list(preload)})
        if self._read_control(timeout=120) != {"event": "ready"}:
            self.close()
            self.broken = True

    def usable(self) -> bool:
        return not self.broken and self.box.proc.poll() is None

    def _send(self, command: dict) -> None:
        try:
            self.box.proc.stdin.write((json.dumps(command) + "\n").encode())
            self.box.proc.stdin.flush()
        except OSError:
            self.broken = True

    def _read_control(self, timeout: float):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._control_buffer:
            sel = selectors.DefaultSelector()
            sel.register(self.control_r, selectors.EVENT_READ)
            ready = sel.select(max(0.0, deadline - time.monotonic()))
            sel.close()
            if not ready:
                return None
            data = os.read(self.control_r, 1 << 16)
            if not data:
                return None
            self._control_buffer += data
        line, self._control_buffer = self._control_buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return None

    def interrupt(self):
        self._send({"cmd": "interrupt"})

    def kill(self):
        self._send({"cmd": "kill"})

    def execute(self, plan: list[Step], env: dict) -> Execution:
        started = time.monotonic()
        lim = self.limits
        limits = {
            "memory_bytes": lim.memory_bytes,
            "processes": lim.processes,
            "file_bytes": lim.file_bytes,
            "open_files": lim.open_files,
            "cpu_seconds": lim.cpu_seconds,
        }
        monitor = _Monitor(plan, lim, self, uid=self.uid)
        state = {"status": None}

        def on_control(data: bytes) -> bool:
            if not data:
                return True
            self._control_buffer += data
            while b"\n" in self._control_buffer:
                line, self._control_buffer = self._control_buffer.split(b"\n", 1)
                try:
                    event = json.loads(line)
                    if event.get("event") == "exited":
                        state["status"] = int(event["status"])
                        return True
                except (ValueError, TypeError, KeyError, AttributeError):
                    return True  # the zygote itself misbehaves: the kernel is retired below
            return False

        try:
            self._send(
                {
                    "cmd": "run",
                    "uid": self.uid,
                    "limits": limits,  # no student data passes the zygote
                    "ipc": ipc_sysctls(int(lim.memory_bytes)),
                }
            )
            monitor.begin((json.dumps({"env": dict(env)}) + "\n").encode())
            fds = {
                self.box.proc.stdout.fileno(): monitor.on_output,
                self.box.proc.stderr.fileno(): monitor.on_output,
                self.channel_r: monitor.on_channel,
            }
            _loop(
                monitor,
                fds,
                started + lim.notebook_seconds,
                self.inbox_w,
                control_fd=self.control_r,
                on_control=on_control,
            )
            _empty(self.inbox_r)  # steps the run never read must not be read by the next one
        except BaseException:
            self.close()
            raise
        if state["status"] is None or monitor.run.broken:  # never reuse a zygote that failed or was attacked
            self.close()
        if state["status"] is None:
            state["status"] = -9
        return _conclude(monitor, plan, state["status"], started)

    def close(self) -> None:
        """Stop the zygote (its whole PID namespace dies with it); a second call does nothing."""
        self.broken = True
        if getattr(self, "_closed", False):  # the fd numbers may already belong to someone else
            return
        self._closed = True
        for fd in (self.channel_r, self.control_r, self.inbox_r, self.inbox_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.box.close()


def _empty(fd: int) -> None:
    """Read a pipe until it is empty, leaving its mode alone (the runner shares the read end)."""
    while select.select([fd], [], [], 0)[0]:
        if not os.read(fd, 1 << 16):
            return
