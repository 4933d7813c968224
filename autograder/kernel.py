"""Execute a notebook plan in the sandbox and collect the graded values as plain data.

A *plan* is the restored notebook as a list of steps: ``code`` cells (the
student's answers and the instructor's locked cells) and ``probe`` steps that
stand where the autograder-test cells were: one Python expression per grade id,
evaluated in the student's namespace, whose value comes back as plain data
(:mod:`autograder.plaindata`). The hidden tests and the keys never enter the
sandbox; the grader compares values in its own process
(:mod:`autograder.checkers`).

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
from concurrent.futures import ThreadPoolExecutor
import selectors
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field

from autograder.plaindata import MAX_VALUE_BYTES, PlainDataError, decode
from autograder.sandbox import Sandbox

__all__ = ["Step", "ProbeError", "CellResult", "Execution", "execute"]

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


def _item(event, as_error: bool = False):
    """One probe result -> decoded plain value, or ProbeError with the reason."""
    if type(event) is not dict:
        return ProbeError("malformed probe result")
    if "data" in event and type(event["data"]) is str:
        try:
            return decode(event["data"])
        except PlainDataError as exc:
            return ProbeError(f"the value is not plain data ({exc})")
    if "not_plain" in event:
        return ProbeError(f"the value is not plain data ({str(event['not_plain'])[:80]}); "
                          "return numbers, strings, lists, sets, dicts or NumPy arrays")
    return ProbeError(f"evaluating it raised {str(event.get('error'))[:200]}")


def _fmt_bytes(n: int) -> str:
    return f"{n / (1 << 20):g} MB" if n >= 1 << 20 else f"{n / 1024:g} KB"


class _Monitor:
    """Reads the runner's pipes and enforces the limits."""

    def __init__(self, plan: list[Step], limits, target):
        self.plan = {s.index: s for s in plan}
        self.lim = limits
        self.box = target  # has interrupt() and kill()
        self.run = Execution(cells={s.index: CellResult() for s in plan})
        self.current: int | None = None
        self.last_code: int | None = None  # the code cell that output is shown under (test cells show results)
        self.cell_deadline = self.kill_deadline = None
        self.output_total = 0
        self.chan_buffer = b""
        self.stopped = False
        self.stop_time = None

    # ------------------------------------------------------------ events
    def on_event(self, event: dict) -> None:
        kind = event.get("event") if type(event) is dict else None
        index = event.get("index") if kind != "end" else None
        if kind == "end":
            self.run.completed = True
            self.current = None
            return
        if type(index) is not int or index not in self.plan:
            return
        step = self.plan[index]
        if kind == "start":
            self.current = index
            self.cell_deadline = time.monotonic() + self.lim.cell_seconds
            self.kill_deadline = None
            if step.kind == "code":
                self.run.cells[index].status = "running"
                self.last_code = index
        elif kind == "done" and step.kind == "code":
            cell = self.run.cells[index]
            error = event.get("error")
            if cell.status != "interrupted":
                cell.status = "error" if error else "ok"
            cell.error = str(error)[:80] if error else None
            self._note_resource_error(step, cell.error)
            self.cell_deadline = self.kill_deadline = None
        elif kind == "value" and step.kind == "probe" and index == self.current:
            gid = step.grade_id
            if gid in self.run.values or gid in self.run.problems:
                return  # the first report of a probe wins
            self.run.cells[index].status = "ok"
            if step.expressions:
                items = event.get("items")
                if type(items) is not list or len(items) != len(step.expressions):
                    self.run.problems[gid] = "malformed probe result"
                else:
                    self.run.values[gid] = [_item(item, as_error=True) for item in items]
            else:
                value = _item(event)
                if isinstance(value, ProbeError):
                    self.run.problems[gid] = value.message
                else:
                    self.run.values[gid] = value
            self.cell_deadline = None

    def _note_resource_error(self, step: Step, error: str | None) -> None:
        if error == "MemoryError":
            self.limit(f"memory limit ({_fmt_bytes(self.lim.memory_bytes)}) reached in {step.label} (MemoryError)")
        elif error == "BlockingIOError":
            self.limit(f"process limit ({self.lim.processes} processes) reached in {step.label}")

    def limit(self, line: str) -> None:
        if line not in self.run.limits:
            self.run.limits.append(line)

    # ------------------------------------------------------------ streams
    def on_output(self, data: bytes) -> None:
        self.output_total += len(data)
        # stdout and the event channel are separate pipes: output read while a probe is current was printed by
        # the code cell before it (or by the student's code the probe called) — show it there, not under a test
        target = self.current
        if target is None or self.plan[target].kind != "code":
            target = self.last_code
        if target is not None:
            cell = self.run.cells[target]
            if len(cell.output) < KEEP_OUTPUT:
                cell.output += data.decode("utf-8", errors="replace")[: KEEP_OUTPUT - len(cell.output)]
        if self.output_total > self.lim.output_bytes and not self.stopped:
            where = self._where()
            self.limit(f"output limit ({_fmt_bytes(self.lim.output_bytes)}) exceeded{where}; "
                       "the notebook was stopped there")
            self.stop()

    def on_channel(self, data: bytes) -> None:
        self.chan_buffer += data
        while b"\n" in self.chan_buffer:
            line, self.chan_buffer = self.chan_buffer.split(b"\n", 1)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.on_event(event)
        if len(self.chan_buffer) > MAX_VALUE_BYTES + 4096 and not self.stopped:
            self.limit(f"a graded value was larger than {_fmt_bytes(MAX_VALUE_BYTES)}{self._where()}")
            self.stop()

    def _where(self) -> str:
        return f" in {self.plan[self.current].label}" if self.current is not None else ""

    # ------------------------------------------------------------ time
    def next_timeout(self, notebook_deadline: float) -> float:
        deadlines = [notebook_deadline] + [d for d in (self.cell_deadline, self.kill_deadline) if d]
        if self.stopped:  # only waiting for the pipes to close / the zygote to confirm
            return 0.05
        return max(0.0, min(deadlines) - time.monotonic())

    def check_time(self, notebook_deadline: float) -> None:
        now = time.monotonic()
        if self.stopped:
            return
        if now >= notebook_deadline:
            self.limit(f"notebook time limit ({self.lim.notebook_seconds:g} s) reached{self._where()}; "
                       "the notebook was stopped there")
            self.stop()
        elif self.kill_deadline and now >= self.kill_deadline:
            self.limit(f"{self.plan[self.current].label} ignored the interrupt after the cell time limit "
                       f"({self.lim.cell_seconds:g} s); the notebook was stopped there")
            self.stop()
        elif self.cell_deadline and now >= self.cell_deadline and self.current is not None:
            self.limit(f"cell time limit ({self.lim.cell_seconds:g} s) reached in {self.plan[self.current].label}; "
                       "the cell was interrupted")
            self.run.cells[self.current].status = "interrupted"
            self.cell_deadline, self.kill_deadline = None, now + self.lim.interrupt_grace
            self.box.interrupt()

    def stop(self) -> None:
        self.stopped = True
        self.stop_time = time.monotonic()
        if self.current is not None and self.run.cells[self.current].status in ("running", "interrupted", "not run"):
            self.run.cells[self.current].status = "stopped"
        self.box.kill()


