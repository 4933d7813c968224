"""Execute a notebook plan in the sandbox and collect the graded values as plain data.

A *plan* is the restored notebook as a list of steps: ``code`` cells (the
student's answers and the instructor's locked cells) and ``probe`` steps that
stand where the autograder-test cells were: one Python expression per grade id,
evaluated in the student's namespace, whose value comes back as plain data
(:mod:`autograder.grading.plaindata`). The hidden tests and the keys never enter the
sandbox; the grader compares values in its own process
(:mod:`autograder.grading.checkers`).

The grader sends the plan one step at a time and times each step from when it
sent it; the runner reports each step on an event channel that the student's
code, running in the same process, can write to as well. Events are therefore
trusted for nothing but this run's own values: :func:`parse_event` checks size,
nesting and shape before anything is parsed (:mod:`autograder.events`), the
monitor checks each event's turn (:mod:`autograder.monitor`), and any other
line ends the run as *broken* (its processes killed, its warm kernel retired).
This module starts the runs: :func:`execute` a cold sandbox per run,
:class:`WarmKernel` a zygote that runs fork from; the records of a run are in
:mod:`autograder.plan` and stay importable from here.

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
import select
import selectors
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from autograder.events import ProtocolError, parse_event
from autograder.monitor import _ColdRun, _conclude, _loop, _Monitor
from autograder.plan import CellResult, Execution, ProbeError, Step
from autograder.sandbox import Sandbox, ipc_sysctls

__all__ = ["Step", "ProbeError", "ProtocolError", "CellResult", "Execution", "execute", "parse_event", "WarmKernel"]


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
