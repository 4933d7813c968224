"""The sandbox and the sandboxed runner: isolation, limits, plain-data values (autograder.sandbox/kernel)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from autograder import sandbox as sandbox_mod
from autograder.grading.plaindata import PlainDataError, decode
from autograder.kernel import Step, execute
from autograder.sandbox import Limits, Sandbox, SandboxError, sandbox_available
from course.errors import CourseError

pytestmark = pytest.mark.skipif(not sandbox_available()[0], reason=f"no sandbox: {sandbox_available()[1]}")

FAST = Limits(cell_seconds=3, notebook_seconds=30, interrupt_grace=0.5)


def run(*cells, limits=FAST, hide=()):
    """Cells are code strings, or ("probe", grade_id, expression)."""
    plan = []
    for i, cell in enumerate(cells):
        if isinstance(cell, tuple):
            plan.append(Step(i, "probe", cell[2], grade_id=cell[1], label=f"test {cell[1]}"))
        else:
            plan.append(Step(i, "code", cell, label=f"cell {i + 1}"))
    return execute(plan, Sandbox(limits, hide=hide))


def test_values_come_back_as_plain_data():
    r = run(
        "import numpy as np\nx = 6 * 7\na = np.arange(6.0).reshape(2, 3)",
        ("probe", "n", "x"),
        ("probe", "arr", "a"),
        ("probe", "mix", "{'s': {'B', 'C'}, 't': (1, 'two', None)}"),
    )
    assert r.completed and r.limits == []
    assert r.values["n"] == 42
    np.testing.assert_array_equal(r.values["arr"], [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert r.values["arr"].dtype == np.float64
    assert r.values["mix"] == {"s": frozenset({"B", "C"}), "t": [1, "two", None]}


@pytest.mark.parametrize(
    "definition",
    [
        "class V:\n    def __eq__(self, other): return True\nv = V()",
        "class V(float):\n    def __eq__(self, other): return True\nv = V(1.0)",
        "import numpy as np\nclass V(np.ndarray):\n    def __eq__(self, other): return True\nv = np.zeros(3).view(V)",
        "class M(type):\n    def __eq__(cls, other): return True\n    __hash__ = type.__hash__\n"
        "class V(metaclass=M): pass\nv = V()",
        "v = [1, 2, object()]",
        "import numpy as np\nv = np.array([object()], dtype=object)",
    ],
)
def test_objects_with_their_own_methods_do_not_cross(definition):
    r = run(definition, ("probe", "q", "v"))
    assert "q" not in r.values
    assert "not plain data" in r.problems["q"]


def test_course_directory_is_invisible(tmp_path):
    secret = tmp_path / "course"
    secret.mkdir()
    (secret / "gradebook.db").write_text("SECRET-ROWS")
    r = run(
        f"import os\nseen = os.path.exists({str(secret)!r})\n"
        f"try:\n    text = open({str(secret / 'gradebook.db')!r}).read()\n"
        "except OSError as e:\n    text = type(e).__name__",
        ("probe", "seen", "seen"),
        ("probe", "text", "text"),
        hide=(str(secret),),
    )
    assert r.values == {"seen": False, "text": "FileNotFoundError"}


def test_writes_only_in_scratch():
    beside_package = os.path.join(os.path.dirname(sandbox_mod.__file__), "evil")
    code = (
        "import os\nresult = {}\n"
        "for path in ['/usr/evil', '/opt/xai-grader/evil', '/evil', "
        f"{beside_package!r}, '/scratch/ok', '/tmp/ok']:\n"
        "    try:\n        open(path, 'w').write('x'); result[path] = 'written'\n"
        "    except OSError as e:\n        result[path] = type(e).__name__\n"
    )
    r = run(code, ("probe", "w", "result"))
    written = sorted(p for p, v in r.values["w"].items() if v == "written")
    assert written == ["/scratch/ok", "/tmp/ok"]
    assert not os.path.exists(os.path.join(os.path.dirname(sandbox_mod.__file__), "evil"))


def test_no_network():
    r = run(
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=3); net = 'open'\n"
        "except OSError as e:\n    net = type(e).__name__",
        ("probe", "net", "net"),
    )
    assert r.values["net"] in ("OSError", "ConnectionRefusedError", "TimeoutError")
    assert r.values["net"] != "open"


@pytest.mark.skipif(os.geteuid() != 0, reason="the leased uid is used when the grader runs as root")
def test_runs_as_an_unprivileged_uid_without_capabilities():
    r = run(
        "import os\nuid = os.getuid()\ncap = [l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('CapEff')][0]",
        ("probe", "uid", "uid"),
        ("probe", "cap", "cap"),
    )
    assert sandbox_mod.UID_BASE <= r.values["uid"] < sandbox_mod.UID_BASE + sandbox_mod.UID_COUNT
    assert int(r.values["cap"], 16) == 0


def test_slow_cell_is_interrupted_and_the_rest_still_runs():
    r = run("x = 1", ("probe", "a", "x"), "import time\ntime.sleep(60)", "y = 2", ("probe", "b", "y"))
    assert r.values == {"a": 1, "b": 2}
    assert any("cell time limit (3 s) reached in cell 3" in line for line in r.limits)
    assert r.cells[2].status == "interrupted"


def test_swallowed_interrupt_stops_the_notebook_but_keeps_finished_parts():
    r = run(
        "x = 1",
        ("probe", "a", "x"),
        "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except KeyboardInterrupt:\n        pass",
        ("probe", "b", "x"),
    )
    assert r.values == {"a": 1}
    assert "not reached" in r.problems["b"]
    assert any("ignored the interrupt" in line for line in r.limits)


def test_notebook_time_limit():
    r = run(
        "x = 1",
        ("probe", "a", "x"),
        "import time\ntime.sleep(4)",
        "time.sleep(4)",
        ("probe", "b", "x"),
        limits=FAST.with_(cell_seconds=10, notebook_seconds=6),
    )
    assert r.values == {"a": 1}
    assert any("notebook time limit (6 s)" in line for line in r.limits)


def test_memory_limit_raises_memory_error_in_the_cell():
    r = run(
        "try:\n    hog = bytearray(3 << 30)\nexcept MemoryError:\n    raise",
        "x = 5",
        ("probe", "a", "x"),
        limits=FAST.with_(memory_bytes=1 << 30),
    )
    assert r.values == {"a": 5}
    assert any("memory limit (1024 MB)" in line for line in r.limits)


def test_process_limit_stops_a_fork_bomb():
    code = (
        "import os, time\nkids = 0\nwhile True:\n    pid = os.fork()\n    if pid == 0:\n"
        "        time.sleep(30)\n        os._exit(0)\n    kids += 1"
    )
    r = run(code, ("probe", "kids", "kids"), limits=FAST.with_(processes=20))
    assert 0 < r.values["kids"] < 20
    assert any("process limit (20 processes)" in line for line in r.limits)


def test_output_limit():
    r = run(
        "x = 3",
        ("probe", "a", "x"),
        "print('y' * (10 << 20))",
        ("probe", "b", "x"),
        limits=FAST.with_(output_bytes=1 << 20),
    )
    assert r.values == {"a": 3}
    assert any("output limit (1 MB) exceeded in cell 3" in line for line in r.limits)
    assert len(r.cells[2].output) <= 4000


@pytest.mark.parametrize("crash", ["import os\nos._exit(3)", "import ctypes\nctypes.string_at(0)"])
def test_dead_kernel_keeps_finished_parts(crash):
    r = run("x = 1", ("probe", "a", "x"), crash, ("probe", "b", "x"))
    assert r.values == {"a": 1}
    assert any("the kernel died in cell 3" in line for line in r.limits)


def test_sys_exit_does_not_end_the_notebook():
    r = run("import sys\nsys.exit(1)", "x = 4", ("probe", "a", "x"))
    assert r.values == {"a": 4} and r.limits == []


def test_refuses_without_bubblewrap(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    sandbox_available.cache_clear()
    try:
        with pytest.raises(SandboxError, match="--unsafe-no-sandbox"):
            Sandbox(FAST).check()
        Sandbox(FAST, unsafe=True).check()  # explicitly unsafe: allowed
    finally:
        sandbox_available.cache_clear()


def test_limits_are_validated():
    with pytest.raises(CourseError, match="cell_seconds"):
        Limits(cell_seconds=0)


@pytest.mark.parametrize(
    "text",
    [
        '{"__ndarray__": {"dtype": "|O", "shape": [1], "data": ""}}',
        '{"__ndarray__": {"dtype": "<f8", "shape": [2], "data": "AAAAAAAA8D8="}}',  # 8 bytes for 2 floats
        '{"__reduce__": ["os.system", "x"]}',
        '{"a": 1}',
        "not json",
    ],
)
def test_decoder_rejects_anything_but_plain_data(text):
    with pytest.raises(PlainDataError):
        decode(text)


def test_decoder_rebuilds_arrays_from_raw_bytes():
    # 1.0 and 2.0 as little-endian float64: 0x3ff0000000000000, 0x4000000000000000
    data = np.array([1.0, 2.0], "<f8").tobytes()
    import base64

    text = json.dumps({"__ndarray__": {"dtype": "<f8", "shape": [2], "data": base64.b64encode(data).decode()}})
    np.testing.assert_array_equal(decode(text), [1.0, 2.0])


@pytest.mark.skipif(os.geteuid() != 0, reason="warm kernels need root (the zygote drops each run to a uid)")
def test_warm_runs_leave_nothing_for_the_next_student():
    from autograder.kernel import WarmKernel

    box = Sandbox(FAST)
    warm = WarmKernel(box, None, ("numpy",))
    try:
        litter = (
            "import os, time\nfor path in ('/tmp/a', '/scratch/b', '/dev/shm/c'):\n"
            "    open(path, 'w').write('answers of student 1')\n"
            "if os.fork() == 0:\n    time.sleep(60)\n    os._exit(0)\n"
            "try:\n    os.kill(os.getppid(), 9)\n    zygote = 'killed'\nexcept OSError as e:\n"
            "    zygote = type(e).__name__"
        )
        first = execute([Step(0, "code", litter, label="c1"), Step(1, "probe", "zygote", grade_id="z")], box, warm=warm)
        assert first.values == {"z": "PermissionError"}
        # entries of another owner are mount points (a checkout under /tmp), not litter
        look = (
            "import os\nleft = sorted(p for d in ('/tmp', '/scratch', '/dev/shm') for p in os.listdir(d)\n"
            "              if os.lstat(os.path.join(d, p)).st_uid == os.getuid())\n"
            "mine = [p for p in os.listdir('/proc') "
            "if p.isdigit() and os.stat('/proc/' + p).st_uid == os.getuid()]"
        )
        second = execute(
            [
                Step(0, "code", look, label="c1"),
                Step(1, "probe", "left", grade_id="left"),
                Step(2, "probe", "len(mine)", grade_id="mine"),
            ],
            box,
            warm=warm,
        )
        assert warm.usable()
        assert second.values == {"left": [], "mine": 1}  # only itself runs (IPython's folder is the zygote's)
    finally:
        warm.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="warm kernels need root (the zygote drops each run to a uid)")
def test_warm_run_output_does_not_spill_into_the_next_run():
    from autograder.kernel import WarmKernel

    box = Sandbox(FAST.with_(output_bytes=1 << 20))
    warm = WarmKernel(box, None, ())
    try:
        flood = execute(
            [Step(0, "code", "import os\nwhile True:\n    os.write(1, b'FLOOD' * 20000)", label="c1")], box, warm=warm
        )
        assert any("output limit" in line for line in flood.limits)
        clean = execute(
            [Step(0, "code", "print('clean')", label="c1"), Step(1, "probe", "1", grade_id="a")], box, warm=warm
        )
        assert clean.cells[0].output == "clean\n" and clean.values == {"a": 1} and clean.limits == []
    finally:
        warm.close()


def test_empty_tmp_is_mounted_before_the_library_so_a_checkout_under_tmp_stays_visible(monkeypatch):
    monkeypatch.setattr(sandbox_mod, "_python_paths", lambda: ["/tmp/clone/.venv", "/tmp/clone/course"])
    args = Sandbox(FAST)._bwrap_args(uid=None, files_dir=None)
    tmp = max(i for i, a in enumerate(args) if a == "--tmpfs" and args[i + 1] == "/tmp")
    binds = [i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 1].startswith("/tmp/clone")]
    assert len(binds) == 2 and tmp < min(binds)


class _Target:
    def interrupt(self):
        pass

    def kill(self):
        pass


def test_output_read_after_a_test_was_sent_stays_with_the_code_cell_that_printed_it():
    # stdout and the event channel are separate pipes: a print of cell 0 can be read after the grader sent
    # the test (probe) 1; test cells show their result line in the feedback, so output credited there was lost
    from autograder.kernel import _Monitor

    plan = [
        Step(0, "code", "print('X')", label="c1"),
        Step(1, "probe", "1", grade_id="t", label="test t"),
        Step(2, "code", "print('Y')", label="c2"),
    ]
    monitor = _Monitor(plan, FAST, _Target())
    monitor.begin()
    monitor.on_channel(b'{"event": "done", "index": 0, "error": null}\n')
    monitor.on_output(b"X\n")
    monitor.on_channel(b'{"event": "value", "index": 1, "grade_id": "t", "data": "1"}\n')
    monitor.on_output(b"Y\n")
    assert monitor.run.cells[0].output == "X\n" and monitor.run.cells[2].output == "Y\n"
    assert monitor.run.cells[1].output == "" and monitor.run.values == {"t": 1}


def test_output_read_after_the_run_ended_stays_with_the_last_code_cell():
    from autograder.kernel import _Monitor

    monitor = _Monitor([Step(0, "code", "print('X')", label="c1")], FAST, _Target())
    monitor.begin()
    monitor.on_channel(b'{"event": "done", "index": 0, "error": null}\n{"event": "end"}\n')
    monitor.on_output(b"X\n")
    assert monitor.run.cells[0].output == "X\n" and monitor.run.completed


def test_the_grader_sends_one_step_at_a_time_and_times_it_from_then():
    from autograder.kernel import _Monitor

    plan = [Step(0, "code", "x = 1", label="c1"), Step(1, "probe", "x", grade_id="t", label="test t")]
    monitor = _Monitor(plan, FAST, _Target())
    monitor.begin()
    assert bytes(monitor.outbox).count(b"\n") == 1 and b'"index": 0' in monitor.outbox
    monitor.outbox.clear()
    monitor.cell_deadline = None  # as if long ago: the next step gets a deadline of its own
    monitor.on_channel(b'{"event": "done", "index": 0, "error": null}\n')
    assert b'"index": 1' in monitor.outbox and monitor.cell_deadline is not None
    monitor.on_channel(b'{"event": "value", "index": 1, "grade_id": "t", "data": "1"}\n')
    assert monitor.outbox.endswith(b'{"end": true}\n') and monitor.cell_deadline is None


@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_death_by_a_real_time_signal_is_reported_by_number(mode):
    """Signal 40 has no name in signal.Signals: the conclusion must not crash on it (warm once did)."""
    warm = None
    box = Sandbox(FAST)
    if mode == "warm":
        if os.geteuid() != 0:
            pytest.skip("warm kernels need root")
        from autograder.kernel import WarmKernel

        warm = WarmKernel(box, None, ())
    try:
        plan = [
            Step(0, "code", "x = 1", label="cell 1"),
            Step(1, "probe", "x", grade_id="a", label="test a"),
            Step(2, "code", "import os, signal\nos.kill(os.getpid(), signal.SIGRTMIN + 6)", label="cell 3"),
            Step(3, "probe", "x", grade_id="b", label="test b"),
        ]
        r = execute(plan, box, warm=warm)
    finally:
        if warm is not None:
            warm.close()
    assert r.values == {"a": 1}
    # warm: the child's own status; cold: bwrap's exit status 128 + 40, read the same way
    assert any(line.startswith("the kernel died in cell 3 (") and "signal 40)" in line for line in r.limits), r.limits