class _ColdRun:
    """One sandboxed process for one run."""

    def __init__(self, box):
        self.box = box

    def interrupt(self):
        try:
            self.box.proc.stdin.write(b"interrupt\n")
            self.box.proc.stdin.flush()
        except OSError:
            pass

    def kill(self):
        self.box.kill()


def _loop(monitor, fds: dict, notebook_deadline: float, control_fd: int | None = None, on_control=None):
    """Read the run's pipes until they close (cold) or the zygote reports the run finished (warm)."""
    sel = selectors.DefaultSelector()
    for fd in list(fds) + ([control_fd] if control_fd is not None else []):
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    open_fds = set(fds)
    finished = False
    try:
        while (open_fds if control_fd is None else not finished):
            for key, _ in sel.select(timeout=monitor.next_timeout(notebook_deadline)):
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
                if fds[key.fd] != monitor.on_channel and monitor.current is None:
                    # output before its cell's "start" was read: the runner reports the start before it runs
                    # the cell, so catch up on the channel first and the output goes to the cell that printed it
                    _drain(monitor, {fd: h for fd, h in fds.items() if fd in open_fds and h == monitor.on_channel})
                if fds[key.fd] == monitor.on_channel:
                    # the runner flushes a cell's output before it reports the cell: read that output
                    # first, so it is credited to the cell that printed it
                    _drain(monitor, {fd: h for fd, h in fds.items() if fd in open_fds and h != monitor.on_channel})
                if not monitor.stopped:
                    fds[key.fd](data)
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
                handler(data)


