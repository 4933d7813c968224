"""Quiz totals, grade bands, attempt policies, dynamics and Moodle's test statistics.

The instructor's report of the course (SEED_NOTES T1, T2) reads::

    Total number of test results: 208
    Average score: 87.19 %
    Taking the currently maximum scores, we have the following results
    "5" (from 80%): 159 76%
    "4" (between 60 and 80%): 37 18%
    "3" (between 40 and 60%): 6 3%
    "failed" (less 40%): 6 3%

T1 counts every graded attempt; T2 takes one attempt per student — by default
the best one so far ("currently maximum scores") — and bins its percentage
into bands: lower bound inclusive, upper exclusive, 100 % in the top band.
Shares are whole percent rounded half up (159/208 = 76.44 % → 76 %).

The test statistics follow Moodle's quiz statistics report ("Quiz statistics
calculations", docs.moodle.org/dev/Quiz_statistics_calculations): sample
skewness k3/k2^(3/2) and excess kurtosis k4/k2² from the unbiased
k-statistics, Cronbach's α as the coefficient of internal consistency (CIC,
in percent), error ratio ER = 100·√(1 − CIC/100) and standard error SE = ER·SD/100.

The module is a little over 400 lines on purpose: bands, attempt policies,
dynamics and test statistics are one chain (the policy picks the attempts the
bands and statistics count, the dynamics replay both over time), and each
step is short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from course.errors import CourseError

from .progress import progress
from .readers import Attempts, parse_timestamp

__all__ = [
    "Band",
    "BandCount",
    "DEFAULT_BANDS",
    "POLICIES",
    "parse_bands",
    "assign_bands",
    "band_counts",
    "format_band_line",
    "share_percent",
    "round_half_up",
    "select_attempts",
    "average_percent",
    "histogram",
    "Dynamics",
    "dynamics",
    "quiz_statistics",
]

POLICIES = ("best", "first", "last", "all")

#: what the report says the policy takes, completing "Taking ..., we have the following results"
POLICY_WORDS = {
    "best": "the currently maximum scores",
    "first": "each student's first attempt",
    "last": "each student's latest attempt",
    "all": "all attempts",
}


#: the attempts a policy keeps, as the report names their population ("average of the best attempts")
POLICY_POPULATION = {
    "best": "best attempts",
    "first": "first attempts",
    "last": "latest attempts",
    "all": "attempts",
}


@dataclass(frozen=True)
class Band:
    """A grade band: ``lower <= percent < upper`` (the top band also takes ``upper`` = 100)."""

    label: str
    lower: float
    upper: float


@dataclass(frozen=True)
class BandCount:
    band: Band
    count: int
    percent: int
    top: bool = False

    def line(self) -> str:
        """The report line, e.g. ``"5" (from 80%): 159 76%``."""
        return format_band_line(self.band, self.count, self.percent, top=self.top)


DEFAULT_BANDS: tuple[Band, ...] = (
    Band("5", 80.0, 100.0),
    Band("4", 60.0, 80.0),
    Band("3", 40.0, 60.0),
    Band("failed", 0.0, 40.0),
)


def parse_bands(spec: str) -> tuple[Band, ...]:
    """Bands from ``"LABEL:LOWER,LABEL:LOWER,..."``; each band reaches up to the next one, the top one to 100 %.

    The lowest band must start at 0 so that every score has a band.

    >>> [(b.label, b.lower, b.upper) for b in parse_bands("pass:50, fail:0")]
    [('pass', 50.0, 100.0), ('fail', 0.0, 50.0)]
    """
    if not isinstance(spec, str):
        raise CourseError(f'bands={spec!r}: expected text such as "5:80,4:60,3:40,failed:0", got {type(spec).__name__}')
    pairs = []
    for part in re.split(r"[,;]", spec):
        if not part.strip():
            continue
        label, sep, lower = part.rpartition(":") if ":" in part else part.rpartition("=")
        if not sep or not label.strip():
            raise CourseError(f'bands={spec!r}: {part.strip()!r} is not LABEL:LOWER (e.g. "5:80,4:60,3:40,failed:0")')
        try:
            value = float(lower.strip().rstrip("%").replace(",", "."))
        except ValueError:
            raise CourseError(
                f"bands={spec!r}: lower bound of {label.strip()!r} is not a number: {lower.strip()!r}"
            ) from None
        if not 0 <= value < 100:  # also refuses nan
            raise CourseError(
                f"bands={spec!r}: lower bound of {label.strip()!r} must lie in [0, 100), got {lower.strip()!r}"
            )
        pairs.append((label.strip().strip("\"'"), value + 0.0))  # + 0.0 turns "-0" into 0.0
    if not pairs:
        raise CourseError(f'bands={spec!r}: no bands given (e.g. "5:80,4:60,3:40,failed:0")')
    pairs.sort(key=lambda p: -p[1])
    lowers = [p[1] for p in pairs]
    if len(set(lowers)) != len(lowers) or len({p[0] for p in pairs}) != len(pairs):
        raise CourseError(f"bands={spec!r}: every band needs its own label and its own lower bound")
    if lowers[0] >= 100 or lowers[-1] != 0 or lowers[-1] < 0:
        raise CourseError(f"bands={spec!r}: lower bounds must lie in [0, 100) and the lowest band must start at 0")
    uppers = [100.0] + lowers[:-1]
    return tuple(Band(label, lower, upper) for (label, lower), upper in zip(pairs, uppers))


def _clean_percent(percent) -> np.ndarray:
    """Percentages as float64 rounded at 1e-9; CourseError for NaN or values outside 0..100."""
    try:
        p = np.asarray(percent, dtype=np.float64)
    except (TypeError, ValueError):
        raise CourseError("percentages must be numbers") from None
    # 70 % computed as 100*0.7 is 70.00000000000001: compare at 1e-9 so bounds behave as written
    p = np.round(p, 9)
    bad = ~((p >= -1e-6) & (p <= 100 + 1e-6))  # also catches NaN; the slack matches Attempts.validate
    if bad.any():
        raise CourseError(f"percentages must lie in 0..100, got {p[bad].reshape(-1)[0]:g}")
    return p


def assign_bands(percent, bands=DEFAULT_BANDS) -> np.ndarray:
    """Index into ``bands`` (highest first) of each percentage.

    >>> assign_bands([100, 80, 79.99, 60, 39.9, 0]).tolist()
    [0, 0, 1, 1, 3, 3]
    """
    lowers = np.array([b.lower for b in bands])[::-1]  # ascending
    pos = np.searchsorted(lowers, _clean_percent(percent), side="right") - 1
    return len(bands) - 1 - np.clip(pos, 0, len(bands) - 1)


def share_percent(count: int, total: int) -> int:
    """``100·count/total`` as a whole percent rounded half up, in exact integer arithmetic.

    >>> share_percent(159, 208), share_percent(1, 8), share_percent(1, 200)
    (76, 13, 1)
    """
    if not 0 <= count <= max(total, 0):
        raise CourseError(f"a share needs 0 <= count <= total, got {count} of {total}")
    if total <= 0:
        return 0
    return (200 * count + total) // (2 * total)


def round_half_up(x: float, digits: int = 2) -> float:
    """Round half up after cutting float noise at 10 decimals: a tie goes up (``round`` goes to even).

    2.675 is stored as 2.67499…, which ``round`` takes down; cutting at 10 decimals restores the tie.

    >>> round_half_up(2.675), round(2.675, 2)
    (2.68, 2.67)
    >>> round_half_up(0.125), round(0.125, 2)
    (0.13, 0.12)
    """
    if x is None or not np.isfinite(x):
        return float("nan")
    d = Decimal(f"{x:.10f}").quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(d)


def band_counts(percent, bands=DEFAULT_BANDS) -> list[BandCount]:
    """Count and whole-percent share of each band (shares rounded half up, so they may not sum to 100).

    >>> [(c.band.label, c.count, c.percent) for c in band_counts([95, 80, 79.9, 10])]
    [('5', 2, 50), ('4', 1, 25), ('3', 0, 0), ('failed', 1, 25)]
    """
    idx = assign_bands(percent, bands)
    counts = np.bincount(idx, minlength=len(bands)) if len(idx) else np.zeros(len(bands), int)
    total = int(counts.sum())
    return [
        BandCount(b, int(c), share_percent(int(c), total), top=(i == 0)) for i, (b, c) in enumerate(zip(bands, counts))
    ]


def _num(x: float) -> str:
    return f"{x:g}"


def format_band_line(band: Band, count: int, percent: int, *, top: bool) -> str:
    """``"5" (from 80%): 159 76%`` / ``"4" (between 60 and 80%): …`` / ``"failed" (less 40%): …``.

    >>> format_band_line(DEFAULT_BANDS[1], 37, share_percent(37, 208), top=False)
    '"4" (between 60 and 80%): 37 18%'
    """
    if top:
        where = f"from {_num(band.lower)}%"
    elif band.lower == 0:
        where = f"less {_num(band.upper)}%"
    else:
        where = f"between {_num(band.lower)} and {_num(band.upper)}%"
    return f'"{band.label}" ({where}): {count} {percent}%'


def _student_codes(attempts: Attempts) -> np.ndarray:
    return np.unique(attempts.student.astype(str), return_inverse=True)[1].reshape(-1)


def _select(codes: np.ndarray, ts: np.ndarray, percent: np.ndarray, policy: str) -> np.ndarray:
    """Core of :func:`select_attempts` on precomputed integer keys (``ts``: int64 seconds, NaT smallest)."""
    if policy == "all":
        return np.arange(len(codes))
    row = np.arange(len(codes))
    if policy == "best":
        order = np.lexsort((row, ts, -_clean_percent(percent), codes))
    elif policy == "first":
        order = np.lexsort((row, ts, codes))
    else:
        order = np.lexsort((-row, -ts, codes))
    first_of_group = np.ones(len(order), bool)
    first_of_group[1:] = codes[order][1:] != codes[order][:-1]
    return np.sort(order[first_of_group])


def select_attempts(attempts: Attempts, policy: str = "best") -> np.ndarray:
    """Indices of the attempts a policy keeps: one per student (best/first/last) or all.

    ``best`` takes the highest percentage (the earliest such attempt on ties);
    ``first``/``last`` go by timestamp (unknown times count as earliest), then by row order.

    >>> from autograder.readers import Attempts
    >>> a = Attempts.from_rows(["x", "x", "y"], ["2024-01-01", "2024-01-02", None], [3, 9, 5], 10)
    >>> select_attempts(a, "best").tolist(), select_attempts(a, "first").tolist()
    ([1, 2], [0, 2])
    """
    if policy not in POLICIES:
        raise CourseError(f"unknown attempt policy {policy!r}; choose one of {', '.join(POLICIES)}")
    return _select(_student_codes(attempts), attempts.timestamp.astype("int64"), attempts.percent(), policy)


def average_percent(attempts: Attempts) -> float:
    """Mean percentage over all attempts (T1 "Average score"), unrounded.

    >>> from autograder.readers import Attempts
    >>> average_percent(Attempts.from_rows(["a", "a", "b"], [None] * 3, [5, 10, 6], 10))
    70.0
    """
    return float(np.mean(attempts.percent())) if len(attempts) else float("nan")


def histogram(percent, width: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Counts per score bin ``[0, w), [w, 2w), … [100 − w, 100]`` and the bin edges (``w`` must divide 100).

    >>> counts, edges = histogram([0, 9.99, 10, 55, 100], width=25)
    >>> counts.tolist(), edges.tolist()
    ([3, 0, 1, 1], [0.0, 25.0, 50.0, 75.0, 100.0])
    """
    bins = 100.0 / width if isinstance(width, (int, float)) and width > 0 else float("nan")
    if not (np.isfinite(bins) and abs(bins - round(bins)) < 1e-9):
        raise CourseError(f"histogram bin width must divide 100 (e.g. 5, 10, 20), got {width!r}")
    edges = np.linspace(0.0, 100.0, int(round(bins)) + 1)
    idx = np.clip(np.floor(_clean_percent(percent) / width).astype(int), 0, len(edges) - 2)
    return np.bincount(idx, minlength=len(edges) - 1), edges


