"""The resource limits of one sandboxed notebook run.

The rlimits are set by :mod:`autograder.sandbox`; wall time, output and memfd memory are watched from outside
by :mod:`autograder.monitor`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from course.errors import CourseError

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """Resource limits of one notebook run.

    Parameters
    ----------
    cell_seconds, notebook_seconds : wall time of one cell / of the whole notebook
    memory_bytes : address space of each process (RLIMIT_AS)
    output_bytes : stdout + stderr of the whole run
    processes : processes of the run's uid at any time (RLIMIT_NPROC)
    file_bytes : size of any single file written (RLIMIT_FSIZE)
    scratch_bytes : size of each of the /scratch and /tmp tmpfs mounts
    open_files : RLIMIT_NOFILE
    interrupt_grace : seconds a cell gets after the interrupt before the run is killed

    Examples
    --------
    >>> Limits(cell_seconds=5).notebook_seconds
    120.0
    """

    cell_seconds: float = 20.0
    notebook_seconds: float = 120.0
    memory_bytes: int = 1 << 30
    output_bytes: int = 1 << 20
    processes: int = 64
    file_bytes: int = 32 << 20
    scratch_bytes: int = 64 << 20
    open_files: int = 256
    interrupt_grace: float = 2.0

    def __post_init__(self):
        for name in (
            "cell_seconds",
            "notebook_seconds",
            "memory_bytes",
            "output_bytes",
            "processes",
            "file_bytes",
            "scratch_bytes",
            "open_files",
            "interrupt_grace",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise CourseError(f"limit {name} must be a positive number, got {value!r}")

    @property
    def cpu_seconds(self) -> int:
        """RLIMIT_CPU: a backstop above the wall-time limit."""
        return int(self.notebook_seconds) + 10

    def with_(self, **changes) -> Limits:
        """A copy with some limits changed."""
        return replace(self, **changes)
