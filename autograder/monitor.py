"""The run monitor: what watches one sandboxed run's pipes, deadlines, output and memory.

:class:`_Monitor` sends the plan one step at a time and turns what the runner
reports into an :class:`~autograder.plan.Execution`; :func:`_loop` is the one
select loop over the run's pipes (output, event channel, the runner's inbox
and, for a warm kernel, the zygote's control pipe) that both a cold run and a
warm run drive it with (:mod:`autograder.kernel`).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import time

from autograder.events import MAX_EVENT_BYTES, ProtocolError, fmt_bytes, parse_event, read_result
from autograder.grading.plaindata import MAX_VALUE_BYTES
from autograder.plan import CellResult, Execution, ProbeError, Step

#: output kept per cell for the feedback (the limit on what is *read* is Limits.output_bytes)
KEEP_OUTPUT = 4000


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
                self.run.values[gid] = [read_result(item) for item in event["items"]]
            else:
                value = read_result(event)
                if isinstance(value, ProbeError):
                    self.run.problems[gid] = value.message
                else:
                    self.run.values[gid] = value
        self._send_next()

    def _note_resource_error(self, step: Step, error: str | None) -> None:
        if error == "MemoryError":
            self.limit(f"memory limit ({fmt_bytes(self.lim.memory_bytes)}) reached in {step.label} (MemoryError)")
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
                f"output limit ({fmt_bytes(self.lim.output_bytes)}) exceeded{where}; the notebook was stopped there"
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
            self.limit(f"a graded value was larger than {fmt_bytes(MAX_VALUE_BYTES)}{self._where()}")
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
                    f"memory limit ({fmt_bytes(self.lim.memory_bytes)}) reached{self._where()} "
                    f"({fmt_bytes(held)} held in memfd files); the notebook was stopped there"
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
                    # select says which pipes are ready, not in which order they were written; the runner
                    # flushes a cell's output before it reports the cell, so the output already in the pipes
                    # is this cell's or earlier: read it before the event moves the monitor to the next step
                    # (needed, not a workaround: no loop over separate pipes can learn that order otherwise)
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
        # warm: the run's writers are dead; empty the shared pipes completely so that nothing of this
        # run is read as the next student's output (needed: a warm kernel's pipes outlive the run)
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


def _conclude(monitor, plan, status, started) -> Execution:
    """The run's record once its process ended: a death the monitor did not cause, and the probes never reached."""
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