@dataclass(frozen=True)
class Dynamics:
    """Bands recomputed at successive cut-offs while a quiz is open.

    rows : list of dicts ``{until, attempts, students, counts, percents}``
    preliminary : True while the due date has not passed (or is unknown)
    """

    rows: list
    bands: tuple
    policy: str
    step: str
    due: np.datetime64 | None
    preliminary: bool


def dynamics(
    attempts: Attempts, bands=DEFAULT_BANDS, policy: str = "best", *, every="day", due=None, now: datetime | None = None
) -> Dynamics:
    """Band counts after each day (``every="day"``) or after every N attempts (``every=N``).

    Each row uses only the attempts made up to its cut-off and the same attempt
    policy as the report. Attempts without a timestamp cannot be placed in time
    and are left out of the dynamics (not of the other statistics).

    >>> from autograder.readers import Attempts
    >>> a = Attempts.from_rows(["a", "b", "a"], ["2024-03-01 10:00", "2024-03-01 12:00", "2024-03-02 09:00"],
    ...                        [3, 7, 9], 10)
    >>> [(r["until"], r["counts"]) for r in dynamics(a, due="2024-03-05").rows]   # a: 30 % on day 1, 90 % on day 2
    [('2024-03-01', [0, 1, 0, 1]), ('2024-03-02', [1, 1, 0, 0])]
    """
    if due is None:
        due = attempts.due
    if isinstance(due, str):
        try:
            due = parse_timestamp(due)
        except ValueError as exc:
            raise CourseError(f"due date: {exc}") from None
    due = np.datetime64(due, "s") if due is not None else None
    if every != "day" and (not isinstance(every, (int, np.integer)) or isinstance(every, bool)):
        raise CourseError(f"every={every!r}: the dynamics step must be 'day' or a positive number of attempts")
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    preliminary = due is None or np.datetime64(now, "s") < due
    timed = attempts.take(~np.isnat(attempts.timestamp))
    rows = []
    if len(timed):
        order = np.lexsort((np.arange(len(timed)), timed.timestamp.astype("int64")))
        timed = timed.take(order)
        ts = timed.timestamp
        codes, ts_int, pct = _student_codes(timed), ts.astype("int64"), timed.percent()
        if every == "day":
            days = np.unique(ts.astype("datetime64[D]"))
            ends = np.searchsorted(ts, (days + np.timedelta64(1, "D")).astype("datetime64[s]"), side="left")
            labels = [str(d) for d in days]
            step = "day"
        else:
            n = int(every)
            if n <= 0:
                raise CourseError(f"every={every!r}: the dynamics step must be a positive number of attempts")
            ends = np.unique(np.append(np.arange(n, len(ts), n), len(ts)))
            labels = [str(ts[e - 1]).replace("T", " ") for e in ends]
            step = f"{n} attempts"
        for end, label in progress(zip(ends, labels), total=len(ends), desc="dynamics", size=len(timed)):
            chosen = _select(codes[:end], ts_int[:end], pct[:end], policy)
            bc = band_counts(pct[:end][chosen], bands)
            rows.append(
                {
                    "until": label,
                    "attempts": int(end),
                    "students": int(len(np.unique(codes[:end]))),
                    "counts": [c.count for c in bc],
                    "percents": [c.percent for c in bc],
                }
            )
    else:
        step = "day" if every == "day" else f"{every} attempts"
    return Dynamics(rows, tuple(bands), policy, step, due, bool(preliminary))