def execute(plan: list[Step], sandbox: Sandbox, *, files_dir: str | None = None,
            env: dict | None = None, warm: "WarmKernel | None" = None) -> Execution:
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
        box = sandbox.spawn(sandbox.runner_argv() + [str(write_fd)], files_dir=files_dir,
                            pass_fds=(write_fd,), scratch=scratch, env=env)
    finally:
        os.close(write_fd)
    monitor = _Monitor(plan, sandbox.limits, _ColdRun(box))
    try:
        box.proc.stdin.write((json.dumps({"cells": [s.to_json() for s in plan]}) + "\n").encode())
        box.proc.stdin.flush()
    except OSError:
        pass
    fds = {box.proc.stdout.fileno(): monitor.on_output, box.proc.stderr.fileno(): monitor.on_output,
           read_fd: monitor.on_channel}
    try:
        _loop(monitor, fds, started + sandbox.limits.notebook_seconds)
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
        how = f"signal {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
        run.limits.append(f"the kernel died{where} ({how}); the cells after it were not run")
        if monitor.current is not None:
            run.cells[monitor.current].status = "stopped"
    for step in plan:
        if step.kind == "probe" and step.grade_id not in run.values and step.grade_id not in run.problems:
            run.problems[step.grade_id] = "not reached: the notebook stopped before this test"
    return run


_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xai-zygote-spawner")


class WarmKernel:
    """A sandbox whose zygote has the assignment's libraries imported; runs fork from it one by one.

    Safe because runs never overlap: each run's child drops to the leased
    unprivileged uid with its own rlimits, and before a run is reported
    finished the zygote kills every process of that uid and wipes /scratch,
    /tmp and /dev/shm (see ``_runner.serve``). Only available when the grader
    is root (the zygote needs CAP_SETUID inside the sandbox); otherwise
    :func:`execute` starts a cold sandbox per run.
    """

    def __init__(self, sandbox: Sandbox, files_dir: str | None, preload: tuple[str, ...]):
        self.sandbox = sandbox
        self.limits = sandbox.limits
        self.broken = False
        self.channel_r, channel_w = os.pipe()
        self.control_r, control_w = os.pipe()
        try:
            # bwrap's --die-with-parent follows the *thread* that started it: a zygote outlives the
            # worker thread that asked for it only when a long-lived thread spawns it
            self.box = _SPAWNER.submit(sandbox.spawn, sandbox.runner_argv() + ["--zygote", str(channel_w),
                                                                               str(control_w)],
                                       files_dir=files_dir, pass_fds=(channel_w, control_w), zygote=True).result()
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
        limits = {"memory_bytes": lim.memory_bytes, "processes": lim.processes, "file_bytes": lim.file_bytes,
                  "open_files": lim.open_files, "cpu_seconds": lim.cpu_seconds}
        monitor = _Monitor(plan, lim, self)
        state = {"status": None}

        def on_control(data: bytes) -> bool:
            if not data:
                self.broken = True
                return True
            self._control_buffer += data
            while b"\n" in self._control_buffer:
                line, self._control_buffer = self._control_buffer.split(b"\n", 1)
                event = json.loads(line)
                if event.get("event") == "exited":
                    state["status"] = int(event["status"])
                    return True
            return False

        self._send({"cmd": "run", "uid": self.uid, "limits": limits, "env": dict(env),
                    "plan": {"cells": [s.to_json() for s in plan]}})
        fds = {self.box.proc.stdout.fileno(): monitor.on_output, self.box.proc.stderr.fileno(): monitor.on_output,
               self.channel_r: monitor.on_channel}
        deadline = started + lim.notebook_seconds
        _loop(monitor, fds, deadline, control_fd=self.control_r, on_control=on_control)
        if state["status"] is None:  # the zygote itself failed: never reuse it
            self.broken = True
            self.close()
            state["status"] = -9
        return _conclude(monitor, plan, state["status"], started)

    def close(self) -> None:
        for fd in (self.channel_r, self.control_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.box.close()
        self.broken = True
