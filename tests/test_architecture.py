"""The import directions of ARCHITECTURE.md hold, and every file it names exists.

Imports are read from the source (``ast``), including imports inside functions, so a lazy import cannot
hide a dependency. Lecture notebooks are read cell by cell.
"""

import ast
import re
from pathlib import Path

import nbformat
import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
OWN = ("course", "autograder", "tests", "exercises", "benchmarks")
#: package cycles ARCHITECTURE.md lists as debt (none: course.quiz ⇄ course.grading went with the grading core's
#: move to autograder.grading); a new cycle fails the test
KNOWN_CYCLES: set[frozenset[str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OWN}


def _source_imports() -> dict[str, set[str]]:
    out = {}
    for top in ("course", "autograder"):
        for path in sorted((ROOT / top).rglob("*.py")):
            module = _module_name(path)
            out[module] = _imports(ast.parse(path.read_text(encoding="utf-8")), module, path.name == "__init__.py")
    return out


def _unit(module: str) -> str:
    """The architectural unit of a module: a subpackage of course (course.quiz), else the module itself."""
    parts = module.split(".")
    if parts[0] == "course" and len(parts) > 1 and (ROOT / "course" / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0] if parts[0] == "autograder" else module


SOURCES = _source_imports()
MODULES = set(SOURCES)


def _resolved(name: str) -> str | None:
    """The module that ``name`` (a module or a name inside one) refers to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _edges() -> set[tuple[str, str]]:
    edges = set()
    for module, names in SOURCES.items():
        if module.rpartition(".")[2].startswith("make_"):
            continue  # build scripts that write bundled data files (e.g. models/make_models.py), not imported

        for name in names:
            target = _resolved(name)
            if target and _unit(target) != _unit(module):
                edges.add((_unit(module), _unit(target)))
    return edges


@pytest.mark.parametrize(
    "engine, allowed",
    [
        ("course.relevance", {"course.errors", "course.validate"}),
        ("course.causal", {"course.errors", "course.validate", "course.localized"}),
    ],
)
def test_engines_import_only_the_shared_basics(engine, allowed):
    outgoing = {target for source, target in _edges() if source == engine}
    assert outgoing <= allowed, f"{engine} imports {sorted(outgoing - allowed)}"


def test_nothing_in_course_imports_the_autograder():
    offenders = sorted(source for source, target in _edges() if source.startswith("course") and target == "autograder")
    assert not offenders, f"students install course; these import autograder: {offenders}"


def test_the_grading_core_imports_nothing_else_of_the_autograder():
    """autograder.grading is what nbgrader's hidden tests import in a kernel: no sandbox, pipeline or report."""
    outside = sorted(
        f"{module} -> {target}"
        for module, names in SOURCES.items()
        if module.startswith("autograder.grading")
        for target in filter(None, map(_resolved, names))
        if target.startswith("autograder") and not target.startswith("autograder.grading")
    )
    assert not outside, outside
    assert "autograder.grading.checkers" in MODULES  # the core is where this test looks


def _reaches(module_prefix: str) -> set[str]:
    """Every own module that the modules under ``module_prefix`` import directly."""
    return {
        target
        for module, names in SOURCES.items()
        if module == module_prefix or module.startswith(module_prefix + ".")
        for target in filter(None, map(_resolved, names))
    }


@pytest.mark.parametrize(
    "source, forbidden",
    [
        # the readers turn files into tables; what is computed or drawn from them is downstream
        ("autograder.readers", ("autograder.report", "autograder.stats", "autograder.items", "autograder.report_cli")),
        # one timestamp parser for readers, gradebook writing and the report: it depends on no other part
        ("autograder.timestamps", ("autograder.",)),
        # renderers lay out a summary; they never read sources or write folders
        ("autograder.report.markdown", ("autograder.readers", "autograder.report.writer")),
        ("autograder.report.html_page", ("autograder.readers", "autograder.report.writer")),
        ("autograder.report.charts", ("autograder.readers", "autograder.report.writer")),
        ("autograder.report.blocks", ("autograder.readers", "autograder.report.writer")),
    ],
)
def test_report_path_directions(source, forbidden):
    assert source in MODULES, f"{source} is not a module any more: update ARCHITECTURE.md and this test"
    bad = sorted(t for t in _reaches(source) if t.startswith(forbidden) and not t.startswith(source))
    assert not bad, f"{source} imports {bad}"


def test_no_new_package_cycles():
    graph = nx.DiGraph(_edges())
    cycles = {frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1}
    assert cycles <= KNOWN_CYCLES, f"new import cycles: {[sorted(c) for c in cycles - KNOWN_CYCLES]}"


def test_the_checker_sees_lazy_and_relative_imports():
    tree = ast.parse("from . import lrp\ndef f():\n    from autograder.kernel import execute\n")
    assert _imports(tree, "course.relevance.network", False) >= {"course.relevance.lrp", "autograder.kernel.execute"}
    assert ("course.relevance", "course.errors") in _edges()  # the engine's error family is seen


@pytest.mark.parametrize("path", sorted((ROOT / "lectures").glob("*.ipynb")), ids=lambda p: p.name)
def test_lecture_notebooks_import_only_course(path):
    names = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            names |= _imports(ast.parse(code), "lectures", False)
    assert all(name.split(".")[0] == "course" for name in names), sorted(names)


def test_every_path_named_in_architecture_md_exists():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:course|autograder|exercises|lectures|tests|benchmarks|docs)/[^`*\s]+?)`", text))
    assert named, "ARCHITECTURE.md names no files"
    missing = sorted(p for p in named if "<" not in p and not (ROOT / p.rstrip("/")).exists())
    assert not missing, f"ARCHITECTURE.md names files that do not exist: {missing}"
