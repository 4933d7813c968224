"""The question bank: load a TOML file, validate it, and hand out typed questions.

File format (``bank_quiz7.toml`` next to this module is the course's bank)::

    [meta]
    id = "quiz7"
    title_ru = "..."            # optional
    title_en = "..."

    [[question]]
    id = "t3_backdoor_smallest"  # ASCII, unique: also the nbgrader grade id
    kind = "single"              # truefalse | single | multiple | numeric
    topics = ["T3", "L7"]        # items of the course material it covers
    text_ru = "..."
    text_en = "..."
    points = 1
    partial = "all_or_nothing"   # or "proportional" (multiple only)
    tolerance = 0.01             # numeric only: absolute tolerance
    dag = "dag { ... }"          # optional: the DAG of a backdoor question (DAGitty)
    exposure = "X"               # with dag
    outcome = "Y"
      [[question.options]]
      letter = "А"               # Cyrillic А Б В Г Д Е Ж, in this order
      ru = "{B}"
      en = "{B}"
      nodes = ["B"]              # optional: the vertex set an option stands for

Answer keys (what gives an answer away) live apart from the questions, in a
keys file merged by id; its format and where it is found: :mod:`course.quiz.keys`.

Whatever scores, exports or writes solutions asks for the keys explicitly
(``load_bank(keys=True)``, :meth:`Bank.require_keys`, or
:func:`~course.quiz.scoring.score_answer` on a question without a key) and
gets a :class:`~course.errors.CourseError` saying the keys are not available
here, never a silent score of 0.

Partial-credit policies
-----------------------
``all_or_nothing``
    Full points for exactly the correct answer, nothing otherwise.
``proportional`` (multiple choice)
    Moodle's rule for multiple-answer questions: each chosen correct option
    earns 1/|C| of the points, each chosen wrong option costs 1/|W|, and the
    total is floored at zero (|C|, |W| = numbers of correct and of wrong
    options; with no wrong option nothing is deducted). Choosing every option
    therefore scores 0. The Moodle export carries the same weights as each
    answer's ``fraction`` (+100/|C| %, −100/|W| %), so Moodle scores alike.

Every problem is reported as a :class:`~course.errors.CourseError` that names
the question and the field.

>>> load_bank().has_keys, load_bank(keys=False)["t3_mdl"].correct is None
(True, True)

Examples in the docstrings use :func:`example_bank`, never the course's keys
(the source code is readable wherever the package is installed).

One module (~460 lines, kept whole; the keys went to :mod:`course.quiz.keys`): the model, the TOML
reader and the field-by-field checks all name the same fields of one file format, so a new field or
question kind is one edit in one place (the checks start at :func:`parse_bank`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from course.errors import CourseError
from course.localized import EMPTY, Localized
from course.quiz.keys import (
    COURSE_KEYS,
    KEYS_ENV,
    NO_KEYS,
    keys_path,
    keys_unavailable,
    merge_keys,
    without_keys,
)
from course.quiz.normalize import LETTERS, LOOKALIKES

__all__ = [
    "KINDS",
    "POLICIES",
    "KEYS_ENV",
    "COURSE_KEYS",
    "NO_KEYS",
    "Option",
    "Question",
    "Bank",
    "load_bank",
    "parse_bank",
    "default_bank_path",
    "default_keys_path",
    "merge_keys",
    "example_bank",
]

KINDS = ("truefalse", "single", "multiple", "numeric")
POLICIES = ("all_or_nothing", "proportional")

Answer = bool | float | frozenset


@dataclass(frozen=True)
class Option:
    """One lettered option of a choice question: its label ``text`` and, for a wrong option, ``why``.

    ``why`` says why choosing the option is a mistake (shown only to a student who chose it wrongly).

    >>> o = example_bank()["ex_sets"].option("В")
    >>> o.text("en"), o.why
    ('{B, D}', Localized(ru='', en=''))
    """

    letter: str
    text: Localized
    nodes: frozenset[str] | None = None
    why: Localized = EMPTY


@dataclass(frozen=True)
class Question:
    """One validated question; ``correct`` is a bool, a float or a frozenset of letters (None without keys)."""

    id: str
    kind: str
    text: Localized
    correct: Answer | None
    points: float = 1.0
    options: tuple[Option, ...] = ()
    partial: str = "all_or_nothing"
    tolerance: float = 0.0
    #: the usual mistake, shown after a wrong answer
    mistake: Localized = EMPTY
    topics: tuple[str, ...] = ()
    dag: str | None = None
    exposure: str | None = None
    outcome: str | None = None

    @property
    def has_key(self) -> bool:
        """Whether the correct answer is known (the bank was loaded with its keys)."""
        return self.correct is not None

    @property
    def letters(self) -> str:
        """The option letters in order, e.g. "АБВГ"."""
        return "".join(o.letter for o in self.options)

    def option(self, letter: str) -> Option:
        for o in self.options:
            if o.letter == letter:
                return o
        raise CourseError(f"question {self.id!r} has no option {letter!r}")


@dataclass(frozen=True)
class Bank:
    """An ordered, validated collection of questions, indexed by id."""

    id: str
    questions: tuple[Question, ...]
    title: Localized = EMPTY
    has_keys: bool = True
    keys_note: str = ""  # where the keys were looked for, when they are missing
    _by_id: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self._by_id.update({q.id: q for q in self.questions})

    def __getitem__(self, qid: str) -> Question:
        try:
            return self._by_id[qid]
        except KeyError:
            raise CourseError(f"bank {self.id!r} has no question {qid!r}") from None

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def total_points(self) -> float:
        return float(sum(q.points for q in self.questions))

    def require_keys(self, purpose: str = "scoring") -> Bank:
        """This bank, or a CourseError saying that its answer keys were not loaded (``purpose`` names the need)."""
        if not self.has_keys:
            raise CourseError(
                f"{NO_KEYS}: {purpose} quiz {self.id!r} needs its answer keys, and "
                f"{self.keys_note or 'the bank was loaded without them'}"
            )
        return self


def default_bank_path() -> Path:
    """Path of the course's bank, ``course/quiz/bank_quiz7.toml``."""
    return Path(str(resources.files("course.quiz").joinpath("bank_quiz7.toml")))


