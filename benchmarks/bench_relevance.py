"""LRP engine speed and memory, side by side (issue 2, section 6; issue 14, point 7).

* EpsilonGammaBox, batch 64, this engine vs Zennit 0.5.1 with the same weights and the same answer
  (float32 and float64; 1 and 2 threads: ``lrp(..., threads=k)`` against ``torch.set_num_threads(k)``),
  on three networks -- target ≤ 1.0×:

  - the anchor CNN (1×28×28 → conv 1→16 3×3 pad 1, ReLU, maxpool 2, conv 16→32 3×3 pad 1, ReLU, avgpool 2,
    flatten, dense 1568→10);
  - a CIFAR-sized CNN (3×32×32 → conv 3→32, 32→64, 64→128, each 3×3 pad 1 + ReLU, maxpool 2, maxpool 2,
    avgpool 2, flatten, dense 2048→10);
  - the residual CNN ``models.load("digits_resnet")`` (1×8×8, two residual blocks; in torch the sums are
    Zennit's ``Sum`` layers, as its residual canonizers write them);

  the Zennit column only when torch and zennit are importable;
* the peak memory of EpsilonGammaBox on a batch of 256 on the CIFAR-sized CNN (tracemalloc: every NumPy
  allocation; for Zennit, the growth of the process's peak RSS in a fresh process);
* every single rule vs this engine's own forward + gradient on the anchor batch -- target ≤ 2×; the
  baseline is the faster of ``model.gradient`` on the whole batch and on the same pieces of the batch that
  ``lrp`` works through (it explains a few samples at a time), so that the ratio compares like with like;
* one 8×8 digit explained by a composite -- target < 5 ms.

Timings are the minimum over interleaved repeats: the process's CPU time on one thread (robust on a shared
machine), wall time on two. The first table is measured with glibc's default allocator, the second with glibc
told to keep freed memory (:func:`keep_freed_memory`), because on a small VM page faults for fresh temporaries
cost as much as the arithmetic. To get the Zennit column, run from a venv that has torch and zennit (they are
never dependencies of the package), e.g.::

    PYTHONPATH=. /tmp/zvenv/bin/python -m benchmarks bench_relevance
"""

from __future__ import annotations

import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from course.errors import CourseError
from course.relevance import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    MaxPool2d,
    ReLU,
    Residual,
    Sequential,
    composites,
    lrp,
    rules,
)
from course.relevance.lrp import _chunks

BATCH = 64
THREAD_COUNTS = (1, 2)


def clock(threads: int):
    """The process's CPU time on one thread (what the shared machine's load does not inflate); wall time on more."""
    return time.process_time if threads == 1 else time.perf_counter


def best_times(functions: dict, repeats: int = 15, budget: float = 6.0, threads: int = 1) -> dict:
    """Minimum time of each function over interleaved repeats (after one warm-up call each)."""
    now = clock(threads)
    for f in functions.values():
        f()
    best = dict.fromkeys(functions, np.inf)
    start = time.perf_counter()
    for r in range(repeats):
        for name, f in functions.items():
            t0 = now()
            f()
            best[name] = min(best[name], now() - t0)
        if r >= 3 and time.perf_counter() - start > budget:
            break
    return best


def he_cnn_weights(seed: int, channels: tuple[int, ...], flat: int) -> dict:
    """He-normal weights of a CNN: 3×3 convolutions ``c1, c2, …`` from ``channels[i]`` to ``channels[i + 1]``
    with biases ``b1, b2, …``, then a dense layer ``d`` (10, ``flat``) in torch's (out, in) layout with bias ``bd``."""
    rng = np.random.default_rng(seed)

    def he(*shape):
        return rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[1:]))

    weights = {}
    for i, (c_in, c_out) in enumerate(zip(channels, channels[1:]), start=1):
        weights[f"c{i}"] = he(c_out, c_in, 3, 3)
        weights[f"b{i}"] = rng.normal(size=c_out) * 0.1
    weights["d"] = he(10, flat)
    weights["bd"] = rng.normal(size=10) * 0.1
    return weights


def anchor_weights(seed: int = 0) -> dict:
    return he_cnn_weights(seed, (1, 16, 32), 1568)


def cifar_weights(seed: int = 1) -> dict:
    return he_cnn_weights(seed, (3, 32, 64, 128), 2048)


