"""Report files: safe writing (temp dir + rename, --force), self-contained HTML, JSON keys, the question bank."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from autograder import cli, report, stats
from autograder.sources import Attempts
from course.errors import CourseError


@pytest.fixture
def attempts():
    # s1: 4/10 then 9/10 on the next day; s2: 6/10; s3: 10/10
    return Attempts.from_rows(
        ["s1", "s1", "s2", "s3"],
        ["2024-03-01 10:00", "2024-03-02 10:00", "2024-03-01 12:00", "2024-03-02 18:00"],
        [4, 9, 6, 10],
        10,
        assignment="quiz7",
        source="test",
    )


def test_report_files_and_summary_keys(attempts, tmp_path):
    out = report.write_report(attempts, tmp_path / "r", due="2024-03-05", now=datetime(2024, 3, 3))
    assert sorted(p.name for p in out.iterdir()) == [
        ".xai-course-report",
        "bands.png",
        "distribution.png",
        "dynamics.png",
        "report.html",
        "report.md",
        "summary.json",
    ]
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {
        "total_results",
        "students",
        "average_percent",
        "bands",
        "items",
        "common_mistakes",
        "attempt_policy",
    } <= set(s)
    assert s["total_results"] == 4 and s["students"] == 3
    assert s["average_percent"] == 72.5  # (40 + 90 + 60 + 100) / 4 = 290 / 4
    assert [b["count"] for b in s["bands"]] == [2, 1, 0, 0]  # best: 90, 60, 100
    # day 1: s1 40 ("3", lower bound inclusive), s2 60 ("4"); day 2: s1 90, s2 60, s3 100
    assert [r["counts"] for r in s["dynamics"]["rows"]] == [[0, 1, 1, 0], [2, 1, 0, 0]]
    assert s["preliminary"] is True and s["due"] == "2024-03-05T00:00:00"


def test_after_the_due_date_the_report_is_not_preliminary(attempts, tmp_path):
    out = report.write_report(attempts, tmp_path / "r", due="2024-03-05", now=datetime(2024, 3, 6))
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Results. Dynamics" in md and "Preliminary" not in md


def test_existing_directory_needs_force(attempts, tmp_path):
    out = report.write_report(attempts, tmp_path / "r")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(
        CourseError,
        match=r"already exists \(written by an earlier `xai-course report`\); "
        r"pass force=True to replace it",
    ):
        report.write_report(attempts, out)
    assert (out / "notes.txt").exists()
    report.write_report(attempts, out, force=True)
    assert not (out / "notes.txt").exists() and (out / "report.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no temporary or old directories left


def test_a_failure_while_writing_leaves_nothing_behind(attempts, tmp_path, monkeypatch):
    def broken(summary, charts):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report.writer, "render_html", broken)
    with pytest.raises(RuntimeError):
        report.write_report(attempts, tmp_path / "r")
    assert list(tmp_path.iterdir()) == []
    # and an existing report survives a failed --force run
    monkeypatch.undo()
    out = report.write_report(attempts, tmp_path / "r")
    before = (out / "report.md").read_text(encoding="utf-8")
    monkeypatch.setattr(report.writer, "render_html", broken)
    with pytest.raises(RuntimeError):
        report.write_report(attempts, out, force=True, policy="first")
    assert (out / "report.md").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_html_embeds_every_chart_and_escapes_text(tmp_path):
    a = Attempts.from_rows(["<b>x</b>"], ["2024-03-01"], [5], 10, assignment="<quiz>")
    out = report.write_report(a, tmp_path / "r")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    assert "<quiz>" not in page and "&lt;quiz&gt;" in page
    assert 'src="' not in page.replace('src="data:image/png;base64,', "")


def test_bank_from_json_and_from_the_course_toml(tmp_path):
    q = {"id": "q1", "text_ru": "Вопрос", "options": {"А": "да", "Б": "нет"}, "correct": ["А"]}
    (tmp_path / "bank.json").write_text(json.dumps({"questions": [q]}), encoding="utf-8")
    assert sorted(report.load_bank(tmp_path / "bank.json")["q1"].correct) == ["А"]
    (tmp_path / "keyed.json").write_text(json.dumps({"q2": {"correct": ["Б"]}}), encoding="utf-8")
    assert sorted(report.load_bank(tmp_path / "keyed.json")["q2"].correct) == ["Б"]
    from course.quiz.bank import default_bank_path

    bank = report.load_bank(default_bank_path())  # the quiz package's own loader and format
    assert sorted(bank["t3_backdoor_smallest_sets"].correct) == ["В", "Г"]
    (tmp_path / "bad.toml").write_text('[q1]\ntext_ru = "Вопрос"\n', encoding="utf-8")
    with pytest.raises(CourseError):
        report.load_bank(tmp_path / "bad.toml")
    with pytest.raises(CourseError, match="no such question bank file"):
        report.load_bank(tmp_path / "missing.toml")
    (tmp_path / "five.json").write_text('{"questions": 5}', encoding="utf-8")
    with pytest.raises(CourseError, match="expected a list of questions"):
        report.load_bank(tmp_path / "five.json")


def test_a_notebook_directory_of_responses_needs_the_assignment(tmp_path, capsys):
    csv = tmp_path / "g.csv"
    csv.write_text("student_id,score,max_score\na,9,10\n", encoding="utf-8")
    (tmp_path / "autograded").mkdir()
    assert (
        cli.main(
            ["report", "--csv", str(csv), "--out", str(tmp_path / "r"), "--responses", str(tmp_path / "autograded")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "needs --assignment NAME" in err and err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_cli_options_reach_the_report(tmp_path, capsys):
    csv = tmp_path / "g.csv"
    csv.write_text(
        "student_id,timestamp,score,max_score\na,2024-03-01 10:00,9,10\nb,2024-03-01 11:00,5,10\n"
        "c,2024-03-02 09:00,3,10\n",
        encoding="utf-8",
    )
    code = cli.main(
        [
            "report",
            "--csv",
            str(csv),
            "--out",
            str(tmp_path / "r"),
            "--bands",
            "pass:50,fail:0",
            "--every",
            "2",
            "--due",
            "2024-03-03",
        ]
    )
    assert code == 0, capsys.readouterr().err
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert [(b["label"], b["count"], b["percent"]) for b in s["bands"]] == [("pass", 2, 67), ("fail", 1, 33)]
    assert [r["attempts"] for r in s["dynamics"]["rows"]] == [2, 3]
    assert s["preliminary"] is False
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert '- "pass" (from 50%): 2 67%' in md and '- "fail" (less 50%): 1 33%' in md


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bands", "5:80"], "lowest band must start at 0"),
        (["--every", "week"], "--every: expected 'day'"),
        (["--due", "soon"], "due date: not a date"),
        (["--mistakes", "-1"], "--mistakes -1: must be a non-negative number"),
        (["--mistakes-threshold", "nan"], "--mistakes-threshold nan: must be a percentage from 0 to 100"),
        (["--mistakes-threshold", "150"], "--mistakes-threshold 150.0: must be a percentage from 0 to 100"),
    ],
)
def test_cli_option_errors_are_one_line(tmp_path, capsys, args, message):
    csv = tmp_path / "g.csv"
    csv.write_text("student_id,score,max_score\na,9,10\n", encoding="utf-8")
    assert cli.main(["report", "--csv", str(csv), "--out", str(tmp_path / "r"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_an_output_below_a_file_is_one_line_too(tmp_path, capsys):
    csv = tmp_path / "g.csv"
    csv.write_text("student_id,score,max_score\na,9,10\n", encoding="utf-8")
    (tmp_path / "afile").write_text("", encoding="utf-8")
    assert cli.main(["report", "--csv", str(csv), "--out", str(tmp_path / "afile" / "r")]) == 2
    err = capsys.readouterr().err
    assert "cannot create the report directory" in err and err.count("\n") == 1


def test_force_never_replaces_a_folder_the_report_did_not_write(attempts, tmp_path, capsys):
    precious = tmp_path / "precious"
    (precious / "figures").mkdir(parents=True)
    (precious / "thesis.tex").write_text("\\chapter{Results}", encoding="utf-8")
    (precious / "figures" / "a.png").write_bytes(b"png")
    csv = tmp_path / "g.csv"
    csv.write_text("student_id,score,max_score\na,9,10\n", encoding="utf-8")
    assert cli.main(["report", "--csv", str(csv), "--out", str(precious), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was not written by `xai-course report`" in err
    assert "choose another --out PATH" in err
    with pytest.raises(CourseError, match="refusing to replace it: choose another out_dir=PATH"):
        report.write_report(attempts, precious, force=True)
    assert (precious / "thesis.tex").read_text(encoding="utf-8") == "\\chapter{Results}"
    assert (precious / "figures" / "a.png").read_bytes() == b"png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv", "precious"]  # no temporary folders left
    # an empty folder and an earlier report are fine
    (tmp_path / "empty").mkdir()
    report.write_report(attempts, tmp_path / "empty")
    report.write_report(attempts, tmp_path / "empty", force=True)


@pytest.mark.parametrize(
    "python_call, cli_args, python_words, cli_words",
    [
        (lambda a, out: report.write_report(a, out), ["--out", "{out}"], "pass force=True", "pass --force"),
        (
            lambda a, out: report.write_report(a, out / "new", mistakes_limit=-1),
            ["--out", "{out}/new", "--mistakes", "-1"],
            "mistakes_limit=-1",
            "--mistakes -1",
        ),
        (
            lambda a, out: report.write_report(a, out / "new", mistakes_threshold=150),
            ["--out", "{out}/new", "--mistakes-threshold", "150"],
            "mistakes_threshold=150",
            "--mistakes-threshold 150",
        ),
        (
            lambda a, out: report.write_report(a, out / "new", bands=stats.parse_bands("5:80")),
            ["--out", "{out}/new", "--bands", "5:80"],
            "bands='5:80'",
            "--bands '5:80'",
        ),
    ],
)
def test_messages_name_python_arguments_in_python_and_flags_on_the_command_line(
    attempts, tmp_path, capsys, python_call, cli_args, python_words, cli_words
):
    out = report.write_report(attempts, tmp_path / "r")
    with pytest.raises(CourseError) as info:
        python_call(attempts, out)
    assert python_words in str(info.value) and "--" not in str(info.value)
    csv = tmp_path / "g.csv"
    csv.write_text("student_id,score,max_score\na,9,10\n", encoding="utf-8")
    assert cli.main(["report", "--csv", str(csv)] + [a.format(out=out) for a in cli_args]) == 2
    err = capsys.readouterr().err
    assert cli_words in err and err.count("\n") == 1
    assert "=True" not in err and "mistakes_" not in err and "bands=" not in err


def test_every_report_option_is_translated_from_its_python_name():
    parser = cli.build_parser(["report"])
    sub = cli._subparser(parser, "report")
    aliases = {"out_dir": "out", "mistakes_limit": "mistakes"}
    for action in sub._actions:
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        if flag is None or action.dest == "help":
            continue
        value = "True" if action.nargs == 0 else "X"
        expected = flag if value == "True" else f"{flag} X"
        assert cli.flag_words(f"use {action.dest}={value} here", sub, aliases) == f"use {expected} here"
    assert cli.flag_words("use out_dir=X", sub, aliases) == "use --out X"
    assert cli.flag_words("the layout=X and timeout=3 stay", sub, aliases) == "the layout=X and timeout=3 stay"


def test_a_sub_subcommand_error_names_its_flag_once(tmp_path, capsys):
    out = tmp_path / "moodle"
    assert cli.main(["quiz", "export", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["quiz", "export", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and "force=True" not in err and "(--force)" not in err


def test_a_json_bank_becomes_the_quiz_question_model(tmp_path):
    from course.quiz.bank import Question

    data = {
        "questions": [
            {"id": "tf", "correct": ["неверно"], "explanation": "L(H) is that term."},
            {"id": "num", "correct": [2.5], "tolerance": 0.1},
            {
                "id": "sets",
                "options": [{"letter": "А", "ru": "{B}", "nodes": ["B"]}, ["Б", "{D}"]],
                "correct": ["А", "Б"],
            },
            {"id": "plain", "options": ["да", "нет"], "correct": "Б"},
        ]
    }
    (tmp_path / "bank.json").write_text(json.dumps(data), encoding="utf-8")
    bank = report.load_bank(tmp_path / "bank.json")
    assert all(isinstance(q, Question) for q in bank.values())
    assert (bank["tf"].kind, bank["tf"].correct, bank["tf"].mistake.ru) == ("truefalse", False, "L(H) is that term.")
    assert (bank["num"].kind, bank["num"].correct, bank["num"].tolerance) == ("numeric", 2.5, 0.1)
    assert bank["sets"].kind == "multiple" and bank["sets"].options[0].nodes == frozenset("B")
    assert [(o.letter, o.text.ru) for o in bank["plain"].options] == [("А", "да"), ("Б", "нет")]
    assert bank["plain"].kind == "single" and bank["plain"].correct == frozenset("Б")
    for entry, message in [
        ({"id": "q", "options": 5}, "options must be a list"),
        ({"id": "q", "correct": {"А": 1}}, "correct must be letters"),
        ({"id": "q", "text_ru": 7}, "text_ru must be text"),
        ({"id": "q", "tolerance": "wide"}, "tolerance must be a number"),
        ({"id": "q", "options": [5]}, "option 1 is neither"),
    ]:
        (tmp_path / "bad.json").write_text(json.dumps([entry]), encoding="utf-8")
        with pytest.raises(CourseError, match=f"question 'q': {message}"):
            report.load_bank(tmp_path / "bad.json")


def test_the_report_command_keeps_heavy_imports_lazy(tmp_path):
    """Start-up is most of a small report's time: nbgrader, tqdm, scipy are never loaded for a CSV report,
    matplotlib only when the charts are drawn."""
    import subprocess
    import sys

    csv = tmp_path / "g.csv"
    csv.write_text("student_id,timestamp,score,max_score\ns1,2024-03-01 10:00,9,10\ns2,2024-03-02 10:00,5,10\n")
    code = (
        "import sys; import autograder.report_cli; from autograder.cli import main\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported before a chart is drawn'\n"
        f"assert main(['report', '--csv', {str(csv)!r}, '--out', {str(tmp_path / 'r')!r}]) == 0\n"
        "print(sorted(m for m in ('nbgrader', 'sqlalchemy', 'tqdm', 'scipy', 'nbformat') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "r" / "report.html").is_file()
