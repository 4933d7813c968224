"""Nothing of one run is visible to the next (issue: grades that no submission can bend, state between students).

Each test lets a first run leave something behind — SysV shared memory, files
in directories of mode 000/555, keys in the kernel keyrings, answer literals in
memory — and a second run on the same warm kernel (or a cold sandbox that got
the same leased uid) look for it.
"""

from __future__ import annotations

import os
import secrets

import pytest

from autograder.kernel import Step, WarmKernel, execute
from autograder.sandbox import Limits, Sandbox, ipc_sysctls, sandbox_available

pytestmark = [
    pytest.mark.skipif(not sandbox_available()[0], reason=f"no sandbox: {sandbox_available()[1]}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="warm kernels and leased uids need root"),
]

FAST = Limits(cell_seconds=5, notebook_seconds=30, interrupt_grace=0.5)


def _steps(code: str, *probes: str) -> list[Step]:
    plan = [Step(0, "code", code, label="cell 1")]
    plan += [Step(i + 1, "probe", p, grade_id=p, label=f"test {p}") for i, p in enumerate(probes)]
    return plan


@pytest.fixture
def warm():
    box = Sandbox(FAST)
    kernel = WarmKernel(box, None, ("numpy",))
    yield lambda code, *probes: execute(_steps(code, *probes), box, warm=kernel), kernel
    kernel.close()


SHM = """
import ctypes, ctypes.util
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
"""


def test_sysv_shared_memory_is_gone_for_the_next_run(warm):
    run, kernel = warm
    first = run(
        SHM + "sid = libc.shmget(0x5eed, 4096, 0o1666)\naddr = libc.shmat(sid, None, 0)\n"
        "ctypes.memmove(addr, b'ANSWER-OF-STUDENT-1', 19)\nlibc.shmdt(ctypes.c_void_p(addr))",
        "sid >= 0",
    )
    assert first.values == {"sid >= 0": True}
    second = run(
        SHM + "seen = libc.shmget(0x5eed, 0, 0)\nlisted = len(open('/proc/sysvipc/shm').read().splitlines()) - 1",
        "seen",
        "listed",
    )
    assert second.values == {"seen": -1, "listed": 0}
    assert kernel.usable()


def test_directories_of_any_mode_are_wiped(warm):
    run, kernel = warm
    litter = (
        "import os\nfor top in ('/tmp', '/scratch', '/dev/shm'):\n"
        "    for mode in (0o000, 0o555, 0o500, 0o100):\n"
        "        d = f'{top}/d{mode:o}'\n        os.makedirs(d + '/inner')\n"
        "        open(d + '/inner/secret', 'w').write('student 1')\n"
        "        open(d + '/secret', 'w').write('student 1')\n"
        "        os.chmod(d + '/inner', mode)\n        os.chmod(d, mode)\n"
        "    os.symlink('/etc/passwd', f'{top}/link')\n"
        "made = sorted(os.listdir('/tmp'))"
    )
    first = run(litter, "made")
    assert "d0" in first.values["made"] and "d555" in first.values["made"]
    look = (
        "import os\nleft = sorted(f'{d}/{p}' for d in ('/tmp', '/scratch', '/dev/shm') for p in os.listdir(d)\n"
        "              if os.lstat(os.path.join(d, p)).st_uid == os.getuid())"
    )
    second = run(look, "left")
    assert second.values == {"left": []}
    assert kernel.usable()


KEYS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
ADD_KEY, KEYCTL = {'x86_64': (248, 250), 'aarch64': (217, 219)}[os.uname().machine]
def add(ring, text):
    return libc.syscall(ADD_KEY, b'user', b'xai-secret', text, ctypes.c_size_t(len(text)), ctypes.c_long(ring))
def search(ring):
    return libc.syscall(KEYCTL, ctypes.c_long(10), ctypes.c_long(ring), b'user', b'xai-secret', ctypes.c_long(0))
RINGS = {'user': -4, 'user_session': -5, 'session': -3}
"""


def _leave_and_look(run):
    first = run(KEYS + "made = {name: add(ring, b'ANSWER-1') > 0 for name, ring in RINGS.items()}", "made")
    assert first.values == {"made": {"user": True, "user_session": True, "session": True}}
    second = run(
        KEYS + "found = {name: search(ring) for name, ring in RINGS.items()}\nimport os\nuid = os.getuid()",
        "found",
        "uid",
    )
    assert second.values["found"] == {"user": -1, "user_session": -1, "session": -1}
    return first, second


def test_no_kernel_keyring_is_carried_over_warm(warm):
    run, kernel = warm
    _leave_and_look(run)
    assert kernel.usable()


def test_no_kernel_keyring_is_carried_over_between_cold_sandboxes_of_the_same_uid():
    box = Sandbox(FAST)
    uids = []

    def run(code, *probes):
        result = execute(_steps(code + "\nimport os\nmy_uid = os.getuid()", *probes, "my_uid"), box)
        uids.append(result.values.pop("my_uid"))
        return result

    _leave_and_look(run)
    assert uids[0] == uids[1]  # one grader process leases the same free uid again: the case that leaked


def test_the_previous_students_answers_are_not_in_the_forked_memory(warm):
    run, kernel = warm
    token = secrets.token_hex(12)
    masked = bytes(b ^ 0x5A for b in f"ANSWER-{token}".encode())
    # a long answer, as a notebook cell often is: the literal itself is in the submitted source many times
    first = run(f"answers = {[f'ANSWER-{token}-{i}' for i in range(300)]!r}", "len(answers)")
    assert first.values == {"len(answers)": 300}
    # the needle is rebuilt from a masked literal, so the only copy of it is the needle object itself
    scan = f"""
import ctypes
libc = ctypes.CDLL(None)
libc.memmem.restype = ctypes.c_void_p
libc.memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
needle = bytes(b ^ 0x5A for b in {masked!r})
own = ctypes.cast(ctypes.c_char_p(needle), ctypes.c_void_p).value
hits = 0
regions = []
for line in open('/proc/self/maps'):
    span, perms = line.split()[:2]
    if perms.startswith('rw') and 'vvar' not in line and 'vsyscall' not in line:
        lo, hi = (int(x, 16) for x in span.split('-'))
        regions.append((lo, hi))
for lo, hi in regions:
    at = lo
    while at < hi:
        found = libc.memmem(at, hi - at, needle, len(needle))
        if not found:
            break
        if found != own:
            hits += 1
        at = found + 1
"""
    second = run(scan, "hits", "len(regions) > 3")
    assert second.values == {"hits": 0, "len(regions) > 3": True}
    assert kernel.usable()


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_memfd_memory_counts_against_the_memory_limit(mode):
    box = Sandbox(FAST.with_(memory_bytes=512 << 20, file_bytes=32 << 20))
    kernel = WarmKernel(box, None, ()) if mode == "warm" else None
    try:
        hog = (
            "import os, time\nfds = []\nfor i in range(40):\n"
            "    fd = os.memfd_create(f'hog{i}')\n    os.write(fd, b'x' * (32 << 20))\n    fds.append(fd)\n"
            "time.sleep(3)\nmade = len(fds)"
        )
        result = execute(_steps(hog, "made", "1 + 1"), box, warm=kernel)
        assert "made" not in result.values, result.values
        assert any("memory limit (512 MB)" in line for line in result.limits), result.limits
    finally:
        if kernel is not None:
            kernel.close()


def test_a_zygote_never_starts_a_run_beside_a_live_one(warm):
    """Asked for a second run while the first one's child lives, the zygote kills the uid and retires."""
    _, kernel = warm
    run = {
        "cmd": "run",
        "uid": kernel.uid,
        "limits": {"memory_bytes": FAST.memory_bytes, "processes": FAST.processes},
        "ipc": ipc_sysctls(FAST.memory_bytes),
    }
    kernel._send(run)  # its child waits for its first step
    kernel._send(run)
    assert kernel.box.proc.wait(timeout=20) == 3
    assert not kernel.usable()


def test_a_warm_run_has_no_capability_left(warm):
    """The zygote keeps CAP_SYS_ADMIN for the child's new IPC namespace; the child drops it with the uid."""
    run, _ = warm
    result = run(
        "import os\ncaps = {l.split(':')[0]: int(l.split()[1], 16) for l in open('/proc/self/status')\n"
        "        if l.startswith(('CapInh', 'CapPrm', 'CapEff', 'CapAmb'))}\n"
        "nnp = [l.split()[1] for l in open('/proc/self/status') if l.startswith('NoNewPrivs')][0]\n"
        "uid = os.getuid()",
        "caps",
        "nnp",
        "uid > 60000",
    )
    assert result.values == {
        "caps": {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapAmb": 0},
        "nnp": "1",
        "uid > 60000": True,
    }


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_sysv_shared_memory_counts_against_the_memory_limit(mode):
    """Detached segments keep their memory where RLIMIT_AS no longer sees it: the run's namespace caps them."""
    box = Sandbox(FAST.with_(memory_bytes=512 << 20))
    kernel = WarmKernel(box, None, ()) if mode == "warm" else None
    try:
        hog = (
            SHM + "made = 0\nfor i in range(24):\n    sid = libc.shmget(0x7000 + i, 64 << 20, 0o1600)\n"
            "    if sid < 0:\n        break\n    addr = libc.shmat(sid, None, 0)\n"
            "    ctypes.memset(addr, 1, 64 << 20)\n    libc.shmdt(ctypes.c_void_p(addr))\n    made += 1"
        )
        result = execute(_steps(hog, "made"), box, warm=kernel)
        assert result.values == {"made": 8}  # 8 x 64 MB = the 512 MB limit, not 24 x 64 MB
    finally:
        if kernel is not None:
            kernel.close()


def test_each_run_starts_from_a_pristine_copy_of_the_zygotes_shell(warm):
    """The zygote makes the IPython shell once; what a run does to its copy (names, history, the shell's
    class, its formatters) is gone for the next run, and the zygote's IPython folder is read-only to runs."""
    run, kernel = warm
    first = run(
        "secret = 'student 1'\nip = get_ipython()\nip.user_ns['planted'] = 1\n"
        "type(ip).planted_attr = 'student 1'\nip.display_formatter.active_types = ['text/plain', 'image/png']\n"
        "import os\nwritable = os.access('/tmp/.ipython', os.W_OK)\ncount = ip.execution_count",
        "writable",
        "count",
    )
    assert first.values == {"writable": False, "count": 2}  # one cell run since the shell was made
    look = (
        "ip = get_ipython()\nseen = sorted(k for k in ('secret', 'planted') if k in ip.user_ns)\n"
        "attr = hasattr(type(ip), 'planted_attr')\nactive = list(ip.display_formatter.active_types)\n"
        "history = [line for line in ip.user_ns['In'] if 'planted_attr' in line and 'hasattr' not in line]"
    )
    second = run(look, "seen", "attr", "active", "history")
    assert second.values == {"seen": [], "attr": False, "active": ["text/plain"], "history": []}
    assert kernel.usable()


def test_rich_reprs_are_not_drawn_in_a_graded_run(warm):
    """A value shown as a cell's last expression is formatted as text only (the grader keeps text output)."""
    run, _ = warm
    shown = run(
        "class Figure:\n    def _repr_png_(self):\n        print('drawn')\n        return b''\n"
        "    def __repr__(self):\n        return '<figure>'\nFigure()"
    )
    assert shown.completed and shown.cells[0].output.strip() == "Out[1]: <figure>"