def cnn_model(w: dict, dtype) -> Sequential:
    """The CNN of :func:`he_cnn_weights` in ``dtype``: conv, ReLU and a 2×2 max-pool per block (average-pool
    after the last), then Flatten and the dense layer."""
    c = {k: v.astype(dtype) for k, v in w.items()}
    blocks = sum(k.startswith("c") for k in c)
    layers: list = []
    for i in range(1, blocks + 1):
        layers += [Conv2d(c[f"c{i}"], c[f"b{i}"], padding=1), ReLU(), (AvgPool2d if i == blocks else MaxPool2d)(2)]
    return Sequential([*layers, Flatten(), Dense.from_torch(c["d"], c["bd"])])


def networks():
    """name → (model builder by dtype, input batch, targets); every input lies in [0, 1] (the z^B box)."""
    rng = np.random.default_rng(0)
    anchor, cifar = anchor_weights(), cifar_weights()
    from course.relevance.models import load

    try:
        load("digits_resnet")
        resnet = {
            "residual CNN (digits_resnet, 1×8×8)": (
                lambda dt: load("digits_resnet", dt),
                rng.uniform(0, 1, (BATCH, 1, 8, 8)),
            )
        }
    except CourseError as exc:  # no onnx package
        print(f"(the residual CNN is skipped: {exc})")
        resnet = {}
    nets = {
        "anchor CNN (1×28×28)": (lambda dt: cnn_model(anchor, dt), rng.uniform(0, 1, (BATCH, 1, 28, 28))),
        "CIFAR-sized CNN (3×32×32, conv 32-64-128)": (
            lambda dt: cnn_model(cifar, dt),
            rng.uniform(0, 1, (BATCH, 3, 32, 32)),
        ),
        **resnet,
    }
    return {name: (build, x, rng.integers(0, 10, size=len(x))) for name, (build, x) in nets.items()}


def to_torch(torch, zennit, model: Sequential):
    """The same network in torch (weights copied), residual sums as Zennit's ``Sum`` layers."""
    from tests.fixtures.make_zennit_fixtures import torch_blocks

    Residual_, _ = torch_blocks(torch, zennit)
    dtype = torch.float32 if model.dtype == np.float32 else torch.float64
    layers = []
    for layer in model.layers:
        if isinstance(layer, Conv2d):
            m = torch.nn.Conv2d(
                layer.weight.shape[1],
                layer.weight.shape[0],
                tuple(layer.kernel),
                stride=layer.stride,
                padding=layer.padding,
                dtype=dtype,
            )
            m.weight.data, m.bias.data = torch.from_numpy(layer.weight.copy()), torch.from_numpy(layer.bias.copy())
        elif isinstance(layer, Dense):
            m = torch.nn.Linear(*layer.weight.shape, dtype=dtype)
            m.weight.data, m.bias.data = torch.from_numpy(layer.weight.T.copy()), torch.from_numpy(layer.bias.copy())
        elif isinstance(layer, Residual):
            m = Residual_(to_torch(torch, zennit, layer.block), to_torch(torch, zennit, layer.shortcut))
        else:
            m = {
                ReLU: lambda: torch.nn.ReLU(),
                Flatten: lambda: torch.nn.Flatten(),
                Identity: torch.nn.Identity,
                MaxPool2d: lambda: torch.nn.MaxPool2d(layer.kernel, layer.stride),
                AvgPool2d: lambda: torch.nn.AvgPool2d(layer.kernel, layer.stride),
            }[type(layer)]()
        layers.append(m)
    return torch.nn.Sequential(*layers).eval()


def import_torch_zennit():
    try:
        import torch

        from tests.fixtures.make_zennit_fixtures import import_zennit

        return torch, import_zennit()
    except ImportError as exc:
        return f"skipped: torch/zennit not importable ({exc.name}); see the module docstring"


