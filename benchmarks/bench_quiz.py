"""Benchmark: scoring 10 000 random answers of up to 10 000 characters each (target: under 1 s in total).

The strings mix what students type and what copy-paste brings — Cyrillic,
Latin, Greek and full-width letters, digits, separators, braces, dashes,
invisible characters — with lengths uniform in 0..10 000, plus the inputs that
used to hang the scorer ("1e100000000", 10 000 nines). Each is scored against
the quiz7 questions in turn (every kind). Printed beside the time of Unicode
NFKC alone on the same strings (what merely looking at every character costs)
and of scoring 10 000 answers of up to 1 000 characters, the longest that are
read at all (docs/answers.md), so that the whole pipeline runs on each.
"""

from __future__ import annotations

import time
import unicodedata

import numpy as np

N = 10_000
MAX_LEN = 10_000
TARGET_S = 1.0

ALPHABET = (
    "АБВГДЕЖЗИабвгдеж"
    "ABCDEabcdexyz"
    "ΑΒΓΔΕαβγδε"
    "ＡＢＣ０１２，．"
    "0123456789"
    " ,.;:/{}[]()-+e"
    "\u200b\u00a0\u2013\u2212½"
    "нетверноложьда"
)
CRAFTED = ["1e100000000", "9" * MAX_LEN, "{" * MAX_LEN, "В, Г" + " " * 9000, "2 1/4", "не верно", "{B, D}, {C, D}"]


def random_answers(n: int = N, max_len: int = MAX_LEN, seed: int = 0) -> list[str]:
    """``n`` seeded random strings with lengths uniform in 0..max_len over :data:`ALPHABET`, crafted ones first."""
    rng = np.random.default_rng(seed)
    codes = np.array([ord(c) for c in ALPHABET], dtype="<u4")
    lengths = rng.integers(0, max_len + 1, size=n - len(CRAFTED))
    text = codes[rng.integers(0, len(codes), size=int(lengths.sum()))].tobytes().decode("utf-32-le")
    ends = np.cumsum(lengths)
    return CRAFTED + [text[e - k : e] for e, k in zip(ends.tolist(), lengths.tolist())]


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    from course.quiz.bank import load_bank
    from course.quiz.scoring import score_answer

    questions = list(load_bank(keys=True))
    answers = random_answers()
    short = random_answers(max_len=1000, seed=1)

    def score(texts):
        for i, text in enumerate(texts):
            score_answer(questions[i % len(questions)], text)

    score(answers[:200])  # warm-up: imports, compiled regular expressions
    nfkc = _time(lambda: [unicodedata.normalize("NFKC", t) for t in answers])
    full = _time(lambda: score(answers))
    under_limit = _time(lambda: score(short))
    chars = sum(map(len, answers))
    print(f"{N} answers, {chars / 1e6:.1f} M characters, lengths 0..{MAX_LEN}, {len(questions)} questions in turn")
    print(f"{'task':44s} {'seconds':>9s} {'vs NFKC':>8s}")
    print(f"{'NFKC of every string (baseline)':44s} {nfkc:9.3f} {1:8.2f}")
    print(f"{'score_answer, lengths 0..10 000':44s} {full:9.3f} {full / nfkc:8.2f}")
    print(f"{'score_answer, lengths 0..1 000 (all read)':44s} {under_limit:9.3f} {under_limit / nfkc:8.2f}")
    verdict = "met" if full < TARGET_S else "MISSED"
    print(f"target: {N} answers of up to {MAX_LEN} characters in < {TARGET_S:g} s — {verdict} ({full:.3f} s)")


if __name__ == "__main__":
    main()
