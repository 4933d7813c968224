"""Data sets: shapes, ranges, determinism and the ground truth of the signal+distractor toy."""
import numpy as np
import pytest

from course.datasets import digits, signal_distractor, two_class_2d
from course.errors import CourseError


def test_digits_split_is_fixed_disjoint_and_complete():
    X_tr, y_tr = digits("train")
    X_te, y_te = digits("test")
    X_all, y_all = digits("all")
    assert X_tr.shape == (1347, 64) and X_te.shape == (450, 64) and X_all.shape == (1797, 64)
    assert X_tr.dtype == np.float64 and X_tr.min() == 0.0 and X_tr.max() == 1.0
    # every image lands in exactly one of the two parts
    rows = {r.tobytes() for r in X_all}
    assert {r.tobytes() for r in X_tr} | {r.tobytes() for r in X_te} == rows
    np.testing.assert_array_equal(np.bincount(y_tr) + np.bincount(y_te), np.bincount(y_all))
    # stratified: each class has a quarter (±1) of its samples in the test part
    assert np.all(np.abs(np.bincount(y_te) - np.bincount(y_all) / 4) <= 1)
    X_again, _ = digits("train")
    np.testing.assert_array_equal(X_tr, X_again)


def test_digits_image_layout_is_the_flat_one_reshaped_in_c_order():
    flat, y = digits("test")
    img, y2 = digits("test", layout="image")
    assert img.shape == (450, 1, 8, 8)
    np.testing.assert_array_equal(img[:, 0, 2, 5], flat[:, 2 * 8 + 5])
    np.testing.assert_array_equal(y, y2)


def test_signal_distractor_ground_truth():
    toy = signal_distractor(500, seed=3)
    np.testing.assert_allclose(toy.w, [1.0, -1.0])  # by hand: w ⊥ (1, 1), wᵀ(1, 0) = 1
    assert toy.w @ toy.a_s == pytest.approx(1.0) and toy.w @ toy.a_d == pytest.approx(0.0)
    np.testing.assert_allclose(toy.x, toy.signal + toy.distractor)
    np.testing.assert_allclose(toy.x @ toy.w, toy.y, atol=1e-12)


def test_signal_distractor_in_more_dimensions_still_has_an_exact_filter():
    toy = signal_distractor(50, a_s=(1.0, 2.0, 0.0), a_d=(0.0, 1.0, 1.0), seed=1)
    assert toy.w @ toy.a_s == pytest.approx(1.0) and toy.w @ toy.a_d == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(toy.x @ toy.w, toy.y, atol=1e-12)


def test_two_class_toy_is_balanced_and_seeded():
    X, y = two_class_2d(100, seed=4)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [50, 50]
    np.testing.assert_array_equal(X, two_class_2d(100, seed=4)[0])
    # the two moons: class 0 lies mostly above the line y = 0.25, class 1 mostly below
    assert np.mean(X[y == 0, 1] > 0.25) > 0.8 and np.mean(X[y == 1, 1] < 0.25) > 0.8


@pytest.mark.parametrize("call", [
    lambda: digits("validation"), lambda: digits(layout="nchw"), lambda: two_class_2d(1),
    lambda: signal_distractor(10, a_s=(1.0, 1.0), a_d=(2.0, 2.0)), lambda: signal_distractor(10, sigma_y=0),
])
def test_bad_arguments_raise(call):
    with pytest.raises(CourseError):
        call()