def zennit_rows(nets) -> list:
    """EpsilonGammaBox here vs Zennit's on every network, dtype and thread count, after checking the answers agree."""
    found = import_torch_zennit()
    if isinstance(found, str):
        return [("EpsilonGammaBox vs Zennit 0.5.1 (3 networks, batch 64)", "-", "-", "-", "≤ 1.0", found)]
    torch, zennit = found
    from threadpoolctl import threadpool_limits

    rows = []
    for name, (build, x, target) in nets.items():
        for dtype in (np.float32, np.float64):
            model, xd = build(dtype), x.astype(dtype)
            net = to_torch(torch, zennit, model)
            tx, rows_t, tt = torch.from_numpy(xd), torch.arange(len(target)), torch.from_numpy(target)
            composite, ours = zennit.composites.EpsilonGammaBox(low=0.0, high=1.0), composites.EpsilonGammaBox(0.0, 1.0)

            def explain():
                inp = tx.clone().requires_grad_(True)
                out = net(inp)
                seed = torch.zeros_like(out)
                seed[rows_t, tt] = out.detach()[rows_t, tt]
                return torch.autograd.grad(out, inp, grad_outputs=seed)[0]

            composite.register(net)  # hooks registered once, as a user of Zennit would
            try:
                reference = explain().numpy()
                got = lrp(model, xd, ours, target)
                error = np.abs(got - reference).max() / np.abs(reference).max()
                for threads in THREAD_COUNTS:
                    torch.set_num_threads(threads)
                    with threadpool_limits(threads):  # Zennit's BLAS calls too
                        times = best_times(
                            {"zennit": explain, "ours": lambda: lrp(model, xd, ours, target, threads=threads)},
                            repeats=8,
                            budget=8.0,
                            threads=threads,
                        )
                    tz, to = times["zennit"], times["ours"]
                    rows.append(
                        (
                            f"{name}, {np.dtype(dtype).name}, {threads} thread{'s' * (threads > 1)} "
                            f"(max rel. diff {error:.0e})",
                            f"{to * 1e3:.1f} ms",
                            f"{tz * 1e3:.1f} ms",
                            f"{to / tz:.2f}",
                            "≤ 1.0",
                            "met" if to <= tz else "MISSED",
                        )
                    )
            finally:
                composite.remove()
    return rows


def peak_memory_rows(nets) -> list:
    """Peak memory of EpsilonGammaBox on a batch of 256 of the CIFAR-sized CNN (each in a fresh process)."""
    import multiprocessing

    rows = []
    context = multiprocessing.get_context("spawn")
    for dtype in ("float32", "float64"):
        with context.Pool(1) as pool:
            ours = pool.apply(_peak_ours, (dtype,))
        with context.Pool(1) as pool:
            theirs = pool.apply(_peak_zennit, (dtype,))
        rows.append(
            (
                f"peak memory, batch 256, CIFAR-sized CNN, {dtype} (NumPy by tracemalloc / RSS growth)",
                f"{ours[0]:.0f} / {ours[1]} MB",
                "-" if theirs is None else f"Zennit: {theirs} MB",
                "",
                "info",
                "",
            )
        )
    return rows


def _cifar_batch(dtype, n=256):
    rng = np.random.default_rng(3)
    return rng.uniform(0, 1, (n, 3, 32, 32)).astype(dtype), rng.integers(0, 10, n)


