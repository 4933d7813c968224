"""The two-part MDL figures (seed item T3.1): code lengths against the degree, and the fitted polynomials.

:func:`code_length_curves` draws L(D|H), L(H) and their sum L(D,H) over the candidate degrees with MDL's
choice marked; :func:`polynomial_fits` draws the data with least-squares polynomials of a few degrees.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.mdl import fit_polynomial

__all__ = ["code_length_curves", "polynomial_fits"]


def code_length_curves(ax, table, degree: int | None = None, title: str = ""):
    """L(D|H) (falls), L(H) (rises) and L(D,H) over ``table.degrees`` (a :func:`course.mdl.two_part_code_lengths`
    result); MDL's degree dashed green, an optional ``degree`` dotted red.

    >>> from matplotlib.figure import Figure
    >>> from course.mdl import sample_polynomial_data, two_part_code_lengths
    >>> t = two_part_code_lengths(*sample_polynomial_data(n=20, noise=0.1, seed=0), degrees=range(4))
    >>> ax = Figure().subplots()
    >>> code_length_curves(ax, t, degree=2)
    >>> len(ax.get_lines())  # three curves, MDL's degree, the chosen degree
    5
    """
    ax.plot(table.degrees, table.data_bits, "o-", color="tab:blue", label=r"$L(D\mid H)$ data given model")
    ax.plot(table.degrees, table.model_bits, "s-", color="tab:orange", label=r"$L(H)$ model (complexity)")
    ax.plot(table.degrees, table.total_bits, "D-", color="black", label=r"$L(D,H)$ total")
    best = table.best_degree
    ax.axvline(best, color="tab:green", ls="--", lw=1)
    ax.annotate(
        f"MDL: degree {best}",
        (best, table.total_bits.min()),
        xytext=(8, 12),
        textcoords="offset points",
        color="tab:green",
    )
    if degree is not None:
        ax.axvline(degree, color="tab:red", ls=":", lw=1.5, label=f"slider degree {degree}")
    ax.set_xlabel("polynomial degree")
    ax.set_ylabel("bits")
    ax.set_xticks(table.degrees)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)


def polynomial_fits(ax, x, y, fits: Sequence[tuple[int, str, str]], title: str = ""):
    """The data and one least-squares polynomial per ``(degree, colour, label)`` in ``fits``.

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> polynomial_fits(ax, np.linspace(-1, 1, 9), np.linspace(-1, 1, 9) ** 2, [(2, "g", "MDL")])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['data', 'MDL: degree 2']
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    grid = np.linspace(x.min(), x.max(), 300)
    ax.scatter(x, y, s=14, color="0.3", label="data")
    for d, colour, name in fits:
        p, _ = fit_polynomial(x, y, d)
        ax.plot(grid, p(grid), color=colour, label=f"{name}: degree {d}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
