"""LRP engine speed, side by side (issue 2, section 6).

* the anchor CNN (1×28×28 → conv 1→16 3×3 pad 1, ReLU, maxpool 2, conv 16→32 3×3 pad 1, ReLU, avgpool 2,
  flatten, dense 1568→10), batch 64: EpsilonGammaBox here vs Zennit's (same weights, float32 and float64),
  when torch and zennit are importable -- target ≤ 1.0×;
* every single rule vs this engine's own forward + gradient on the same batch -- target ≤ 2×; the
  baseline is the faster of ``model.gradient`` on the whole batch and on the same pieces of the batch that
  ``lrp`` works through (it explains a few samples at a time), so that the ratio compares like with like;
* one 8×8 digit explained by a composite -- target < 5 ms.

Timings are the minimum over interleaved repeats of the process's CPU time (robust on a shared machine;
wall time if ``BENCH_THREADS`` > 1); BLAS and torch run on ``BENCH_THREADS`` threads (default 1, so both
sides get the same resources). The table is measured twice:
with glibc's default allocator, then with glibc told to keep freed memory (:func:`keep_freed_memory`),
because on a small VM page faults for fresh temporaries cost as much as the arithmetic. To get the Zennit column, run
from a venv that has torch and zennit (they are never dependencies of the package), e.g.::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. /tmp/zvenv/bin/python -m benchmarks bench_relevance
"""
from __future__ import annotations

import os
import time

import numpy as np

from course.relevance import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential, composites, lrp, rules
from course.relevance.lrp import _chunks

THREADS = int(os.environ.get("BENCH_THREADS", "1"))
BATCH = 64
# single-threaded, the process's CPU time is the work done, whatever else the shared machine runs;
# with more threads it would add the threads up, so wall time is used then
CLOCK = time.process_time if THREADS == 1 else time.perf_counter
CLOCK_NAME = "process CPU time" if THREADS == 1 else "wall time"


def best_times(functions: dict, repeats: int = 15, budget: float = 6.0) -> dict:
    """Minimum time (:data:`CLOCK`) of each function over interleaved repeats (after one warm-up call each)."""
    for f in functions.values():
        f()
    best = dict.fromkeys(functions, np.inf)
    start = time.perf_counter()
    for r in range(repeats):
        for name, f in functions.items():
            t0 = CLOCK()
            f()
            best[name] = min(best[name], CLOCK() - t0)
        if r >= 3 and time.perf_counter() - start > budget:
            break
    return best


def anchor_weights(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    def he(*shape):
        return rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[1:]))

    return {"c1": he(16, 1, 3, 3), "b1": rng.normal(size=16) * 0.1, "c2": he(32, 16, 3, 3),
            "b2": rng.normal(size=32) * 0.1, "d": he(10, 1568), "bd": rng.normal(size=10) * 0.1}


def anchor_model(w: dict, dtype) -> Sequential:
    c = {k: v.astype(dtype) for k, v in w.items()}
    return Sequential([
        Conv2d(c["c1"], c["b1"], padding=1), ReLU(), MaxPool2d(2),
        Conv2d(c["c2"], c["b2"], padding=1), ReLU(), AvgPool2d(2), Flatten(), Dense(c["d"].T.copy(), c["bd"]),
    ])