def _rss_mb():
    """(resident memory now, its peak) of this process in MB, from /proc/self/status (VmRSS, VmHWM; Linux)."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def _reset_peak():
    """Set the peak (VmHWM) to the memory in use now (Linux ≥ 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def _growth(before, after):
    """How far the peak RSS rose above the memory in use before the call; "≤" when the peak could not be reset
    and did not move (the call then stayed below an earlier peak)."""
    (now, peak), (_, new_peak) = before, after
    return f"{new_peak - now:.0f}" if new_peak > peak or peak <= now + 1 else f"≤ {peak - now:.0f}"


def _peak_ours(dtype):
    import tracemalloc

    model, (x, target) = cnn_model(cifar_weights(), dtype), _cifar_batch(dtype)
    lrp(model, x[:2], composites.EpsilonGammaBox(0.0, 1.0), target[:2])  # imports and first-call allocations
    _reset_peak()
    before = _rss_mb()
    tracemalloc.start()
    lrp(model, x, composites.EpsilonGammaBox(0.0, 1.0), target)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak, _growth(before, _rss_mb())


def _peak_zennit(dtype):
    found = import_torch_zennit()
    if isinstance(found, str):
        return None
    torch, zennit = found
    net = to_torch(torch, zennit, cnn_model(cifar_weights(), dtype))
    x, target = _cifar_batch(dtype)
    composite = zennit.composites.EpsilonGammaBox(low=0.0, high=1.0)
    composite.register(net)

    def explain(xs, ts):
        inp = torch.from_numpy(xs).requires_grad_(True)
        out = net(inp)
        seed = torch.zeros_like(out)
        seed[torch.arange(len(ts)), torch.from_numpy(ts)] = out.detach()[torch.arange(len(ts)), torch.from_numpy(ts)]
        return torch.autograd.grad(out, inp, grad_outputs=seed)[0]

    explain(x[:2], target[:2])
    _reset_peak()
    before = _rss_mb()
    explain(x, target)
    return _growth(before, _rss_mb())


def digit_timings():
    """Milliseconds for one 8×8 digit explained by a composite, on the bundled digit models (or random stand-ins)."""
    x = np.random.default_rng(1).uniform(0, 16, size=(1, 1, 8, 8))
    try:
        from course.relevance.models import load

        cnn, mlp = load("digits_cnn"), load("digits_mlp")
        source = "bundled"
    except Exception:  # models not built yet: random weights with the same architecture
        rng = np.random.default_rng(2)
        cnn = Sequential(
            [
                Conv2d(rng.normal(size=(8, 1, 3, 3)), padding=1),
                ReLU(),
                MaxPool2d(2),
                Conv2d(rng.normal(size=(16, 8, 3, 3)), padding=1),
                ReLU(),
                AvgPool2d(2),
                Flatten(),
                Dense(rng.normal(size=(64, 10))),
            ]
        )
        mlp = Sequential(
            [
                Dense(rng.normal(size=(64, 64))),
                ReLU(),
                Dense(rng.normal(size=(64, 32))),
                ReLU(),
                Dense(rng.normal(size=(32, 10))),
            ]
        )
        source = "random stand-ins"
    low, high = 0.0, 16.0
    cases = {
        "digits_cnn EpsilonGammaBox": (cnn, x, composites.EpsilonGammaBox(low, high)),
        "digits_cnn EpsilonPlusFlat": (cnn, x, composites.EpsilonPlusFlat()),
        "digits_mlp EpsilonGammaBox": (mlp, x.reshape(1, 64), composites.EpsilonGammaBox(low, high)),
    }
    with threadpool_limits(1):
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


def measure(w, x, target, nets):
    """All rows of the table: (measurement, this engine, reference, ratio, target, verdict)."""
    rows = zennit_rows(nets)
    single = {
        "Zero": rules.Zero(),
        "Epsilon(0.25)": rules.Epsilon(0.25),
        "Gamma(0.25)": rules.Gamma(0.25),
        "AlphaBeta(2, 1)": rules.AlphaBeta(2, 1),
        "ZPlus": rules.ZPlus(),
        "Flat": rules.Flat(),
        "WSquare": rules.WSquare(),
        "ZBox(0, 1) + Epsilon": [rules.ZBox(0.0, 1.0), rules.Epsilon(), rules.Epsilon()],
    }
    for dtype in (np.float32, np.float64):
        model, xd = cnn_model(w, dtype), x.astype(dtype)
        # the baseline is the faster of the plain gradient and the gradient over the pieces lrp uses
        parts = _chunks(model, xd)
        fns = {
            "gradient": lambda: model.gradient(xd, target),
            "gradient in pieces": lambda: [model.gradient(xd[p], target[p]) for p in parts],
        }
        fns.update({name: (lambda r=r: lrp(model, xd, r, target)) for name, r in single.items()})
        with threadpool_limits(1):
            times = best_times(fns, repeats=10, budget=8.0)
        base = min(times.pop("gradient"), times.pop("gradient in pieces"))
        for name, t in times.items():
            rows.append(
                (
                    f"{name} vs forward+gradient, {np.dtype(dtype).name}",
                    f"{t * 1e3:.1f} ms",
                    f"{base * 1e3:.1f} ms",
                    f"{t / base:.2f}",
                    "≤ 2.0",
                    "met" if t <= 2 * base else "MISSED",
                )
            )

    source, digit = digit_timings()
    for name, t in digit.items():
        rows.append(
            (
                f"one 8×8 digit, {name} ({source})",
                f"{t * 1e3:.2f} ms",
                "5 ms",
                f"{t / 5e-3:.2f}",
                "< 1.0",
                "met" if t < 5e-3 else "MISSED",
            )
        )
    return rows


def print_table(title, rows):
    header = ("measurement", "this engine", "reference", "ratio", "target", "")
    widths = [max(len(str(r[c])) for r in rows + [header]) for c in range(len(header))]
    print(title)
    for r in [header, tuple("-" * w for w in widths)] + rows:
        print(
            "  ".join(
                str(cell).ljust(wd) if c in (0, 5) else str(cell).rjust(wd)
                for c, (cell, wd) in enumerate(zip(r, widths))
            ).rstrip()
        )


def main():
    rng = np.random.default_rng(0)
    w = anchor_weights()
    x = rng.uniform(0.0, 1.0, size=(BATCH, 1, 28, 28))
    target = rng.integers(0, 10, size=BATCH)
    nets = networks()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start (a shared machine: "
        "the ratios are noisy)"
    )
    print_table(
        "LRP engine, default allocator; minimum of interleaved repeats (CPU time on 1 thread, wall time on 2)",
        measure(w, x, target, nets) + peak_memory_rows(nets),
    )
    if keep_freed_memory():  # cannot be undone: measured second, for everything alike
        print()
        print_table(
            "The same with glibc keeping freed memory (mallopt: no page faults for reused temporaries)",
            measure(w, x, target, nets),
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
