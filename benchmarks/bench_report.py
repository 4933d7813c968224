"""Benchmark: the full quiz report of a 100 000-attempt CSV with 20 questions (target: under 5 s).

Printed beside the time it takes merely to read the same file (raw bytes, and
Python's csv module splitting it into rows), so the ratio shows what the
statistics, charts and rendering cost on top of the unavoidable parsing.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from pathlib import Path

import numpy as np

ATTEMPTS = 100_000
QUESTIONS = 20
TARGET_S = 5.0


def make_csv(path: Path, n: int = ATTEMPTS, q: int = QUESTIONS, seed: int = 0) -> None:
    """A seeded cohort: 25 000 students, 1–7 attempts each, over 30 days; 1-point questions."""
    rng = np.random.default_rng(seed)
    students = rng.integers(0, 25_000, size=n)
    ability = rng.normal(size=25_000)[students]
    difficulty = rng.normal(size=q)
    p = 1 / (1 + np.exp(-(ability[:, None] - difficulty[None, :])))
    items = (rng.random((n, q)) < p).astype(int)
    seconds = rng.choice(30 * 86400, size=n, replace=False)
    stamps = (np.datetime64("2024-03-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["student_id", "timestamp", "score", "max_score"] + [f"Q{j + 1} /1" for j in range(q)])
    totals = items.sum(axis=1)
    for i in range(n):
        w.writerow([f"st{students[i]:05d}", stamps[i].replace("T", " "), totals[i], q, *items[i]])
    path.write_text(buf.getvalue(), encoding="utf-8")


def _best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    from autograder.report import write_report
    from autograder.sources import read_grades_csv

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grades.csv"
        make_csv(path)

        def read_bytes():
            path.read_bytes()

        def read_rows():
            with open(path, newline="", encoding="utf-8") as fh:
                list(csv.reader(fh, delimiter=";"))

        counter = iter(range(100))

        def full_report():
            attempts = read_grades_csv(path)
            write_report(attempts, Path(tmp) / f"report{next(counter)}")

        t_bytes = _best_of(read_bytes)
        t_rows = _best_of(read_rows)
        t_report = _best_of(full_report, repeat=2)
        size = path.stat().st_size / 1e6
    print(f"{ATTEMPTS} attempts x {QUESTIONS} questions, {size:.1f} MB CSV")
    print(f"{'step':<34}{'time, s':>9}{'× csv rows':>12}")
    for name, t in [
        ("read the bytes", t_bytes),
        ("split into rows (csv module)", t_rows),
        ("full report (read + stats + files)", t_report),
    ]:
        print(f"{name:<34}{t:>9.4f}{t / t_rows:>12.2f}")
    verdict = "OK" if t_report < TARGET_S else "TOO SLOW"
    print(f"target: full report < {TARGET_S:.0f} s -> {verdict}")


if __name__ == "__main__":
    main()
