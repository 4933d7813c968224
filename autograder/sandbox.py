"""Run untrusted student code in a separate, sandboxed process.

This module is the sandbox's threat model (the docstring below: what is used, what is NOT covered) and one
job: starting a process under prlimit, bubblewrap and setpriv with a leased uid. It is longer than ~400 lines
because the model is written beside the code that implements it; the limits are :mod:`autograder.limits`,
what is mounted and masked is :mod:`autograder.mounts`, both re-exported here.

What is used
------------
- **bubblewrap** (``bwrap``, Debian package ``bubblewrap``) builds an empty
  root file system for the process and bind-mounts into it, *read-only*, only
  what a notebook needs to run: ``/usr`` (with the ``/bin``, ``/lib``
  symlinks), the Python installation and virtual environment, the ``course``
  teaching library and the grader's runner script. Nothing of the course
  directory is mounted: the gradebook, the source notebooks (solutions and
  hidden tests), the keys and every other student's files simply do not exist
  inside. The quiz's answer keys are not part of the ``course`` package: they
  live with the instructor's course files (``exercises/quiz7/keys_quiz7.toml``
  or the file ``XAI_COURSE_QUIZ_KEYS`` names, see :mod:`course.quiz.bank`).
  Should one of them, or a keys file left in the ``course.quiz`` package, lie
  under a mounted tree, it is overlaid with an empty read-only file
  (:func:`autograder.mounts.quiz_keys_paths`), so ``load_bank()``, ``importlib.resources`` or
  ``open()`` inside the sandbox read nothing, and the bank loads without keys
  (the visible checks need only the options). ``/scratch`` (the working directory) and ``/tmp`` are fresh tmpfs
  mounts of a fixed size, discarded when the process ends; they are the only
  writable places.
- **Namespaces** (through bwrap): new PID, network, IPC, UTS and cgroup
  namespaces. The network namespace has no interface but a down loopback, so
  no connection can be opened; the PID namespace hides the grader's processes
  and is killed as a whole when the run ends (``--die-with-parent``).
- **An unprivileged user**: when the grader runs as root, bwrap keeps only
  ``CAP_SETUID``/``CAP_SETGID`` (and ``CAP_SYS_ADMIN``, with which a prelude,
  still root, caps the SysV memory of the run's IPC namespace) and ``setpriv`` (util-linux) drops to a uid
  leased for this one run (61000 + n, no home, no groups), with an empty
  capability bounding set and ``no_new_privs``. Running unprivileged, bwrap
  puts the process in a user namespace instead. File permissions are thus a
  second wall behind the mount namespace.
- **rlimits** (set with ``prlimit`` before bwrap starts, inherited by every
  process of the run): address space (memory), number of processes of the
  leased uid (fork bombs), CPU seconds, size of any file written, number of
  open files.
- **Wall time and output** are enforced by the grader from outside
  (:mod:`autograder.kernel`): it interrupts a cell that runs too long, kills
  the whole process tree when the interrupt is ignored or the notebook runs
  out of time, and stops reading (and kills) after ``output_bytes``. It also
  adds up the memfd files the run's processes hold (memory RLIMIT_AS does not
  see until it is mapped) and stops the run above ``memory_bytes``.
- **Warm kernels** (a zygote per worker, see ``WarmKernel``): the zygote keeps
  CAP_SETUID/CAP_SETGID and CAP_SYS_ADMIN, the last only so that each run's
  child can enter a new IPC namespace (and set its SysV limits) before it
  drops to the leased uid and loses every capability. A cold sandbox uses
  CAP_SYS_ADMIN the same way, once, in a shell prelude before ``setpriv``
  drops it: SysV shared memory of a run holds at most ``memory_bytes``
  (:func:`ipc_sysctls`). Each run (warm or cold) joins a new session keyring
  and empties the uid's user, user-session and persistent keyrings, which the
  kernel keeps per uid across sandboxes.

What is NOT covered
-------------------
- CPU and memory *bandwidth*: a submission can keep its core busy (only its
  wall/CPU time is capped) and may slow other runs on the same machine.
- The kernel itself: bubblewrap does not add a seccomp filter here, so a
  kernel exploit reachable through ordinary syscalls is out of scope.
- RLIMIT_AS limits address space, not resident memory; tmpfs mounts count
  against RAM up to their ``--size`` each.
- The runner shares its process with the student's code, which can write any
  event: a well-formed one in its turn is taken as a claim for the student's
  own submission (no better than typing the value); anything else ends the
  run as broken.
- Without root there is no leased uid: bwrap puts the run in a user namespace
  and the runner sets the process limit there (not exercised by the tests,
  which run as root). Without bubblewrap nothing is isolated and grading is
  refused unless ``unsafe=True`` (``--unsafe-no-sandbox``), which keeps the
  separate process and the memory/CPU/file rlimits but no process limit, and
  gives it the grader's file access.
- Timing side channels and reading the public course library are allowed.
- The quiz keys are not in what students install; an instructor keeps the
  course directory (or the file ``XAI_COURSE_QUIZ_KEYS`` names) private. Unsafe
  mode (``--unsafe-no-sandbox``) hides nothing, the keys included.
- The library's own engines (the backdoor solver, LRP, ...) can compute the
  answers of the exercises and of the per-student quiz variant: those are
  graded by value, and computing them is the exercise. Docstrings of the quiz
  package use an example bank, not the course's keys; the grader's own
  package (``autograder``) is not mounted unless it is installed inside the
  mounted virtual environment.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.limits import Limits
from autograder.mounts import (
    FILES_PATH,
    RUNNER_PATH,
    RUNNER_SOURCE,
    SCRATCH,
    _parent_dirs,
    _python_paths,
    _system_binds,
    quiz_keys_paths,
)
from course.errors import CourseError

__all__ = ["Limits", "Sandbox", "SandboxError", "UidLease", "sandbox_available", "quiz_keys_paths", "RUNNER_PATH"]

#: uids leased to sandboxed runs when the grader is root
UID_BASE, UID_COUNT = 61000, 1000
LEASE_DIR = Path(tempfile.gettempdir()) / "xai-course-sandbox-uids"


class SandboxError(CourseError):
    """The sandbox cannot be used (missing tool, namespaces not permitted)."""


class UidLease:
    """An unprivileged uid reserved for one run (a lock file per uid, across processes).

    Each concurrent run gets its own uid so the process limit of one run
    does not count another's processes.
    """

    def __init__(self):
        LEASE_DIR.mkdir(mode=0o700, exist_ok=True)
        start = (os.getpid() * 7) % UID_COUNT  # spread concurrent graders over the range
        for k in range(UID_COUNT):
            uid = UID_BASE + (start + k) % UID_COUNT
            fd = os.open(LEASE_DIR / f"{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if _uid_has_processes(uid):  # a leftover of a killed grader: skip it
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxError(f"no free sandbox uid in {UID_BASE}..{UID_BASE + UID_COUNT - 1}")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _uid_has_processes(uid: int) -> bool:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    return True
            except OSError:
                continue
    return False


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _checked_env(env: dict | None) -> dict:
    """Extra variables of one run (e.g. the student id), refused when they could smuggle anything."""
    out = {}
    for key, value in (env or {}).items():
        if not (isinstance(key, str) and key.isidentifier() and isinstance(value, str)) or "\0" in value:
            raise SandboxError(f"bad environment variable for the sandbox: {key!r}")
        out[key] = value
    return out


def ipc_sysctls(memory_bytes: int) -> dict[str, int]:
    """SysV limits of a run's IPC namespace (/proc/sys/kernel names): shared memory, which keeps its
    pages after it is unmapped (where RLIMIT_AS no longer sees them), at most ``memory_bytes`` in all;
    few message queues.

    >>> ipc_sysctls(1 << 30)["shmmax"]
    1073741824
    """
    page = os.sysconf("SC_PAGE_SIZE")
    return {"shmall": max(1, memory_bytes // page), "shmmax": int(memory_bytes), "msgmni": 8}


def _ipc_prelude(sysctls: dict[str, int]) -> str:
    """A shell script, run as the cold sandbox's root, that writes ``sysctls`` and then execs its arguments."""
    writes = "; ".join(f"echo {int(v)} > /tmp/sys/kernel/{k}" for k, v in sysctls.items())
    return f'set -e; mount -t proc -o nosuid,nodev,noexec proc /tmp; {writes}; umount -l /tmp; exec "$@"'


