"""Data sets: shapes, ranges, determinism and the ground truth of the signal+distractor toy."""

import subprocess
import sys

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


def test_digits_equal_scikit_learns_copy_and_split():
    """The shipped file holds exactly what load_digits + train_test_split give (tools/make_digits.py wrote it)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from course.datasets import DIGITS_SPLIT_SEED

    data = load_digits()
    X, y = data.data / 16.0, data.target
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=DIGITS_SPLIT_SEED)
    for split, (X_ref, y_ref) in {"all": (X, y), "train": (X_tr, y_tr), "test": (X_te, y_te)}.items():
        X_got, y_got = digits(split)
        assert X_got.dtype == np.float64 and y_got.dtype == np.int64
        np.testing.assert_array_equal(X_got, X_ref, err_msg=split)
        np.testing.assert_array_equal(y_got, y_ref, err_msg=split)


def test_digits_are_read_without_scikit_learn():
    code = (
        "import sys; from course.datasets import digits; digits('all'); digits('test', 'image'); "
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}); "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_broken_digits_file_is_one_clear_error(tmp_path, monkeypatch):
    from course import datasets

    broken = tmp_path / "digits.npz"
    broken.write_bytes(b"not a zip file")
    monkeypatch.setattr(datasets, "DIGITS_FILE", broken)
    datasets._digits_file.cache_clear()
    try:
        with pytest.raises(CourseError, match="make_digits.py"):
            digits("train")
    finally:
        datasets._digits_file.cache_clear()


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


@pytest.mark.parametrize(
    "call",
    [
        lambda: digits("validation"),
        lambda: digits(layout="nchw"),
        lambda: two_class_2d(1),
        lambda: signal_distractor(10, a_s=(1.0, 1.0), a_d=(2.0, 2.0)),
        lambda: signal_distractor(10, sigma_y=0),
        lambda: signal_distractor(10, sigma_y=float("nan")),
        lambda: signal_distractor(10, a_s=(float("nan"), 0.0)),
        lambda: two_class_2d(10, noise=float("nan")),
        lambda: two_class_2d(10, noise="0.1"),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(CourseError):
        call()


# ------------------------------------------------------------------ the trainer
from course.relevance import Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential, models  # noqa: E402
from course.relevance.models import make_models  # noqa: E402
from course.relevance.train import accuracy, loss_and_gradients, softmax_cross_entropy, train  # noqa: E402


def test_softmax_cross_entropy_by_hand():
    # logits (0, ln 3): softmax = (1/4, 3/4); label 1 → loss −ln(3/4); gradient (1/4, 3/4 − 1)
    loss, grad = softmax_cross_entropy(np.array([[0.0, np.log(3.0)]]), np.array([1]))
    assert loss == pytest.approx(-np.log(0.75))
    np.testing.assert_allclose(grad, [[0.25, -0.25]])


def tiny_cnn(rng):
    return Sequential(
        [
            Conv2d(rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2) * 0.1, stride=2, padding=1),
            ReLU(),
            MaxPool2d(2),
            Flatten(),
            Dense(rng.normal(size=(8, 3)), rng.normal(size=3) * 0.1),
        ]
    )


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_parameter_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(0)
    if kind == "mlp":
        model = Sequential(
            [
                Dense(rng.normal(size=(4, 5)), rng.normal(size=5)),
                ReLU(),
                Dense(rng.normal(size=(5, 3)), rng.normal(size=3)),
            ]
        )
        x = rng.normal(size=(6, 4))
    else:
        model, x = tiny_cnn(rng), rng.normal(size=(5, 1, 8, 8))
    labels = rng.integers(0, 3, size=len(x))
    _, grads = loss_and_gradients(model, x, labels)
    h = 1e-6
    for i in model.linear_layers:
        layer = model.layers[i]
        for name, analytic in zip(("weight", "bias"), grads[i]):
            param = getattr(layer, name)
            for idx in list(np.ndindex(*param.shape))[::3]:
                old = param[idx]
                param[idx] = old + h
                up = softmax_cross_entropy(model(x), labels)[0]
                param[idx] = old - h
                down = softmax_cross_entropy(model(x), labels)[0]
                param[idx] = old
                assert analytic[idx] == pytest.approx((up - down) / (2 * h), abs=1e-6)


def test_one_sgd_step_is_w_minus_lr_times_gradient():
    rng = np.random.default_rng(1)
    model = Sequential([Dense(rng.normal(size=(3, 2)), np.zeros(2))])
    x, labels = rng.normal(size=(4, 3)), np.array([0, 1, 1, 0])
    w0 = model.layers[0].weight.copy()
    _, grads = loss_and_gradients(model, x, labels)
    train(model, x, labels, epochs=1, batch_size=4, lr=0.5, optimizer="sgd")
    np.testing.assert_allclose(model.layers[0].weight, w0 - 0.5 * grads[0][0])


def test_trainer_refuses_bad_labels():
    model = Sequential([Dense(np.ones((2, 2)))])
    with pytest.raises(CourseError, match="labels must lie"):
        train(model, np.ones((2, 2)), np.array([0, 2]))
    with pytest.raises(CourseError, match="optimizer"):
        train(model, np.ones((2, 2)), np.array([0, 1]), optimizer="lbfgs")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"epochs": -1}, "epochs must be a non-negative integer"),
        ({"lr": -0.1}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
    ],
)
def test_trainer_refuses_bad_settings(kwargs, message):
    with pytest.raises(CourseError, match=message):
        train(Sequential([Dense(np.ones((2, 2)))]), np.ones((2, 2)), np.array([0, 1]), **kwargs)


# ------------------------------------------------------------------ the bundled models
def test_bundled_digits_models_are_accurate_on_the_held_out_split():
    x_flat, y = digits("test")
    x_img, _ = digits("test", layout="image")
    mlp, cnn = models.load("digits_mlp"), models.load("digits_cnn")
    assert accuracy(mlp, x_flat, y) >= 0.95
    assert accuracy(cnn, x_img, y) >= 0.95
    assert accuracy(mlp, x_flat, y) == pytest.approx(models.info("digits_mlp")["test_accuracy"])
    assert isinstance(cnn.layers[0], Conv2d)  # composites put their input rule on the first convolution
    assert any(isinstance(layer, MaxPool2d) for layer in cnn.layers)


def test_bundled_toy_models():
    X, y = two_class_2d(400, seed=7)  # fresh samples, not the training set
    assert accuracy(models.load("toy2d"), X, y) >= 0.95
    linear = models.load("signal_distractor")
    np.testing.assert_allclose(linear.layers[0].weight[:, 0], signal_distractor(10).w, atol=1e-9)
    np.testing.assert_allclose(linear.layers[0].bias, 0.0, atol=1e-9)


def test_models_load_in_float32_and_are_fresh_copies():
    a, b = models.load("digits_mlp", dtype=np.float32), models.load("digits_mlp", dtype=np.float32)
    assert a.layers[0].weight.dtype == np.float32
    a.layers[0].weight[:] = 0
    assert np.abs(b.layers[0].weight).sum() > 0
    with pytest.raises(CourseError, match="bundled models"):
        models.load("resnet50")


def test_the_script_reproduces_a_model_of_the_stated_quality(tmp_path):
    meta = make_models.make("digits_mlp", tmp_path)
    assert meta["test_accuracy"] >= 0.95
    assert (tmp_path / "digits_mlp.npz").exists()