def example_bank() -> Bank:
    """A two-question bank with its keys, for examples and doctests (not the course's questions).

    ``ex_tf``: true/false, key true. ``ex_sets``: multiple choice А–Г,
    proportional credit, key {В, Г}.

    >>> sorted(example_bank()["ex_sets"].correct)
    ['В', 'Г']
    """
    options = [
        {"letter": letter, "ru": text, "en": text} for letter, text in zip("АБВГ", ("{A}", "{D}", "{B, D}", "{C, D}"))
    ]
    return parse_bank(
        {
            "meta": {"id": "example"},
            "question": [
                {
                    "id": "ex_tf",
                    "kind": "truefalse",
                    "text_ru": "2 + 2 = 4",
                    "text_en": "2 + 2 = 4",
                    "correct": True,
                    "mistake_ru": "Сложите ещё раз.",
                    "mistake_en": "Add again.",
                },
                {
                    "id": "ex_sets",
                    "kind": "multiple",
                    "partial": "proportional",
                    "text_ru": "Наименьшие множества?",
                    "text_en": "The smallest sets?",
                    "correct": ["В", "Г"],
                    "options": options,
                    "mistake_ru": "Нужны обе вершины.",
                    "mistake_en": "Both vertices are needed.",
                },
            ],
        },
        source="example",
    )