def zennit_timings(w: dict, x: np.ndarray, target: np.ndarray):
    """{dtype: (Zennit EpsilonGammaBox seconds, torch forward+backward seconds, our EpsilonGammaBox seconds)}."""
    try:
        import torch
        from tests.fixtures.make_zennit_fixtures import import_zennit
        zennit = import_zennit()
    except ImportError as exc:
        return f"skipped: torch/zennit not importable ({exc.name}); see the module docstring"
    torch.set_num_threads(THREADS)
    results = {}
    for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
            torch.nn.Linear(1568, 10),
        ).to(tdtype).eval()
        for module, (wk, bk) in zip((net[0], net[3], net[7]), (("c1", "b1"), ("c2", "b2"), ("d", "bd"))):
            module.weight.data = torch.from_numpy(w[wk].astype(dtype))
            module.bias.data = torch.from_numpy(w[bk].astype(dtype))
        tx, rows, tt = torch.from_numpy(x.astype(dtype)), torch.arange(len(target)), torch.from_numpy(target)
        composite = zennit.composites.EpsilonGammaBox(low=0.0, high=1.0)
        ours_model, xd = anchor_model(w, dtype), x.astype(dtype)
        ours = composites.EpsilonGammaBox(0.0, 1.0)

        def plain():
            inp = tx.clone().requires_grad_(True)
            out = net(inp)
            torch.autograd.grad(out[rows, tt].sum(), inp)

        def explain():
            inp = tx.clone().requires_grad_(True)
            out = net(inp)
            seed = torch.zeros_like(out)
            seed[rows, tt] = out.detach()[rows, tt]
            torch.autograd.grad(out, inp, grad_outputs=seed)

        # correctness first: the same relevance (float64 to 1e-9, float32 to float32 accuracy)
        with composite.context(net):
            inp = tx.clone().requires_grad_(True)
            out = net(inp)
            seed = torch.zeros_like(out)
            seed[rows, tt] = out.detach()[rows, tt]
            (reference,) = torch.autograd.grad(out, inp, grad_outputs=seed)
        got = lrp(ours_model, xd, ours, target)
        error = np.abs(got - reference.numpy()).max() / np.abs(reference.numpy()).max()
        composite.register(net)  # hooks registered once, as a user of Zennit would
        try:
            times = best_times({"zennit": explain, "ours": lambda: lrp(ours_model, xd, ours, target)})
        finally:
            composite.remove()
        times["torch"] = best_times({"torch": plain})["torch"]
        results[np.dtype(dtype).name] = (times["zennit"], times["torch"], times["ours"], error)
    return results


def digit_timings():
    """Milliseconds for one 8×8 digit explained by a composite, on the bundled digit models (or random stand-ins)."""
    x = np.random.default_rng(1).uniform(0, 16, size=(1, 1, 8, 8))
    try:
        from course.relevance.models import load
        cnn, mlp = load("digits_cnn"), load("digits_mlp")
        source = "bundled"
    except Exception:  # models not built yet: random weights with the same architecture
        rng = np.random.default_rng(2)
        cnn = Sequential([Conv2d(rng.normal(size=(8, 1, 3, 3)), padding=1), ReLU(), MaxPool2d(2),
                          Conv2d(rng.normal(size=(16, 8, 3, 3)), padding=1), ReLU(), AvgPool2d(2), Flatten(),
                          Dense(rng.normal(size=(64, 10)))])
        mlp = Sequential([Dense(rng.normal(size=(64, 64))), ReLU(), Dense(rng.normal(size=(64, 32))), ReLU(),
                          Dense(rng.normal(size=(32, 10)))])
        source = "random stand-ins"
    low, high = 0.0, 16.0
    cases = {
        "digits_cnn EpsilonGammaBox": (cnn, x, composites.EpsilonGammaBox(low, high)),
        "digits_cnn EpsilonPlusFlat": (cnn, x, composites.EpsilonPlusFlat()),
        "digits_mlp EpsilonGammaBox": (mlp, x.reshape(1, 64), composites.EpsilonGammaBox(low, high)),
    }
    times = best_times({k: (lambda m=m, xx=xx, c=c: lrp(m, xx, c, 3)) for k, (m, xx, c) in cases.items()}, 50, 3.0)
    return source, times


