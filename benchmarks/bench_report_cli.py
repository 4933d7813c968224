"""Benchmark: ``xai-course report`` on a 7-row CSV, as an instructor types it (target: under 1.5 s).

A small report's time is almost all start-up: the interpreter, the imports and
the three charts. Each command runs in a fresh process; printed side by side
with a bare ``python -c pass``, with importing the CLI and with importing the report's
modules (readers, statistics, renderers; matplotlib stays lazy), the wall time and
the CPU time (user + system) of the children, best of five. On a shared
machine the wall time also holds the wait for a core; the CPU time is what the
command costs and what it takes on an idle machine.

Run: ``python -m benchmarks bench_report_cli`` (or ``make bench``).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.5
REPEAT = 5
ROWS = (
    "student_id,timestamp,score,max_score\n"
    "s1,2024-03-01 10:00,9,10\ns2,2024-03-01 11:00,7,10\ns3,2024-03-02 10:00,5,10\n"
    "s1,2024-03-02 12:00,10,10\ns4,2024-03-03 10:00,3,10\ns5,2024-03-03 11:00,8,10\n"
    "s6,2024-03-03 12:00,6,10\n"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _best(cmd: list[str], before=None) -> tuple[float, float]:
    """Best wall and best CPU time of ``cmd`` over REPEAT fresh processes."""
    walls, cpus = [], []
    for _ in range(REPEAT):
        if before:
            before()
        cpu0, t0 = _children_cpu(), time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        cpus.append(_children_cpu() - cpu0)
    return min(walls), min(cpus)


def main() -> None:
    python = sys.executable
    cli = str(Path(python).with_name("xai-course"))
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "grades.csv"
        csv.write_text(ROWS, encoding="utf-8")
        out = Path(tmp) / "report"

        def clean():
            shutil.rmtree(out, ignore_errors=True)

        rows = [
            ("python -c pass", _best([python, "-c", "pass"])),
            ("import the CLI (autograder.cli)", _best([python, "-c", "import autograder.cli"])),
            ("import the report (report_cli)", _best([python, "-c", "import autograder.report_cli"])),
            (
                "xai-course report --csv (7 rows)",
                _best([cli, "report", "--csv", str(csv), "--out", str(out)], before=clean),
            ),
        ]
    base_wall, base_cpu = rows[0][1]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min)")
    print(f"{'command':<36}{'wall, s':>9}{'CPU, s':>9}{'× python (CPU)':>16}")
    for name, (wall, cpu) in rows:
        print(f"{name:<36}{wall:>9.3f}{cpu:>9.3f}{cpu / base_cpu:>16.1f}")
    wall, cpu = rows[-1][1]
    verdict = "OK" if cpu < TARGET_S else "TOO SLOW"
    print(f"target: report < {TARGET_S} s on an idle machine (CPU time {cpu:.2f} s, wall {wall:.2f} s) -> {verdict}")


if __name__ == "__main__":
    main()