@functools.cache
def sandbox_available() -> tuple[bool, str]:
    """Whether bwrap exists and can create its namespaces here: ``(ok, reason)``."""
    missing = [tool for tool in ("bwrap", "prlimit", "setpriv") if shutil.which(tool) is None]
    if missing:
        return False, (
            f"{', '.join(missing)} not found; install the Debian packages bubblewrap and util-linux "
            "(apt-get install bubblewrap)"
        )
    probe = Sandbox(Limits())._bwrap_args(uid=None, files_dir=None) + ["--", "/usr/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap could not start: {exc}"
    if done.returncode != 0:
        return False, (
            "bwrap is installed but cannot create its namespaces here "
            f"({done.stderr.decode(errors='replace').strip()}); run as root or enable "
            "unprivileged user namespaces"
        )
    return True, "bubblewrap"


@dataclass
class Sandbox:
    """How untrusted code is started: bwrap + setpriv + prlimit, or (unsafe) rlimits only.

    Parameters
    ----------
    limits : Limits
    hide : paths that must stay invisible even if they lie under a mounted path
        (the course directory, the gradebook); masked by an empty tmpfs.
    unsafe : run without the sandbox (rlimits and a separate process only).

    Examples
    --------
    >>> box = Sandbox(Limits(), unsafe=True)
    >>> box.describe()
    'no sandbox (--unsafe-no-sandbox): separate process with rlimits only'
    """

    limits: Limits = field(default_factory=Limits)
    hide: tuple[str, ...] = ()
    unsafe: bool = False

    def check(self) -> None:
        """Raise SandboxError when isolation was asked for and is impossible here."""
        if self.unsafe:
            return
        ok, reason = sandbox_available()
        if not ok:
            raise SandboxError(
                f"cannot isolate student code: {reason}. Refusing to grade; "
                "pass --unsafe-no-sandbox to grade without isolation (trusted code only)"
            )

    def describe(self) -> str:
        if self.unsafe:
            return "no sandbox (--unsafe-no-sandbox): separate process with rlimits only"
        who = "leased unprivileged uid" if _running_as_root() else "user namespace"
        return f"bubblewrap (mount/pid/net/ipc/uts namespaces, {who}) + rlimits"

    def _rlimit_args(self, zygote: bool = False) -> list[str]:
        lim = self.limits
        if zygote:  # the zygote is long-lived; each run's child sets the run's own limits
            return ["prlimit", f"--fsize={int(lim.file_bytes)}", f"--nofile={int(lim.open_files)}", "--core=0", "--"]
        # as root the process limit binds the leased uid; otherwise it would count every process of the
        # grader's own user, so the runner sets it inside the sandbox's user namespace instead (and
        # without a sandbox there is no separate uid to count: no process limit then)
        nproc = [f"--nproc={int(lim.processes)}"] if _running_as_root() and not self.unsafe else []
        return [
            "prlimit",
            f"--as={int(lim.memory_bytes)}",
            *nproc,
            f"--cpu={lim.cpu_seconds}",
            f"--fsize={int(lim.file_bytes)}",
            f"--nofile={int(lim.open_files)}",
            "--core=0",
            "--",
        ]

    def _bwrap_args(
        self, *, uid: int | None, files_dir: str | None, env: dict | None = None, zygote: bool = False
    ) -> list[str]:
        lim = self.limits
        args = [
            "bwrap",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
        ]
        if _running_as_root():
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        if _running_as_root():  # SysV limits of the run's IPC namespace, set before the drop to the uid
            args += ["--cap-add", "CAP_SYS_ADMIN"]
        args += _system_binds()
        # the empty /tmp comes before the read-only binds: a checkout (and its venv) under /tmp must stay visible
        args += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--perms",
            "1777",
            "--size",
            str(int(lim.scratch_bytes)),
            "--tmpfs",
            "/tmp",
            "--perms",
            "1777",
            "--size",
            str(int(lim.scratch_bytes)),
            "--tmpfs",
            SCRATCH,
            "--perms",
            "1777",
            "--size",
            str(1 << 20),
            "--tmpfs",
            "/dev/shm",
        ]
        mounted = _python_paths()
        args += _parent_dirs(mounted + [RUNNER_PATH, FILES_PATH])
        for path in mounted:
            args += ["--ro-bind", path, path]
        for secret in (*self.hide, *quiz_keys_paths()):  # mask secrets (and the quiz keys) inside mounted trees
            real = os.path.realpath(secret)
            if any(real == m or real.startswith(m.rstrip("/") + "/") for m in mounted):
                args += ["--tmpfs", real] if os.path.isdir(real) else ["--ro-bind", "/dev/null", real]
        args += ["--ro-bind", str(RUNNER_SOURCE), RUNNER_PATH]
        if files_dir is not None:
            args += ["--ro-bind", files_dir, FILES_PATH]
        args += ["--chdir", SCRATCH, "--clearenv"]
        for key, value in {**self._environment(), **_checked_env(env)}.items():
            args += ["--setenv", key, value]
        if uid is not None:  # still root: cap the namespace's SysV memory, then setpriv drops everything
            args += [
                "--",
                "/bin/sh",
                "-c",
                _ipc_prelude(ipc_sysctls(int(lim.memory_bytes))),
                "sh",
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
            ]
        return args

    def _environment(self) -> dict[str, str]:
        return {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
            "HOME": SCRATCH,
            "TMPDIR": "/tmp",
            "IPYTHONDIR": "/tmp/.ipython",
            "MPLCONFIGDIR": "/tmp/.mpl",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "LANG": "C.UTF-8",
            # one thread per run: parallelism comes from running many submissions at once
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NBGRADER_EXECUTION": "autograde",
            "XAI_GRADER_NPROC": "" if (_running_as_root() or self.unsafe) else str(int(self.limits.processes)),
        }

    def command(
        self, argv: list[str], *, uid: int | None, files_dir: str | None, env: dict | None = None, zygote: bool = False
    ) -> list[str]:
        """The full command line that runs ``argv`` inside the sandbox.

        ``zygote``: keep the sandbox's root with CAP_SETUID/CAP_SETGID (no setpriv);
        the zygote drops each run's child to ``uid`` itself.
        """
        if self.unsafe:
            return self._rlimit_args() + list(argv)
        args = self._bwrap_args(uid=None if zygote else uid, files_dir=files_dir, env=env, zygote=zygote)
        return self._rlimit_args(zygote) + args + ["--"] + list(argv)

    def runner_argv(self) -> list[str]:
        """How to start the runner script (inside the sandbox or, unsafe, in place)."""
        script = str(RUNNER_SOURCE) if self.unsafe else RUNNER_PATH
        return [sys.executable, "-u", script]

    def spawn(
        self,
        argv: list[str],
        *,
        files_dir: str | None = None,
        pass_fds: tuple[int, ...] = (),
        scratch: str | None = None,
        env: dict | None = None,
        zygote: bool = False,
    ) -> SandboxedProcess:
        """Start ``argv`` in the sandbox with pipes on stdin/stdout/stderr."""
        self.check()
        if zygote and (self.unsafe or not _running_as_root()):
            raise SandboxError("a warm (zygote) sandbox needs root and bubblewrap")
        lease = UidLease() if (_running_as_root() and not self.unsafe) else None
        cwd = None
        if self.unsafe:  # no namespaces: give it a private scratch directory at least
            run_env = dict(
                os.environ,
                **self._environment(),
                **_checked_env(env),
                XAI_GRADER_FILES=files_dir or "",
                XAI_GRADER_SCRATCH=scratch or "",
            )
            cwd = scratch
        else:
            run_env = None
        cmd = self.command(argv, uid=lease.uid if lease else None, files_dir=files_dir, env=env, zygote=zygote)
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=pass_fds,
                start_new_session=True,
                env=run_env,
                cwd=cwd,
                umask=0o022,
            )
        except OSError as exc:
            if lease:
                lease.release()
            raise SandboxError(f"could not start the sandbox: {exc}") from None
        return SandboxedProcess(proc, lease)


class SandboxedProcess:
    """A running sandbox: the Popen object plus a kill that takes the whole tree down."""

    def __init__(self, proc: subprocess.Popen, lease: UidLease | None):
        self.proc = proc
        self._lease = lease
        self.uid = lease.uid if lease is not None else None

    def kill(self) -> None:
        """SIGKILL the process group; bwrap's --die-with-parent then kills the PID namespace."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> int:
        """Kill what is left, reap, release the uid; returns the exit status."""
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        code = self.proc.wait()
        if self._lease is not None:
            _wait_uid_gone(self._lease.uid)
            self._lease.release()
            self._lease = None
        return code


def _wait_uid_gone(uid: int, attempts: int = 50) -> None:
    """Processes of a killed PID namespace vanish asynchronously; wait before reusing the uid."""
    import time

    for _ in range(attempts):
        if not _uid_has_processes(uid):
            return
        time.sleep(0.02)
