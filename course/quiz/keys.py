"""The quiz's answer keys: their file format, where they are found, and how they merge into a bank.

Answer keys (``keys_quiz7.toml``, kept with the instructor's course files, not
in this package) hold what gives an answer away, question by question, and are
merged into the bank by id (and option letter)::

    [meta]
    id = "quiz7"                 # must be the bank's id

    [[question]]
    id = "t3_backdoor_smallest"
    correct = ["А"]              # letters (single/multiple), true/false, or a number
    mistake_ru = "..."           # the usual mistake, shown after a wrong answer
    mistake_en = "..."
      [[question.options]]
      letter = "Б"
      why_ru = "..."             # optional: why picking this (wrong) option is a mistake
      why_en = "..."

The keys live apart so that student code never has them: what students install
(``course``) ships the questions only, and the quiz notebook's visible checks
load the bank with ``keys=False``. Where the keys file is found: the
``keys_path`` argument of :func:`course.quiz.bank.load_bank`; for the course's own bank, the
file named by the environment variable ``XAI_COURSE_QUIZ_KEYS`` (an
instructor's private copy), else ``exercises/quiz7/keys_quiz7.toml`` of the
nbgrader course directory -- beside the quiz's source notebook -- found as
:func:`course.nbgrader_setup.course_root` finds it (the repository this package
runs from, else the working directory and its parents; the grader passes its
``--course``). For any other bank file: ``keys_<name>.toml`` beside
``bank_<name>.toml`` (``<stem>.keys.toml`` beside any other name). A bank file
may also carry its keys inline (fields of its own questions); giving a field in
both places is an error. The autograder's sandbox shows neither the course
directory nor the file ``XAI_COURSE_QUIZ_KEYS`` names (:mod:`autograder.sandbox`).
"""

from __future__ import annotations

import os
from pathlib import Path

from course.errors import CourseError

__all__ = [
    "KEYS_ENV",
    "COURSE_KEYS",
    "NO_KEYS",
    "KEY_FIELDS",
    "OPTION_KEY_FIELDS",
    "keys_path",
    "keys_unavailable",
    "without_keys",
    "merge_keys",
]

#: environment variable naming the keys file of the course's own bank (an instructor's private copy)
KEYS_ENV = "XAI_COURSE_QUIZ_KEYS"
#: the course bank's keys file inside the nbgrader course directory (beside the quiz's source notebook)
COURSE_KEYS = Path("exercises") / "quiz7" / "keys_quiz7.toml"
#: start of every "no keys" error message
NO_KEYS = "answer keys are not available here"
#: fields of a question (and of an option) that give the answer away: kept in the keys file
KEY_FIELDS = ("correct", "mistake_ru", "mistake_en")
OPTION_KEY_FIELDS = ("why_ru", "why_en")


def keys_path(bank_path: Path, course_bank: bool) -> Path | None:
    """Where the keys of the bank file ``bank_path`` are looked for; None when nowhere.

    For the course's own bank (``course_bank``): ``$XAI_COURSE_QUIZ_KEYS`` when
    it is set, else :data:`COURSE_KEYS` in the nbgrader course directory (None
    when there is no course directory). For any other bank: ``keys_<name>.toml``
    beside ``bank_<name>.toml`` (``<stem>.keys.toml`` beside any other file).

    >>> keys_path(Path("/q/bank_small.toml"), course_bank=False).as_posix()
    '/q/keys_small.toml'
    """
    if course_bank:
        env = os.environ.get(KEYS_ENV, "").strip()
        if env:
            return Path(env).expanduser()
        from course.nbgrader_setup import course_root

        try:
            return course_root() / COURSE_KEYS
        except CourseError:
            return None
    name = bank_path.name
    if name.startswith("bank_"):
        return bank_path.with_name("keys_" + name[len("bank_") :])
    return bank_path.with_name(f"{bank_path.stem}.keys.toml")


def keys_unavailable(kpath: Path) -> str | None:
    """Why the keys file cannot be used (None when it can): missing, unreadable or empty (hidden)."""
    try:
        with open(kpath, "rb") as fh:
            empty = not fh.read(4096).strip()
    except FileNotFoundError:
        return f"there is no keys file {kpath}"
    except IsADirectoryError:
        return f"the keys file {kpath} is a directory"
    except OSError as exc:
        return f"the keys file {kpath} cannot be read ({exc.strerror})"
    return f"the keys file {kpath} is empty (hidden)" if empty else None


