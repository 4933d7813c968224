"""`make lab`'s working copy (course.lab.sync_working_copy): lectures/ is copied, refreshed, never written to.

Every test works on a temporary lectures folder built here (plus one on the real lectures/), and checks the
files on disk: what the student finds in lab/ and that the lectures' bytes never change.
"""

import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import lab
from course.errors import CourseError

LECTURES = Path(__file__).resolve().parent.parent / "lectures"


def _digest(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _lecture(path: Path, *sources: str) -> None:
    nb = new_notebook(cells=[new_markdown_cell("# Lecture")] + [new_code_cell(s) for s in sources])
    nbformat.write(nb, str(path))


def _run_in_lab(path: Path, text: str = "42\n") -> None:
    """What JupyterLab's autosave writes after the student ran every cell: outputs and execution counts."""
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        cell.outputs = [new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, str(path))


def _edit_in_lab(path: Path, source: str) -> None:
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(new_code_cell(source))
    nbformat.write(nb, str(path))


def _sources(path: Path) -> list:
    return [c.source for c in nbformat.read(str(path), as_version=4).cells]


@pytest.fixture
def course(tmp_path):
    lectures = tmp_path / "lectures"
    (lectures / ".lab-settings").mkdir(parents=True)
    (lectures / ".lab-settings" / "overrides.json").write_text("{}")
    (lectures / ".ipynb_checkpoints").mkdir()
    (lectures / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("{}")
    _lecture(lectures / "a.ipynb", "x = 1", "print(x)")
    _lecture(lectures / "b.ipynb", "y = 2")
    (lectures / "README.md").write_text("read me\n")
    return lectures, tmp_path / "lab"


def test_first_copy_holds_every_lecture_file_and_no_hidden_one(course):
    lectures, work = course
    before = _digest(lectures)
    report = lab.sync_working_copy(lectures, work)
    assert report.actions == {"README.md": "copied", "a.ipynb": "copied", "b.ipynb": "copied"}
    copied = {k: v for k, v in _digest(work).items() if k != lab.MANIFEST}
    assert copied == {k: v for k, v in before.items() if not k.startswith(".")}
    assert _digest(lectures) == before


def test_an_autosave_with_outputs_changes_the_copy_only_and_survives_the_next_sync(course):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    before = _digest(lectures)
    _run_in_lab(work / "a.ipynb")
    ran = (work / "a.ipynb").read_bytes()
    assert _digest(lectures) == before
    assert lab.sync_working_copy(lectures, work).actions["a.ipynb"] == "unchanged"
    assert (work / "a.ipynb").read_bytes() == ran  # the student's outputs stay while the lecture is the same
    assert _digest(lectures) == before


def test_a_changed_lecture_refreshes_a_copy_the_student_only_ran(course):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _run_in_lab(work / "a.ipynb")
    _lecture(lectures / "a.ipynb", "x = 10", "print(x)")  # the instructor's new version

    def never(key):
        raise AssertionError(f"asked about {key}, which the student did not edit")

    assert lab.sync_working_copy(lectures, work, ask=never).actions["a.ipynb"] == "refreshed"
    assert (work / "a.ipynb").read_bytes() == (lectures / "a.ipynb").read_bytes()


@pytest.mark.parametrize("answer", [None, False])
def test_a_copy_the_student_edited_is_kept_unless_they_agree(course, answer):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _edit_in_lab(work / "a.ipynb", "my_try = x * 3")
    mine = (work / "a.ipynb").read_bytes()
    _lecture(lectures / "a.ipynb", "x = 10", "print(x)")
    asked = []
    ask = None if answer is None else (lambda key: asked.append(key) or answer)
    report = lab.sync_working_copy(lectures, work, ask=ask)
    assert report.actions["a.ipynb"] == "kept (edited)"
    assert (work / "a.ipynb").read_bytes() == mine
    assert asked == ([] if answer is None else ["a.ipynb"])
    assert any(note.startswith("a.ipynb: kept your edits") for note in report.notes)
    # asked again next time, since the lecture is still newer than the copy
    assert lab.sync_working_copy(lectures, work, ask=lambda key: False).actions["a.ipynb"] == "kept (edited)"


def test_a_copy_the_student_edited_is_replaced_when_they_agree_and_saved_first(course):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _edit_in_lab(work / "a.ipynb", "my_try = x * 3")
    mine = (work / "a.ipynb").read_bytes()
    _lecture(lectures / "a.ipynb", "x = 10", "print(x)")
    report = lab.sync_working_copy(lectures, work, ask=lambda key: True)
    assert report.actions["a.ipynb"] == "replaced"
    assert (work / "a.ipynb").read_bytes() == (lectures / "a.ipynb").read_bytes()
    saved = list((work / lab.BACKUP).glob("a.*.ipynb"))
    assert [p.read_bytes() for p in saved] == [mine]
    assert str(saved[0].relative_to(work)) in report.notes[0]
    # the backup folder is the student's: a later sync neither copies it back to lectures nor removes it
    assert lab.sync_working_copy(lectures, work).actions["a.ipynb"] == "unchanged" and saved[0].exists()
    assert not (lectures / lab.BACKUP).exists()


def test_an_edit_with_an_unchanged_lecture_is_never_asked_about(course):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _edit_in_lab(work / "b.ipynb", "z = 3")
    report = lab.sync_working_copy(lectures, work, ask=lambda key: pytest.fail(f"asked about {key}"))
    assert report.actions["b.ipynb"] == "unchanged" and _sources(work / "b.ipynb")[-1] == "z = 3"


def test_new_and_deleted_files_are_copied_again(course):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _lecture(lectures / "c.ipynb", "c = 3")
    (work / "b.ipynb").unlink()
    actions = lab.sync_working_copy(lectures, work).actions
    assert actions["c.ipynb"] == "copied" and actions["b.ipynb"] == "copied"
    assert (work / "b.ipynb").read_bytes() == (lectures / "b.ipynb").read_bytes()


def test_a_lost_record_never_costs_an_edit(course):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _edit_in_lab(work / "a.ipynb", "my_try = 1")
    _run_in_lab(work / "b.ipynb")  # ran, not edited: same cells as its lecture
    ran = (work / "b.ipynb").read_bytes()
    (work / lab.MANIFEST).write_text("{ damaged")
    _lecture(lectures / "a.ipynb", "x = 10")
    actions = lab.sync_working_copy(lectures, work).actions
    assert actions["a.ipynb"] == "kept (edited)" and _sources(work / "a.ipynb")[-1] == "my_try = 1"
    assert actions["b.ipynb"] == "up to date" and (work / "b.ipynb").read_bytes() == ran
    assert lab.sync_working_copy(lectures, work).actions["b.ipynb"] == "unchanged"  # recorded again


def test_a_working_copy_inside_lectures_or_around_it_is_refused(course):
    lectures, _ = course
    for bad in (lectures, lectures / "lab", lectures.parent):
        with pytest.raises(CourseError, match="must lie outside"):
            lab.sync_working_copy(lectures, bad)
    with pytest.raises(CourseError, match="no lectures folder"):
        lab.sync_working_copy(lectures.parent / "nowhere", lectures.parent / "lab")


def test_the_real_lectures_copy_whole_and_stay_byte_for_byte(tmp_path):
    before = _digest(LECTURES)
    report = lab.sync_working_copy(LECTURES, tmp_path / "lab")
    notebooks = sorted(p.name for p in LECTURES.glob("*.ipynb"))
    assert notebooks and all(report.actions[n] == "copied" for n in notebooks)
    for name in notebooks:
        _run_in_lab(tmp_path / "lab" / name)
    assert _digest(LECTURES) == before


def test_make_lab_arguments_reach_jupyter_and_sync_only_starts_nothing(course, monkeypatch, capsys):
    lectures, work = course
    shutil.copytree(LECTURES / lab.SETTINGS, lectures / lab.SETTINGS, dirs_exist_ok=True)
    started = []
    monkeypatch.setattr(lab.os, "execv", lambda path, argv: started.append(argv))
    args = ["--lectures", str(lectures), "--workdir", str(work), "--keep"]
    assert lab.main(args + ["--sync-only"]) == 0 and started == []
    assert "3 copied" in capsys.readouterr().out
    assert lab.main(args + ["--no-browser", "--port=8899"]) == 0
    (cmd,) = started
    assert cmd[-2:] == ["--no-browser", "--port=8899"]
    assert f"--ServerApp.root_dir={work.resolve()}" in cmd
    assert f"--LabApp.app_settings_dir={(lectures / lab.SETTINGS).resolve()}" in cmd


def test_on_a_terminal_the_student_is_asked(course, monkeypatch):
    lectures, work = course
    lab.sync_working_copy(lectures, work)
    _edit_in_lab(work / "a.ipynb", "my_try = 1")
    _lecture(lectures / "a.ipynb", "x = 10")
    questions = []
    monkeypatch.setattr(lab.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: questions.append(prompt) or "y")
    assert lab.main(["--lectures", str(lectures), "--workdir", str(work), "--sync-only"]) == 0
    assert len(questions) == 1 and questions[0].startswith("a.ipynb: you edited it")
    assert (work / "a.ipynb").read_bytes() == (lectures / "a.ipynb").read_bytes()


def test_a_missing_settings_file_is_one_clear_line(course, capsys):
    lectures, work = course
    assert lab.main(["--lectures", str(lectures), "--workdir", str(work), "--keep"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: missing lab setting") and err.count("\n") == 1