def _read_toml(path: Path, what: str) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise CourseError(f"{what} {path} cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise CourseError(f"{what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{what} {path} is not valid TOML: {exc}") from None


def default_keys_path(bank_path: str | Path | None = None) -> Path | None:
    """Where the keys of a bank file are looked for (:func:`course.quiz.keys.keys_path`); None when nowhere.

    >>> default_keys_path().name if not os.environ.get(KEYS_ENV) else "keys_quiz7.toml"
    'keys_quiz7.toml'
    """
    bank_path = Path(bank_path) if bank_path is not None else default_bank_path()
    return keys_path(bank_path, course_bank=os.path.realpath(bank_path) == os.path.realpath(default_bank_path()))


def load_bank(path: str | Path | None = None, *, keys: bool | None = None, keys_path: str | Path | None = None) -> Bank:
    """Load and validate a bank from a TOML file (default: the course's quiz 7 bank), with its answer keys.

    Parameters
    ----------
    path : the bank file (default :func:`default_bank_path`)
    keys : None (default) merges the keys file when it is there and readable
        (``Bank.has_keys`` tells); True requires it (CourseError "answer keys
        are not available here" otherwise); False never reads it and drops
        any inline keys (questions then have ``correct = None``).
    keys_path : the keys file (default :func:`default_keys_path` of ``path``)

    Raises
    ------
    CourseError
        A missing bank file, TOML syntax error, keys that do not match the
        bank, or any validation problem of the merged bank (see
        :func:`parse_bank`).

    >>> bank = load_bank()
    >>> len(bank) >= 15, bank.has_keys, bank["t3_backdoor_smallest_sets"].has_key
    (True, True, True)
    >>> load_bank(keys=False).has_keys
    False
    """
    path = Path(path) if path is not None else default_bank_path()
    data = _read_toml(path, "question bank")
    if not isinstance(data.get("question"), list):  # tomllib gives a dict
        return parse_bank(data, source=str(path))  # reports the shape problem
    inline = any(isinstance(q, dict) and "correct" in q for q in data["question"])
    if keys is False:
        return parse_bank(
            without_keys(data), source=str(path), require_keys=False, keys_note="the bank was loaded with keys=False"
        )
    kpath = Path(keys_path) if keys_path is not None else default_keys_path(path)
    if kpath is None:
        note = f"{KEYS_ENV} is not set and there is no nbgrader course directory here (no {COURSE_KEYS})"
    else:
        unavailable = keys_unavailable(kpath)
        if unavailable is None:
            data = merge_keys(data, _read_toml(kpath, "answer keys file"), source=str(kpath))
            return parse_bank(data, source=str(path))
        note = unavailable
    if inline:  # a bank with its keys written in (e.g. a small test bank)
        return parse_bank(data, source=str(path))
    if keys:
        raise CourseError(
            f"{NO_KEYS}: {note}; point {KEYS_ENV} at the instructor's keys file, or work in the "
            f"nbgrader course directory (its {COURSE_KEYS}), to score, export or write solutions"
        )
    return parse_bank(data, source=str(path), require_keys=False, keys_note=note)


def parse_bank(data: dict, source: str = "<bank>", *, require_keys: bool = True, keys_note: str = "") -> Bank:
    """Validate a bank given as a dict (the parsed TOML) and build a :class:`Bank`.

    Checks: known kind and policy, unique ASCII ids, texts in both languages,
    options lettered А, Б, В, ... in order with both texts, at least one correct
    answer and every correct letter an option, positive points, a finite
    non-negative tolerance for numeric questions. With ``require_keys=False``
    (a bank loaded without its keys) a question may lack ``correct``; the
    bank then has ``has_keys = False`` and ``keys_note`` says why.

    >>> parse_bank({"question": [{"id": "q", "kind": "truefalse", "text_ru": "т",
    ...                           "text_en": "t", "correct": True}]}).total_points
    1.0
    """
    if not isinstance(data, dict):
        raise CourseError(f"{source}: a bank is a table with [[question]] entries, got {type(data).__name__}")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise CourseError(f"{source}: [meta] must be a table")
    raw = data.get("question")
    if not isinstance(raw, list) or not raw:
        raise CourseError(f"{source}: no [[question]] entries")
    seen: set[str] = set()
    questions = []
    for i, entry in enumerate(raw):
        q = _parse_question(entry, f"{source}: question #{i + 1}", require_keys)
        if q.id in seen:
            raise CourseError(f"{source}: duplicate question id {q.id!r}")
        seen.add(q.id)
        questions.append(q)
    return Bank(
        id=str(meta.get("id", Path(source).stem)),
        questions=tuple(questions),
        title=Localized(str(meta.get("title_ru", "")), str(meta.get("title_en", ""))),
        has_keys=all(q.has_key for q in questions),
        keys_note=keys_note,
    )


_KNOWN_FIELDS = {
    "id",
    "kind",
    "topics",
    "text_ru",
    "text_en",
    "points",
    "partial",
    "correct",
    "tolerance",
    "mistake_ru",
    "mistake_en",
    "dag",
    "exposure",
    "outcome",
    "options",
}


def _parse_question(entry: dict, where: str, require_keys: bool = True) -> Question:
    if not isinstance(entry, dict):
        raise CourseError(f"{where}: a question is a [[question]] table, got {type(entry).__name__} {entry!r:.40}")
    qid = entry.get("id")
    if not isinstance(qid, str) or not qid:
        raise CourseError(f"{where}: missing 'id'")
    if not (qid.isascii() and qid.replace("_", "").isalnum() and qid[0].isalpha()):
        raise CourseError(f"question {qid!r}: id must be ASCII letters, digits and '_' (it is the grade id)")
    where = f"question {qid!r}"
    unknown = set(entry) - _KNOWN_FIELDS
    if unknown:
        raise CourseError(f"{where}: unknown field(s) {sorted(unknown)}")
    kind = entry.get("kind")
    if kind is None:
        raise CourseError(f"{where}: missing 'kind'; use one of {', '.join(KINDS)}")
    if kind not in KINDS:
        raise CourseError(f"{where}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    for key in ("text_ru", "text_en"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise CourseError(f"{where}: missing {key!r}")
    points = entry.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
        raise CourseError(f"{where}: points must be a positive number, got {points!r}")
    partial = entry.get("partial", "all_or_nothing")
    if partial not in POLICIES:
        raise CourseError(f"{where}: unknown partial-credit policy {partial!r}; use one of {', '.join(POLICIES)}")
    if partial == "proportional" and kind != "multiple":
        raise CourseError(f"{where}: partial = 'proportional' only applies to multiple-choice questions")
    if "correct" not in entry and require_keys:
        raise CourseError(f"{where}: no correct answer ('correct' is missing in the bank and its keys file)")
    options = _parse_options(entry.get("options", []), kind, where)
    correct, tolerance = _parse_correct(entry, kind, options, where)
    if entry.get("dag") is not None and not (entry.get("exposure") and entry.get("outcome")):
        raise CourseError(f"{where}: a question with a 'dag' needs 'exposure' and 'outcome'")
    _check_dag(entry, where)
    topics = entry.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise CourseError(f'{where}: topics must be a list of item ids such as ["T3", "L7"], got {topics!r}')
    for key in ("mistake_ru", "mistake_en"):
        if not isinstance(entry.get(key, ""), str):
            raise CourseError(f"{where}: {key!r} must be text")
    return Question(
        id=qid,
        kind=kind,
        text=_localized(entry, "text_ru", "text_en"),
        correct=correct,
        points=float(points),
        options=options,
        partial=partial,
        tolerance=tolerance,
        mistake=_localized(entry, "mistake_ru", "mistake_en"),
        topics=tuple(topics),
        dag=entry.get("dag"),
        exposure=entry.get("exposure"),
        outcome=entry.get("outcome"),
    )


def _localized(entry: dict, ru: str, en: str) -> Localized:
    """The (checked) text fields ``ru`` and ``en`` of a bank table, stripped; a missing one is empty."""
    return Localized(str(entry.get(ru, "")), str(entry.get(en, ""))).strip()


def _check_dag(entry: dict, where: str) -> None:
    """The DAG of a backdoor question must parse, and its exposure and outcome must be vertices of it."""
    if entry.get("dag") is None:
        return
    if not all(isinstance(entry.get(k), str) for k in ("dag", "exposure", "outcome")):
        raise CourseError(f"{where}: 'dag', 'exposure' and 'outcome' must be text")
    from course.causal.graphs import parse_dag

    try:
        G = parse_dag(entry["dag"])
    except CourseError as exc:
        raise CourseError(f"{where}: 'dag': {exc}") from None
    for key in ("exposure", "outcome"):
        if entry[key] not in G:
            raise CourseError(f"{where}: {key} {entry[key]!r} is not a vertex of the 'dag'")


def _parse_options(raw: object, kind: str, where: str) -> tuple[Option, ...]:
    if kind in ("truefalse", "numeric"):
        if raw:
            raise CourseError(f"{where}: a {kind} question has no options")
        return ()
    if not isinstance(raw, list) or len(raw) < 2:
        raise CourseError(f"{where}: a {kind} question needs at least two options ([[question.options]] tables)")
    for opt in raw:
        if not isinstance(opt, dict):
            raise CourseError(
                f"{where}: an option is a [[question.options]] table with letter, ru and en, "
                f"got {type(opt).__name__} {opt!r:.40}"
            )
    if len(raw) > len(LETTERS):
        raise CourseError(f"{where}: at most {len(LETTERS)} options ({', '.join(LETTERS)})")
    options = []
    for expected, opt in zip(LETTERS, raw):
        letter = opt.get("letter")
        if not isinstance(letter, str):
            raise CourseError(f"{where}: option letter must be text such as {expected!r}, got {letter!r}")
        if letter != expected:
            hint = " (a Latin/Greek look-alike; use the Cyrillic letter)" if LOOKALIKES.get(letter) == expected else ""
            raise CourseError(
                f"{where}: option {letter!r} should be {expected!r}{hint}; "
                f"options are lettered {', '.join(LETTERS)} in order"
            )
        for key in ("ru", "en"):
            if not isinstance(opt.get(key), str) or not opt[key].strip():
                raise CourseError(f"{where}: option {letter} has no {key!r} text")
        unknown = set(opt) - {"letter", "ru", "en", "nodes", "why_ru", "why_en"}
        if unknown:
            raise CourseError(f"{where}: option {letter} has unknown field(s) {sorted(unknown)}")
        nodes = opt.get("nodes")
        if nodes is not None and (not isinstance(nodes, list) or not all(isinstance(v, str) for v in nodes)):
            raise CourseError(f"{where}: option {letter} has nodes = {nodes!r}; give a list of vertex names")
        for key in ("why_ru", "why_en"):
            if not isinstance(opt.get(key, ""), str):
                raise CourseError(f"{where}: option {letter} field {key!r} must be text")
        options.append(
            Option(
                letter,
                _localized(opt, "ru", "en"),
                frozenset(nodes) if nodes is not None else None,
                _localized(opt, "why_ru", "why_en"),
            )
        )
    return tuple(options)


def _parse_correct(entry: dict, kind: str, options: tuple[Option, ...], where: str):
    correct = entry.get("correct")
    tolerance = entry.get("tolerance", 0.0)
    if kind != "numeric" and "tolerance" in entry:
        raise CourseError(f"{where}: 'tolerance' only applies to numeric questions")
    if kind == "numeric" and (
        isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < float("inf")
    ):
        raise CourseError(f"{where}: tolerance must be a finite number >= 0, got {tolerance!r}")
    if "correct" not in entry:  # loaded without keys
        return None, float(tolerance)
    if kind == "truefalse":
        if not isinstance(correct, bool):
            raise CourseError(f"{where}: correct must be true or false, got {correct!r}")
        return correct, 0.0
    if kind == "numeric":
        if isinstance(correct, bool) or not isinstance(correct, (int, float)):
            raise CourseError(f"{where}: correct must be a number, got {correct!r}")
        return float(correct), float(tolerance)
    letters = [correct] if isinstance(correct, str) else correct
    if not isinstance(letters, list) or not letters:
        raise CourseError(f"{where}: no correct answer (correct = {correct!r})")
    if not all(isinstance(letter, str) for letter in letters):
        raise CourseError(f"{where}: correct must list option letters as text, got {correct!r}")
    known = {o.letter for o in options}
    for letter in letters:
        if letter not in known:
            hint = " (a Latin/Greek look-alike; use the Cyrillic letter)" if LOOKALIKES.get(letter) in known else ""
            raise CourseError(
                f"{where}: correct answer {letter!r} is not an option{hint}; "
                f"options are {', '.join(sorted(known, key=LETTERS.index))}"
            )
    if len(set(letters)) != len(letters):
        raise CourseError(f"{where}: correct answer lists a letter twice: {letters}")
    if kind == "single" and len(letters) != 1:
        raise CourseError(f"{where}: a single-choice question has exactly one correct answer, got {letters}")
    return frozenset(letters), 0.0