def keep_freed_memory() -> bool:
    """glibc only: keep freed heap memory instead of returning it to the OS after every large temporary.

    (mmap threshold 32 MB, trim threshold 1 GB.) Every freshly mapped page costs a page fault, which on this
    VM dominates numpy code with many large temporaries -- the engine and torch/Zennit alike.
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-1, 1 << 30)) and bool(libc.mallopt(-3, 32 << 20))  # M_TRIM_, M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def measure(w, x, target):
    """All rows of the table: (measurement, this engine, reference, ratio, target, verdict)."""
    rows = []
    zen = zennit_timings(w, x, target)
    if isinstance(zen, str):
        rows.append(("EpsilonGammaBox vs Zennit 0.5.1 (anchor CNN, batch 64)", "-", "-", "-", "≤ 1.0", zen))
    else:
        for dtype, (tz, tt, to, err) in zen.items():
            rows.append((f"EpsilonGammaBox vs Zennit, {dtype}", f"{to * 1e3:.1f} ms", f"{tz * 1e3:.1f} ms",
                         f"{to / tz:.2f}", "≤ 1.0", "met" if to <= tz else "MISSED"))
            rows.append((f"  (Zennit vs torch forward+backward, {dtype}; max rel. diff {err:.1e})",
                         f"{tz * 1e3:.1f} ms", f"{tt * 1e3:.1f} ms", f"{tz / tt:.2f}", "info", ""))

    single = {
        "Zero": rules.Zero(), "Epsilon(0.25)": rules.Epsilon(0.25), "Gamma(0.25)": rules.Gamma(0.25),
        "AlphaBeta(2, 1)": rules.AlphaBeta(2, 1), "ZPlus": rules.ZPlus(), "Flat": rules.Flat(),
        "WSquare": rules.WSquare(), "ZBox(0, 1) + Epsilon": [rules.ZBox(0.0, 1.0), rules.Epsilon(), rules.Epsilon()],
    }
    for dtype in (np.float32, np.float64):
        model, xd = anchor_model(w, dtype), x.astype(dtype)
        # the baseline is the faster of the plain gradient and the gradient over the pieces lrp uses
        parts = _chunks(model, xd)
        fns = {"gradient": lambda: model.gradient(xd, target),
               "gradient in pieces": lambda: [model.gradient(xd[p], target[p]) for p in parts]}
        fns.update({name: (lambda r=r: lrp(model, xd, r, target)) for name, r in single.items()})
        times = best_times(fns, repeats=10, budget=8.0)
        base = min(times.pop("gradient"), times.pop("gradient in pieces"))
        for name, t in times.items():
            rows.append((f"{name} vs forward+gradient, {np.dtype(dtype).name}", f"{t * 1e3:.1f} ms",
                         f"{base * 1e3:.1f} ms", f"{t / base:.2f}", "≤ 2.0", "met" if t <= 2 * base else "MISSED"))

    source, digit = digit_timings()
    for name, t in digit.items():
        rows.append((f"one 8×8 digit, {name} ({source})", f"{t * 1e3:.2f} ms", "5 ms", f"{t / 5e-3:.2f}", "< 1.0",
                     "met" if t < 5e-3 else "MISSED"))
    return rows


def print_table(title, rows):
    header = ("measurement", "this engine", "reference", "ratio", "target", "")
    widths = [max(len(str(r[c])) for r in rows + [header]) for c in range(len(header))]
    print(title)
    for r in [header, tuple("-" * w for w in widths)] + rows:
        print("  ".join(str(cell).ljust(wd) if c in (0, 5) else str(cell).rjust(wd)
                        for c, (cell, wd) in enumerate(zip(r, widths))).rstrip())


def main():
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(THREADS)
    except ImportError:  # e.g. the torch venv: set OPENBLAS_NUM_THREADS yourself
        limiter = None
    rng = np.random.default_rng(0)
    w = anchor_weights()
    x = rng.uniform(0.0, 1.0, size=(BATCH, 1, 28, 28))
    target = rng.integers(0, 10, size=BATCH)
    print_table(f"LRP engine, BLAS/torch threads = {THREADS}, default allocator; minimum {CLOCK_NAME} of interleaved repeats",
                measure(w, x, target))
    if keep_freed_memory():  # cannot be undone: measured second, for everything alike
        print()
        print_table("The same with glibc keeping freed memory (mallopt: no page faults for reused temporaries)",
                    measure(w, x, target))
    if limiter is not None:
        limiter.restore_original_limits()


if __name__ == "__main__":
    main()
