"""The runner's event channel as a hostile student uses it (issue: grades that no submission can bend).

Student code runs in the runner's own process, so it can write anything to the
event channel. What must hold: a malformed event ends that run as *broken*
(never an exception out of the grader), the warm kernel that served it is
retired, a cell's deadline is the grader's own clock from when it sent the
cell, and nothing a run forges reaches another run.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.kernel import Step, _Monitor, execute
from autograder.sandbox import Limits, Sandbox, sandbox_available

FAST = Limits(cell_seconds=3, notebook_seconds=30, interrupt_grace=0.5)
needs_sandbox = pytest.mark.skipif(not sandbox_available()[0], reason=f"no sandbox: {sandbox_available()[1]}")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="warm kernels need root (the zygote drops each run to a uid)")

#: student code that finds every write-only pipe it holds (the event channel among them), whatever its number
CHANNELS = """
import os, stat
def channels():
    found = []
    for name in os.listdir('/proc/self/fd'):
        fd = int(name)
        try:
            info = open(f'/proc/self/fdinfo/{fd}').read()
            flags = int(info.split('flags:')[1].split()[0], 8)
            if fd > 2 and flags & 3 == 1 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                found.append(fd)
        except (OSError, IndexError, ValueError):
            pass
    return found
def forge(data):
    for fd in channels():
        try:
            os.write(fd, data)
        except OSError:
            pass
"""

#: a background process that outlives its cell and forges values for any index, for 20 s
LINGER = (
    CHANNELS
    + """
import json, time
if os.fork() == 0:
    os.setsid()
    end = time.time() + 20
    while time.time() < end:
        for index in range(8):
            forge((json.dumps({"event": "value", "index": index, "grade_id": "a", "data": "-1"}) + "\\n").encode())
            forge((json.dumps({"event": "done", "index": index, "error": None}) + "\\n").encode())
        forge(b'{"event": "end"}\\n')
        time.sleep(0.05)
    os._exit(0)