def _k_statistics(x: np.ndarray) -> tuple[float, float, float]:
    """Unbiased k2, k3, k4 (Fisher's k-statistics), as Moodle's quiz statistics use them."""
    n = len(x)
    d = x - x.mean()
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    k2 = n * m2 / (n - 1) if n > 1 else float("nan")
    k3 = n * n * m3 / ((n - 1) * (n - 2)) if n > 2 else float("nan")
    k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3)) if n > 3 else float("nan")
    return k2, k3, k4


def quiz_statistics(percent, item_scores: np.ndarray | None = None) -> dict:
    """Moodle's whole-test statistics of the chosen attempts' percentages.

    Parameters
    ----------
    percent : scores in percent, one per attempt
    item_scores : (n, P) points per question for the same attempts (rows with
        a missing item are left out of the CIC); without it CIC, ER and SE are NaN.

    Returns
    -------
    dict with ``n, mean, median, sd`` (sample, n − 1), ``skewness`` (k3/k2^1.5),
    ``kurtosis`` (excess, k4/k2²), ``cic`` (Cronbach's α × 100:
    100·P/(P−1)·(1 − Σ Var(item)/Var(total))), ``error_ratio`` (100·√(1 − CIC/100))
    and ``standard_error`` (ER·SD/100).

    Examples
    --------
    >>> s = quiz_statistics([50, 60, 70, 80])
    >>> s["mean"], s["median"], round(s["sd"], 4), s["skewness"]
    (65.0, 65.0, 12.9099, 0.0)
    """
    x = np.asarray(percent, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise CourseError("test statistics need finite percentages; the scores contain NaN or inf")
    n = len(x)
    nan = float("nan")
    if n == 0:
        return dict(
            n=0, mean=nan, median=nan, sd=nan, skewness=nan, kurtosis=nan, cic=nan, error_ratio=nan, standard_error=nan
        )
    k2, k3, k4 = _k_statistics(x)
    with np.errstate(all="ignore"):
        sd = float(np.sqrt(k2))
        skew = float(k3 / k2**1.5) if k2 > 0 else nan
        kurt = float(k4 / k2**2) if k2 > 0 else nan
    cic = nan
    if item_scores is not None and item_scores.ndim == 2 and item_scores.shape[1] > 1:
        items = item_scores[~np.isnan(item_scores).any(axis=1)]
        if len(items) > 1:
            p = items.shape[1]
            var_total = items.sum(axis=1).var(ddof=1)
            if var_total > 0:
                cic = float(100.0 * p / (p - 1) * (1.0 - items.var(axis=0, ddof=1).sum() / var_total))
    er = float(100.0 * np.sqrt(1.0 - cic / 100.0)) if np.isfinite(cic) else nan
    se = er * sd / 100.0 if np.isfinite(er) else nan
    return dict(
        n=n,
        mean=float(x.mean()),
        median=float(np.median(x)),
        sd=sd,
        skewness=skew,
        kurtosis=kurt,
        cic=cic,
        error_ratio=er,
        standard_error=se,
    )
