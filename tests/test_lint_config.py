"""The lint gate's own rules, checked on the files as committed.

* Every ``noqa`` comment names its rule codes and says why (GUIDE: no ``noqa`` without a reason on the same
  line), e.g. ``# noqa: F401 -- re-exported``: a reason is a separator (``-``, ``--``, ``—``, ``(`` or ``;``)
  followed by words.
* ``make lint`` and ``.pre-commit-config.yaml`` run ruff's linter and format check over the whole tree, ``.ci/run``
  runs ``make lint`` before the tests, and the pre-commit hooks run the tools of .venv only (``repo: local``,
  ``language: system``), so installing them fetches nothing.
"""

import io
import json
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)", re.IGNORECASE)
# ": CODE[, CODE...]" then a separator and at least two words of reason
WITH_REASON = re.compile(r"^:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*\s*(?:--?|—|\(|;)\s*\w+\W+\w+")


# what git ignores (.gitignore), for a copy of the tree that is not a git checkout
UNTRACKED = {".git", ".venv", "build", "lab", "demo_output", "demo_course", "__pycache__", ".ipynb_checkpoints"}


def tracked(*patterns):
    """The files of the project matching the glob patterns (git's list; the tree itself outside a checkout)."""
    if (ROOT / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z", *patterns], cwd=ROOT, capture_output=True, check=True)
        return [ROOT / name for name in out.stdout.decode().split("\0") if name]
    return sorted(
        path
        for pattern in patterns
        for path in ROOT.rglob(pattern)
        if not UNTRACKED & set(path.relative_to(ROOT).parts) and ".egg-info" not in str(path)
    )


def python_sources(path):
    """(first line number, source) of the Python code in a .py file or in a notebook's code cells."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [(1, text)]
    cells = json.loads(text)["cells"]
    return [(0, "".join(cell["source"])) for cell in cells if cell["cell_type"] == "code"]


def noqa_comments(path):
    """(line, comment) of every noqa comment; only comments count, not text inside strings."""
    found = []
    for first, source in python_sources(path):
        try:
            comments = [
                (tok.start[0], tok.string)
                for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT
            ]
        except (tokenize.TokenError, SyntaxError):  # a notebook cell with IPython syntax: read it line by line
            comments = [(i, line[line.index("#") :]) for i, line in enumerate(source.splitlines(), 1) if "#" in line]
        found += [(first + line - 1, text) for line, text in comments if NOQA.search(text)]
    return found


# Files that had noqa comments without a reason when this check came (each owner adds the reasons; the
# number may only go down, and an entry goes once its file is clean).
KNOWN = {
    "course/quiz/__init__.py": 3,
    "course/relevance/__init__.py": 10,
    "tests/fixtures/autograde_course/nbgrader_config.py": 1,
    "tests/test_datasets_models.py": 3,
    "tests/test_onnx_import.py": 2,
    "tests/test_pattern.py": 1,
    "tests/test_resnet_model.py": 2,
    "tests/test_taylor.py": 2,
}


def offenders():
    """{file: ["line: comment", ...]} of the noqa comments without a reason."""
    bad = {}
    for path in tracked("*.py", "*.ipynb"):
        for line, comment in noqa_comments(path):
            if not WITH_REASON.match(NOQA.search(comment).group("rest")):
                bad.setdefault(str(path.relative_to(ROOT)), []).append(f"{line}: {comment}")
    return bad


@pytest.mark.parametrize(
    "comment, ok",
    [
        ("# noqa: F401 -- re-exported", True),
        ("# noqa: F401 - a hook: in CI a sandbox skip fails", True),
        ("# noqa: F401,E402 (re-exports after the import guard)", True),
        ("# noqa: BLE001 — any failure of student code is a failed probe", True),
        ("# noqa: F401", False),  # no reason
        ("# noqa", False),  # no code, no reason
        ("# noqa - imported for its side effect", False),  # no code
        ("# noqa: E402 - x", False),  # one letter is not a reason
    ],
)
def test_the_reason_rule_itself(comment, ok):
    assert bool(WITH_REASON.match(NOQA.search(comment).group("rest"))) is ok


def test_noqa_comments_are_found_in_code_not_in_strings(tmp_path):
    script = tmp_path / "x.py"
    script.write_text('import os  # noqa: F401\ntext = "# noqa: E501"\n', encoding="utf-8")
    assert noqa_comments(script) == [(1, "# noqa: F401")]


def test_every_noqa_says_why():
    over = {name: found for name, found in offenders().items() if len(found) > KNOWN.get(name, 0)}
    listing = "\n".join(f"{name}:{entry}" for name, found in over.items() for entry in found)
    assert not over, f"noqa comment(s) without a reason on the same line (# noqa: CODE -- why):\n{listing}"


def _recipe(target):
    """The commands of a Makefile target, as make prints them (-n: nothing runs)."""
    out = subprocess.run(
        ["make", "-n", "-s", "--no-print-directory", "-o", ".venv/.installed", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_make_lint_and_pre_commit_check_the_whole_tree():
    recipe = _recipe("lint")
    assert re.search(r"ruff check \.$", recipe, re.MULTILINE), recipe
    assert re.search(r"ruff format --check \.$", recipe, re.MULTILINE), recipe
    assert re.search(r"mypy$", recipe, re.MULTILINE), recipe
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    for hook in ("ruff-check", "ruff-format"):
        block = config[config.index(f"id: {hook}") :].split("- id:")[0]
        assert "files:" not in block and "exclude:" not in block, f"{hook} must see every file ruff sees"
        assert "jupyter" in block, f"{hook} must check the notebooks too"


def test_ci_runs_the_lint_gate_before_the_tests():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in script.splitlines()]
    commands = [line for line in lines if line.startswith(("make", "exec make"))]
    assert commands == ["make lint", "exec make test"], commands


def test_pre_commit_hooks_need_no_network():
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    repos = re.findall(r"^\s*-\s*repo:\s*(\S+)", config, re.MULTILINE)
    languages = re.findall(r"^\s*language:\s*(\S+)", config, re.MULTILINE)
    entries = re.findall(r"^\s*entry:\s*(\S+)", config, re.MULTILINE)
    assert repos == ["local"]
    assert languages and set(languages) == {"system"}
    assert entries and all(entry.startswith(".venv/bin/") for entry in entries)