time.sleep(0.3)
"""
)

MALFORMED = {
    "list": b"[1, 2]\n",
    "deep": b"[" * 200000 + b"]" * 200000 + b"\n",
    "deep_object": b'{"event": "value", "index": 1, "grade_id": "a", "data": "1", "x": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}\n",
    "items_shape": b'{"event": "value", "index": 1, "grade_id": "a", "items": [[1], {"data": 5}]}\n',
    "array_shape": (
        json.dumps(
            {
                "event": "value",
                "index": 1,
                "grade_id": "a",
                "data": json.dumps({"__ndarray__": {"dtype": "<f8", "shape": [0, 2**62, 2**62], "data": ""}}),
            }
        )
        + "\n"
    ).encode(),
    "not_utf8": b'{"event": "done", "index": 0, "error": "\xff\xfe"}\n',
    "wrong_index": b'{"event": "done", "index": 7, "error": null}\n',
    "forged_start": b'{"event": "start", "index": 0}\n',
    "number_index": b'{"event": "done", "index": 1e400, "error": null}\n',
}


def _plan(hostile: str) -> list[Step]:
    return [
        Step(0, "code", hostile, label="cell 1"),
        Step(1, "probe", "x", grade_id="a", label="test a"),
        Step(2, "code", "y = 2", label="cell 3"),
        Step(3, "probe", "y", grade_id="b", label="test b"),
    ]


HONEST = [
    Step(0, "code", "x = 41 + 1", label="cell 1"),
    Step(1, "probe", "x", grade_id="a", label="test a"),
    Step(2, "code", "y = 'ok'", label="cell 3"),
    Step(3, "probe", "y", grade_id="b", label="test b"),
]


class _Target:
    def __init__(self):
        self.killed = self.interrupted = 0

    def interrupt(self):
        self.interrupted += 1

    def kill(self):
        self.killed += 1


# ------------------------------------------------------------------ the parser, without a sandbox


def _fed(monitor: _Monitor, *events) -> None:
    for event in events:
        monitor.on_channel(event if isinstance(event, bytes) else (json.dumps(event) + "\n").encode())


def _honest_events():
    return [
        {"event": "done", "index": 0, "error": None},
        {"event": "value", "index": 1, "grade_id": "a", "data": "42"},
        {"event": "done", "index": 2, "error": None},
        {"event": "value", "index": 3, "grade_id": "b", "data": '"ok"'},
        {"event": "end"},
    ]


def test_an_honest_event_sequence_gives_every_value():
    monitor = _Monitor(HONEST, FAST, _Target())
    monitor.begin()
    _fed(monitor, *_honest_events())
    assert monitor.run.values == {"a": 42, "b": "ok"} and monitor.run.completed and not monitor.run.broken


@pytest.mark.parametrize("name", sorted(set(MALFORMED) - {"array_shape"}))
def test_a_malformed_event_breaks_the_run_and_raises_nothing(name):
    target = _Target()
    monitor = _Monitor(HONEST, FAST, target)
    monitor.begin()
    _fed(monitor, {"event": "done", "index": 0, "error": None}, MALFORMED[name])
    assert monitor.run.broken, name
    assert target.killed >= 1
    assert any("event protocol" in line for line in monitor.run.limits)
    _fed(monitor, *_honest_events()[1:])  # nothing after the break counts
    assert monitor.run.values == {} and not monitor.run.completed


def test_an_array_of_impossible_shape_in_its_turn_is_no_value_and_raises_nothing():
    """The decoder refuses it (plain data only) or its own limits break the run: either way, no exception."""
    monitor = _Monitor(HONEST, FAST, _Target())
    monitor.begin()
    _fed(monitor, {"event": "done", "index": 0, "error": None}, MALFORMED["array_shape"])
    assert "a" not in monitor.run.values
    assert monitor.run.broken or "not plain data" in monitor.run.problems["a"]


def test_an_endless_line_is_a_value_over_the_size_limit():
    target = _Target()
    monitor = _Monitor(HONEST, FAST, target)
    monitor.begin()
    _fed(monitor, {"event": "done", "index": 0, "error": None}, b'{"event": "value", "data": "' + b"x" * (20 << 20))
    assert monitor.stopped and target.killed == 1 and monitor.run.values == {}
    assert any("a graded value was larger than 16 MB in test a" in line for line in monitor.run.limits)


def test_events_out_of_turn_are_protocol_errors():
    for events in (
        [{"event": "value", "index": 1, "grade_id": "a", "data": "1"}],  # probe before its cell
        [{"event": "done", "index": 0, "error": None}] * 2,  # a cell reported twice
        [{"event": "end"}],  # the end before the grader sent it
        [
            {"event": "done", "index": 0, "error": None},
            {"event": "value", "index": 1, "grade_id": "other", "data": "1"},
        ],
    ):  # someone else's grade id
        monitor = _Monitor(HONEST, FAST, _Target())
        monitor.begin()
        _fed(monitor, *events)
        assert monitor.run.broken, events
        assert "a" not in monitor.run.values


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    junk=st.one_of(
        st.binary(max_size=300),
        JSON.map(lambda v: (json.dumps(v) + "\n").encode()),
        st.dictionaries(
            st.sampled_from(["event", "index", "grade_id", "data", "items", "error", "not_plain"]), JSON, max_size=5
        ).map(lambda v: (json.dumps(v) + "\n").encode()),
    ),
    after=st.integers(0, 4),
)
def test_fuzzed_events_break_only_their_own_run(junk, after):
    """Random bytes or JSON anywhere in the stream: this run is broken or unaffected; the next run is exact."""
    target = _Target()
    monitor = _Monitor(HONEST, FAST, target)
    monitor.begin()
    events = _honest_events()
    _fed(monitor, *events[:after], junk, *events[after:])
    run = monitor.run
    if run.broken:
        assert target.killed >= 1 and any("event protocol" in line for line in run.limits)
        assert set(run.values) <= {"a", "b"}  # whatever it claimed is for its own grade ids only
    else:  # junk that was not an event at all (nothing, or one well-formed report in its turn)
        assert run.values == {"a": 42, "b": "ok"} and run.completed
    other = _Monitor(HONEST, FAST, _Target())  # the next student's run is untouched by any of it
    other.begin()
    _fed(other, *_honest_events())
    assert other.run.values == {"a": 42, "b": "ok"} and not other.run.broken


# ------------------------------------------------------------------ in the sandbox (cold and warm)


@pytest.fixture(params=["cold", "warm"])
def runner(request):
    """execute(plan) in a cold sandbox, or on warm kernels (a new one whenever the last was retired)."""
    box = Sandbox(FAST)
    if request.param == "cold":
        yield lambda plan: execute(plan, box), None
        return
    if os.geteuid() != 0:
        pytest.skip("warm kernels need root")
    from autograder.kernel import WarmKernel

    kernels = []

    def run(plan):
        if not kernels or not kernels[-1].usable():
            kernels.append(WarmKernel(box, None, ("numpy",)))
        return execute(plan, box, warm=kernels[-1])

    yield run, kernels
    for kernel in kernels:
        kernel.close()


@needs_sandbox
@pytest.mark.parametrize(
    "name",
    ["list", "deep"]
    + [pytest.param(n, marks=pytest.mark.slow) for n in ("items_shape", "array_shape", "forged_start", "not_utf8")],
)
def test_malformed_event_in_the_sandbox_breaks_that_run_and_the_next_run_is_exact(runner, name):
    run, kernels = runner
    hostile = LINGER + f"forge({MALFORMED[name]!r})\nx = 5\ntime.sleep(1)"
    first = run(_plan(hostile))
    assert first.values.get("a") in (None, -1)  # a forged claim for its own grade id at most
    assert any("event protocol" in line for line in first.limits), first.limits
    if kernels is not None:
        assert not kernels[0].usable()  # retired: a broken run never goes back to the pool
    started = time.monotonic()
    second = run(HONEST)
    assert second.values == {"a": 42, "b": "ok"} and second.limits == [] and second.completed
    assert time.monotonic() - started < 10


@needs_sandbox
def test_a_background_process_cannot_talk_for_the_next_run(runner):
    run, kernels = runner
    first = run(_plan(LINGER + "x = 5"))  # a child that outlives its cell, forging well-formed events
    assert first.values.get("a") in (None, 5, -1)
    second = run(HONEST)
    assert second.values == {"a": 42, "b": "ok"} and second.limits == []


@needs_sandbox
def test_forged_events_do_not_extend_the_cell_time_limit(runner):
    run, _ = runner
    stall = CHANNELS + (
        "import json, time\nend = time.time() + 25\nwhile time.time() < end:\n"
        '    forge(b\'{"event": "start", "index": 0}\\n\')\n'
        '    forge(b\'{"event": "done", "index": 0, "error": null}\\n\')\n    time.sleep(0.5)\n'
    )
    started = time.monotonic()
    result = run(_plan(stall + "x = 5"))
    took = time.monotonic() - started
    assert took < FAST.cell_seconds + FAST.interrupt_grace + 4, took
    assert "b" not in result.values


@needs_sandbox
def test_a_forged_done_gains_no_time_over_the_cells_it_claims(runner):
    """Claiming a cell finished early hands the grader's next deadline to the same process, no more."""
    run, _ = runner
    claim = CHANNELS + (
        'import time\nforge(b\'{"event": "done", "index": 0, "error": null}\\n\')\n'
        "while True:\n    try:\n        time.sleep(30)\n    except KeyboardInterrupt:\n        pass\n"
    )
    started = time.monotonic()
    result = run(_plan(claim))
    took = time.monotonic() - started
    assert took < 2 * (FAST.cell_seconds + FAST.interrupt_grace) + 4, took
    assert "b" not in result.values


@needs_sandbox
@needs_root
@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(junk=st.one_of(st.binary(min_size=1, max_size=200), JSON.map(lambda v: (json.dumps(v) + "\n").encode())))
def test_fuzzed_bytes_from_a_sandboxed_cell_break_only_that_run(junk):
    """Random bytes or JSON written by student code in a warm kernel: the next student's run stays exact."""
    from autograder.kernel import WarmKernel

    box = Sandbox(FAST)
    kernel = WarmKernel(box, None, ())
    try:
        first = execute(_plan(CHANNELS + f"forge({junk!r})\nx = 5\nimport time\ntime.sleep(0.3)"), box, warm=kernel)
        assert set(first.values) <= {"a", "b"}
        if first.broken:
            assert not kernel.usable()
            kernel.close()
            kernel = WarmKernel(box, None, ())
        second = execute(HONEST, box, warm=kernel)
        assert second.values == {"a": 42, "b": "ok"} and second.limits == []
    finally:
        kernel.close()