def without_keys(data: dict) -> dict:
    """The bank ``data`` (parsed TOML) without any key field (what a student's code may see)."""
    questions = []
    for q in data["question"]:
        if isinstance(q, dict):
            q = {k: v for k, v in q.items() if k not in KEY_FIELDS}
            if isinstance(q.get("options"), list):
                q["options"] = [
                    {k: v for k, v in o.items() if k not in OPTION_KEY_FIELDS} if isinstance(o, dict) else o
                    for o in q["options"]
                ]
        questions.append(q)
    return {**data, "question": questions}


def merge_keys(data: dict, keys: object, source: str = "<keys>") -> dict:
    """The bank ``data`` (parsed TOML) with the answer keys ``keys`` (parsed keys TOML) written into its questions.

    Checks that the keys belong to this bank (same ``[meta] id``), name only
    its questions and options, hold only key fields, and do not repeat a field
    the bank already gives.

    >>> bank = {"question": [{"id": "q", "kind": "truefalse", "text_ru": "т", "text_en": "t"}]}
    >>> merge_keys(bank, {"question": [{"id": "q", "correct": True}]})["question"][0]["correct"]
    True
    """
    if not isinstance(keys, dict) or not isinstance(keys.get("question", []), list):
        raise CourseError(f"{source}: an answer keys file is a table with [[question]] entries")
    bank_id = data.get("meta", {}).get("id") if isinstance(data.get("meta"), dict) else None
    keys_id = keys.get("meta", {}).get("id") if isinstance(keys.get("meta"), dict) else None
    if bank_id is not None and keys_id is not None and bank_id != keys_id:
        raise CourseError(f"{source}: these are the keys of bank {keys_id!r}, not of {bank_id!r}")
    questions = [dict(q) if isinstance(q, dict) else q for q in data["question"]]
    by_id = {q.get("id"): q for q in questions if isinstance(q, dict)}
    for i, entry in enumerate(keys.get("question", [])):
        qid = entry.get("id") if isinstance(entry, dict) else None
        if qid not in by_id:
            raise CourseError(f"{source}: key #{i + 1} is for question {qid!r}, which is not in the bank")
        where = f"{source}: question {qid!r}"
        unknown = set(entry) - {"id", "options", *KEY_FIELDS}
        if unknown:
            raise CourseError(
                f"{where}: not a key field: {sorted(unknown)} (keys hold {', '.join(KEY_FIELDS)}, "
                "and options' why_ru/why_en)"
            )
        target = by_id[qid]
        for k in KEY_FIELDS:
            if k in entry:
                if k in target:
                    raise CourseError(f"{where}: {k!r} is given both in the bank and in the keys file")
                target[k] = entry[k]
        opts = entry.get("options", [])
        if not isinstance(opts, list) or not all(isinstance(o, dict) for o in opts):
            raise CourseError(f"{where}: options of a key are [[question.options]] tables with letter, why_ru, why_en")
        if opts:
            target["options"] = _merge_option_keys(target.get("options"), opts, where)
    return {**data, "question": questions}


def _merge_option_keys(options, keyed: list, where: str) -> list:
    if not isinstance(options, list):
        raise CourseError(f"{where}: the keys explain options, but the question has none")
    options = [dict(o) if isinstance(o, dict) else o for o in options]
    by_letter = {o.get("letter"): o for o in options if isinstance(o, dict)}
    for entry in keyed:
        letter = entry.get("letter")
        if letter not in by_letter:
            raise CourseError(f"{where}: the keys explain option {letter!r}, which the question does not have")
        unknown = set(entry) - {"letter", *OPTION_KEY_FIELDS}
        if unknown:
            raise CourseError(f"{where}: option {letter}: not a key field: {sorted(unknown)}")
        for k in OPTION_KEY_FIELDS:
            if k in entry:
                if k in by_letter[letter]:
                    raise CourseError(f"{where}: option {letter} {k!r} is given both in the bank and in the keys file")
                by_letter[letter][k] = entry[k]
    return options
