"""What `pip install xai-course` gives: engine, solver, figures and digits, nothing of the lab or grader.

The slow test builds the wheel, installs it into a fresh venv with its own dependencies only (numpy, networkx,
matplotlib from PyPI) and runs the core there; the fast tests check how a missing extra is reported.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course.errors import CourseError
from course.extras import require

ROOT = Path(__file__).resolve().parent.parent
#: the core install; threadpoolctl (one pure-Python module, ~100 KB, no dependencies) is there for
#: lrp(threads=k), which gives each worker one BLAS thread
CORE = {"numpy", "networkx", "matplotlib", "threadpoolctl"}
#: what the core install must not contain (each comes with an extra, or only with the test extra)
ABSENT = ["jupyterlab", "ipywidgets", "nbgrader", "nbformat", "sklearn", "scipy", "tqdm"]
#: modules of course that still import nbformat at the top: none since the grading core moved to autograder.grading
NEED_GRADER: set[str] = set()

CORE_SCRIPT = textwrap.dedent("""
    import importlib, importlib.util, json, pkgutil, sys
    from pathlib import Path
    import numpy as np
    from matplotlib.figure import Figure
    import course
    from course.causal import minimum_backdoor_sets, parse_dag
    from course.datasets import digits
    from course.errors import CourseError
    from course.plotting import heatmap
    from course.relevance import Dense, ReLU, Sequential, lrp, rules

    out = {"course": course.__file__, "version": course.__version__}
    # LRP-0 by hand: h = relu(x W1) = (3, 3), y = 6; R_i = sum_j x_i W1_ij R_j / h_j = (1 - 1, 2 + 4) = (0, 6)
    net = Sequential([Dense([[1.0, -1.0], [1.0, 2.0]]), ReLU(), Dense([[1.0], [1.0]])])
    out["lrp"] = lrp(net, np.array([[1.0, 2.0]]), rules.Zero(), 0).tolist()
    # X <- B -> Y and X <- U -> B -> Y (U latent): {B} closes both
    dag = parse_dag("dag { X -> Y; B -> X; B -> Y; U [latent]; U -> X; U -> B }")
    out["backdoor"] = [sorted(s) for s in minimum_backdoor_sets(dag, "X", "Y")]
    fig = Figure(figsize=(2, 2))
    heatmap(fig.subplots(), np.array([[0.0, 6.0], [-1.0, 2.0]]), "R")
    fig.savefig(sys.argv[2])
    X, y = digits("all")
    reference = np.load(sys.argv[1])
    out["digits_equal"] = bool(np.array_equal(X, reference["X"]) and np.array_equal(y, reference["y"]))
    out["absent"] = {name: importlib.util.find_spec(name) is None for name in json.loads(sys.argv[3])}
    try:
        from course.widgets import live_figure
        live_figure(lambda fig, a: None, {})
    except CourseError as exc:
        out["widgets"] = str(exc)
    from course.quiz.bank import load_bank
    try:
        out["quiz_keys"] = f"loaded {len(load_bank(keys=True))} keyed questions"
    except CourseError as exc:
        out["quiz_keys"] = str(exc)
    failed = {}
    for info in pkgutil.walk_packages(course.__path__, "course."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed[info.name] = f"{type(exc).__name__}: {exc}"
    out["failed_imports"] = failed
    print(json.dumps(out))
""")


def _run(*args, **kw):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def test_core_dependencies_are_the_engine_solver_and_figures_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {req.split(">")[0].split("=")[0].split("[")[0].strip() for req in project["dependencies"]}
    assert names == CORE
    extras = project["optional-dependencies"]
    assert {"lab", "grader", "dask", "test"} <= set(extras)
    pulled = next(req for req in extras["test"] if req.startswith("xai-course["))
    assert set(pulled[len("xai-course[") : -1].split(",")) == set(extras) - {"test"}, "the test extra pulls every extra"


@pytest.mark.slow
def test_the_wheel_installed_alone_runs_the_core(tmp_path):
    """Build the wheel, pip install it (and so its declared dependencies) into a fresh venv, run the core there."""
    from sklearn.datasets import load_digits  # the independent reference for the shipped digits file

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    # from a clean copy of the sources: a stale build/lib of this tree (e.g. modules or keys files since moved)
    # would otherwise end up in the wheel
    source = tmp_path / "source"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "demo_course", "demo_output", "lab", "__pycache__", ".ipynb_checkpoints"
    )
    shutil.copytree(ROOT, source, ignore=skip)
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", source, env=env, timeout=600)
    (wheel,) = (tmp_path / "dist").glob("xai_course-*.whl")
    shipped = zipfile.ZipFile(wheel).namelist()
    assert "course/quiz/bank_quiz7.toml" in shipped  # the questions ship; their answer keys stay with the course
    assert not [n for n in shipped if n.rpartition("/")[2].startswith("keys_") or "course/grading/" in n], shipped
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, timeout=300)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", wheel, env=env, timeout=900)
    data = load_digits()
    np.savez(tmp_path / "reference.npz", X=data.data / 16.0, y=data.target)
    (tmp_path / "core.py").write_text(CORE_SCRIPT)
    png = tmp_path / "heatmap.png"
    out = json.loads(
        _run(
            python,
            tmp_path / "core.py",
            tmp_path / "reference.npz",
            png,
            json.dumps(ABSENT),
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
        .strip()
        .splitlines()[-1]
    )
    assert Path(out["course"]).is_relative_to(venv), out["course"]  # the installed package, not the source tree
    assert out["lrp"] == [[0.0, 6.0]]
    assert out["backdoor"] == [["B"]]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out["digits_equal"]
    assert all(out["absent"].values()), f"installed with the core: {[n for n, a in out['absent'].items() if not a]}"
    assert out["widgets"] == "ipywidgets is not installed; pip install 'xai-course[lab]'"
    assert set(out["failed_imports"]) <= NEED_GRADER, out["failed_imports"]
    assert "XAI_COURSE_QUIZ_KEYS" in out["quiz_keys"] and "nbgrader course directory" in out["quiz_keys"]
    site = next((venv / "lib").glob("python3*/site-packages"))
    size = _run("du", "-sm", site).split()[0]
    print(f"core install: {size} MB in {site}")


def test_require_names_the_extra_in_one_line():
    with pytest.raises(CourseError) as caught:
        require("xai_course_no_such_module", "grader")
    assert str(caught.value) == "xai_course_no_such_module is not installed; pip install 'xai-course[grader]'"
    assert require("json", "lab") is json


def test_require_does_not_hide_a_broken_module_behind_an_install_hint(tmp_path, monkeypatch):
    (tmp_path / "xai_course_half_installed.py").write_text("import xai_course_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="xai_course_missing_dependency"):
        require("xai_course_half_installed", "lab")
