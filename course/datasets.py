"""Data sets of the course: two toys with known ground truth and the real 8×8 digits.

* :func:`two_class_2d` -- the 2-D two-class toy of L1 (blue = class 0, green = class 1)
  whose curved boundary makes the local gradient a poor explanation;
* :func:`signal_distractor` -- the linear signal + distractor toy of L17–L18
  (Kindermans et al., ICLR 2018), returned with its true signal direction
  ``a_s``, distractor direction ``a_d`` and the filter ``w`` that extracts ``y``;
* :func:`digits` -- the 8×8 UCI hand-written digits (Alpaydin & Kaynak, 1998) as
  scikit-learn ships them, read from ``course/data/digits.npz`` (no network, no
  scikit-learn at run time), scaled to [0, 1], with a fixed stratified train/test
  split. Source, licence and the script that wrote the file: ``course/data/README.md``.

Everything is seeded: the same call returns the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from course.errors import CourseError

__all__ = ["two_class_2d", "SignalDistractor", "signal_distractor", "digits", "DIGITS_SPLIT_SEED"]

#: seed of the fixed digits train/test split (a quarter of each class goes to the test set)
DIGITS_SPLIT_SEED = 0
#: the digits, their labels and the split's row indices, written by ``tools/make_digits.py``
DIGITS_FILE = Path(__file__).with_name("data") / "digits.npz"


def _check_count(n: object, name: str = "n") -> int:
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise CourseError(f"{name} must be an integer ≥ 2, got {n!r}")
    return int(n)


def two_class_2d(n: int = 200, noise: float = 0.12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D two-class toy of L1: two interleaved half moons.

    Class 0 ("blue", negative evidence) lies on the upper arc, class 1 ("green")
    on the lower arc shifted right, so that the decision boundary is curved and
    the gradient at a point can point away from the nearest points of the
    other class (L1). Returns ``X`` of shape (n, 2) and labels ``y`` in {0, 1}.

    >>> X, y = two_class_2d(10)
    >>> X.shape, sorted(set(y.tolist()))
    ((10, 2), [0, 1])
    """
    n = _check_count(n)
    given: object = noise  # checked as any value: a caller without a type checker may pass anything
    if not (isinstance(given, (int, float, np.floating)) and 0 <= given < np.inf):
        raise CourseError(f"noise must be a finite number ≥ 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    angle = rng.uniform(0.0, np.pi, size=n)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower) + rng.normal(scale=noise, size=(n, 2))
    return X, y


@dataclass(frozen=True)
class SignalDistractor:
    """Samples ``x = y a_s + eps a_d`` (L18) with the ground truth that generated them.

    ``s = y a_s`` is the signal, ``d = eps a_d`` the distractor and ``w`` the
    filter with ``wᵀa_s = 1`` and ``wᵀa_d = 0``, so that ``wᵀx = y`` exactly.
    """

    x: np.ndarray
    y: np.ndarray
    eps: np.ndarray
    a_s: np.ndarray
    a_d: np.ndarray
    w: np.ndarray

    @property
    def signal(self) -> np.ndarray:
        signal: np.ndarray = self.y[:, None] * self.a_s
        return signal

    @property
    def distractor(self) -> np.ndarray:
        distractor: np.ndarray = self.eps[:, None] * self.a_d
        return distractor


def signal_distractor(
    n: int = 1000,
    a_s: npt.ArrayLike = (1.0, 0.0),
    a_d: npt.ArrayLike = (1.0, 1.0),
    sigma_y: float = 1.0,
    sigma_eps: float = 1.0,
    y_mean: float = 0.0,
    seed: int = 0,
) -> SignalDistractor:
    """The linear toy of L17–L18: ``x = y a_s + eps a_d`` with independent Gaussian y and eps.

    The defaults are the paper's 2-D example (a_s = (1, 0), a_d = (1, 1)), whose
    filter is ``w = (1, -1)``: it is not aligned with the signal, its job is to
    cancel the distractor. ``w`` is the unique vector in span(a_s, a_d) with
    ``wᵀa_s = 1`` and ``wᵀa_d = 0``.

    >>> toy = signal_distractor(5)
    >>> toy.w
    array([ 1., -1.])
    >>> np.allclose(toy.x @ toy.w, toy.y)
    True
    """
    n = _check_count(n)
    a_s, a_d = np.asarray(a_s, dtype=np.float64), np.asarray(a_d, dtype=np.float64)
    if a_s.ndim != 1 or a_s.shape != a_d.shape:
        raise CourseError(f"a_s and a_d must be vectors of the same length, got {a_s.shape} and {a_d.shape}")
    if not (np.all(np.isfinite(a_s)) and np.all(np.isfinite(a_d))):
        raise CourseError("a_s and a_d must be finite (they contain NaN or inf)")
    basis = np.stack([a_s, a_d])  # 2 × d
    gram = basis @ basis.T
    if abs(np.linalg.det(gram)) < 1e-12 * max(1.0, np.abs(gram).max()) ** 2:
        raise CourseError("a_s and a_d must not be parallel: no filter can then separate signal from distractor")
    if not (0 < sigma_y < np.inf and 0 <= sigma_eps < np.inf and np.isfinite(y_mean)):
        raise CourseError(f"need finite sigma_y > 0, sigma_eps ≥ 0 and y_mean, got {sigma_y}, {sigma_eps}, {y_mean}")
    # w = basisᵀ c with basis w = (1, 0): the minimum-norm filter.
    w = basis.T @ np.linalg.solve(gram, np.array([1.0, 0.0]))
    rng = np.random.default_rng(seed)
    y = y_mean + sigma_y * rng.standard_normal(n)
    eps = sigma_eps * rng.standard_normal(n)
    x = y[:, None] * a_s + eps[:, None] * a_d
    return SignalDistractor(x=x, y=y, eps=eps, a_s=a_s, a_d=a_d, w=w)


@cache
def _digits_file() -> dict[str, np.ndarray]:
    """The arrays of :data:`DIGITS_FILE`, read once (callers get copies)."""
    try:
        with np.load(DIGITS_FILE) as data:
            return {key: data[key] for key in ("images", "target", "train", "test")}
    except (OSError, KeyError, ValueError) as exc:
        raise CourseError(
            f"cannot read the digits file {DIGITS_FILE} ({exc}); reinstall xai-course "
            "or rewrite it with python tools/make_digits.py"
        ) from exc


def digits(split: str = "train", layout: str = "flat") -> tuple[np.ndarray, np.ndarray]:
    """The 8×8 digits (1797 images, scikit-learn's copy of the UCI set) scaled to [0, 1].

    Pixels are counts 0..16 of a 4×4 block (Alpaydin & Kaynak, 1998), divided by 16.
    The split is fixed (stratified, a quarter of each class in ``"test"``, drawn by
    scikit-learn's ``train_test_split`` with seed :data:`DIGITS_SPLIT_SEED` and stored
    in the data file). ``layout="flat"`` gives ``X`` of shape (N, 64);
    ``layout="image"`` gives (N, 1, 8, 8) for convolutional nets. ``split="all"``
    returns all 1797 samples in the original order.

    >>> X, y = digits("test", layout="image")
    >>> X.shape, float(X.min()), float(X.max())
    ((450, 1, 8, 8), 0.0, 1.0)
    """
    if split not in ("train", "test", "all"):
        raise CourseError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if layout not in ("flat", "image"):
        raise CourseError(f"layout must be 'flat' or 'image', got {layout!r}")
    data = _digits_file()
    rows = slice(None) if split == "all" else data[split].astype(np.intp)
    X = data["images"][rows].astype(np.float64) / 16.0
    y = data["target"][rows].astype(np.int64)
    if layout == "image":
        X = X.reshape(-1, 1, 8, 8)
    return np.ascontiguousarray(X), y
