"""Export a question bank to Moodle XML and GIFT, so an instructor can move the quiz into Moodle.

Both formats are Moodle's own import formats (Moodle docs: "Moodle XML format",
"GIFT format"). The mapping:

==============  =========================  ===========================================
bank kind       Moodle XML                  GIFT
==============  =========================  ===========================================
truefalse       ``truefalse``               ``{TRUE}`` / ``{FALSE}``
single          ``multichoice``, single     ``{=right ~wrong ...}``
multiple        ``multichoice``, multiple   ``{~%50%right ~%-20%wrong ...}``
numeric         ``numerical`` + tolerance   ``{#value:tolerance}``
==============  =========================  ===========================================

Scores carry over: a ``proportional`` multiple-choice question gives each
correct option +100/|C| % and each wrong one −100/|W| % (|C|, |W|: numbers of
correct and wrong options) as the answer's ``fraction``, which is exactly the
bank's policy (Moodle floors the total at zero too, so ticking every option
scores 0 in both). Moodle's standard
multichoice has no all-or-nothing mode; an ``all_or_nothing`` multiple-choice
question is exported with the same weights and its wrong options at −100 %, so
any wrong pick scores zero but an incomplete right answer earns partial credit
in Moodle — the exporter says so in the question's general feedback.

Option letters are part of the option text ("В) {B, D}") and Moodle's own
numbering is switched off, since Moodle cannot number with Cyrillic letters.
The DAG of a backdoor question is drawn (:mod:`course.quiz.figures`) and the
PNG embedded in the Moodle XML question text (a ``<file encoding="base64">``
referenced as ``@@PLUGINFILE@@/<id>.png``, Moodle's own way of carrying
images); it is also given in DAGitty syntax (paste it into dagitty.net), which
is all GIFT can carry. ``lang`` is "ru", "en" or "multilang" (both, in
Moodle's multilang filter spans).

>>> from course.quiz.bank import load_bank
>>> xml = to_moodle_xml(load_bank())
>>> xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
True
"""

from __future__ import annotations

import base64
import html
import xml.etree.ElementTree as ET
from pathlib import Path

from course.errors import CourseError
from course.localized import Localized
from course.quiz.bank import Bank, Question

__all__ = ["to_moodle_xml", "to_gift", "write_export", "option_fractions", "image_name"]

_LANGS = ("ru", "en", "multilang")


def _check_lang(lang: str) -> None:
    if lang not in _LANGS:
        raise CourseError(f"unknown export language {lang!r}; use one of {', '.join(_LANGS)}")


def _pick(text: Localized, lang: str) -> str:
    if lang == "multilang":
        return (
            f'<span lang="ru" class="multilang">{html.escape(text.ru)}</span>'
            f'<span lang="en" class="multilang">{html.escape(text.en)}</span>'
        )
    return html.escape(text(lang))


def option_fractions(q: Question) -> dict[str, float]:
    """Moodle answer fractions (percent) per option letter, matching the bank's policy.

    >>> from course.quiz.bank import example_bank
    >>> option_fractions(example_bank()["ex_sets"])["В"]
    50.0
    """
    key = q.correct
    if q.kind == "single":
        return {o.letter: 100.0 if o.letter in key else 0.0 for o in q.options}
    share = 100.0 / len(key)
    n_wrong = len(q.options) - len(key)
    wrong = -100.0 / n_wrong if q.partial == "proportional" and n_wrong else -100.0
    return {o.letter: share if o.letter in key else wrong for o in q.options}


def _fraction_text(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")  # Moodle writes e.g. 33.33333


def image_name(q: Question) -> str:
    """File name of the drawing of ``q``'s DAG inside the Moodle XML question."""
    return f"{q.id}.png"


def _question_html(q: Question, lang: str) -> str:
    body = f"<p>{_pick(q.text, lang)}</p>"
    if q.dag:
        alt = html.escape(f"DAG: {q.exposure} → {q.outcome}; {q.dag}", quote=True)
        body += f'<p><img src="@@PLUGINFILE@@/{image_name(q)}" alt="{alt}"></p>'
        body += f"<pre>{html.escape(q.dag)}</pre>"
    return body


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = value
    return el


def _moodle_question(quiz: ET.Element, q: Question, lang: str) -> None:
    qtype = {"truefalse": "truefalse", "single": "multichoice", "multiple": "multichoice", "numeric": "numerical"}[
        q.kind
    ]
    el = ET.SubElement(quiz, "question", {"type": qtype})
    name = ET.SubElement(el, "name")
    ET.SubElement(name, "text").text = q.id
    text = _text(el, "questiontext", _question_html(q, lang))
    if q.dag:
        from course.quiz.figures import question_image

        image = ET.SubElement(text, "file", {"name": image_name(q), "path": "/", "encoding": "base64"})
        image.text = base64.b64encode(question_image(q, "png")).decode("ascii")
    general = _pick(q.mistake, lang)
    if q.kind == "multiple" and q.partial == "all_or_nothing":
        general += " (Moodle: partial credit for an incomplete answer; the course grades it all-or-nothing.)"
    _text(el, "generalfeedback", general)
    ET.SubElement(el, "defaultgrade").text = _fraction_text(q.points)
    ET.SubElement(el, "penalty").text = "0"
    ET.SubElement(el, "hidden").text = "0"
    ET.SubElement(el, "idnumber").text = q.id
    if q.kind == "truefalse":
        for value in (True, False):
            ans = _text(el, "answer", "true" if value else "false", "moodle_auto_format")
            ans.set("fraction", "100" if value == q.correct else "0")
            ans.append(_feedback_el(""))
    elif q.kind == "numeric":
        ans = _text(el, "answer", repr(float(q.correct)), "moodle_auto_format")
        ans.set("fraction", "100")
        ET.SubElement(ans, "tolerance").text = repr(float(q.tolerance))
        ans.append(_feedback_el(""))
    else:
        ET.SubElement(el, "single").text = "true" if q.kind == "single" else "false"
        ET.SubElement(el, "shuffleanswers").text = "0"
        ET.SubElement(el, "answernumbering").text = "none"
        fractions = option_fractions(q)
        for o in q.options:
            ans = _text(el, "answer", f"{o.letter}) {_pick(o.text, lang)}")
            ans.set("fraction", _fraction_text(fractions[o.letter]))
            ans.append(_feedback_el(""))


def _feedback_el(text: str) -> ET.Element:
    fb = ET.Element("feedback", {"format": "html"})
    ET.SubElement(fb, "text").text = text
    return fb


def to_moodle_xml(bank: Bank, lang: str = "ru") -> str:
    """The bank as a Moodle XML question file (a category named after the bank, then every question).

    Parameters
    ----------
    bank : Bank
    lang : "ru", "en" or "multilang"

    Returns
    -------
    str
        UTF-8 XML text, importable in Moodle's question bank ("Moodle XML format").
    """
    _check_lang(lang)
    bank.require_keys("exporting")
    quiz = ET.Element("quiz")
    cat = ET.SubElement(quiz, "question", {"type": "category"})
    category = ET.SubElement(cat, "category")
    ET.SubElement(category, "text").text = f"$course$/top/{bank.id}"
    for q in bank:
        _moodle_question(quiz, q, lang)
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"


_GIFT_SPECIAL = "\\~=#{}:"


def gift_escape(text: str) -> str:
    r"""Escape GIFT's special characters ``~ = # { } :`` (and the backslash) and fold newlines.

    >>> gift_escape("{B, D}: x=1")
    '\\{B, D\\}\\: x\\=1'
    """
    out = "".join("\\" + c if c in _GIFT_SPECIAL else c for c in text)
    return out.replace("\n", "\\n")


def _gift_text(text: Localized, lang: str) -> str:
    if lang == "multilang":
        return gift_escape(f"{text.ru} / {text.en}")
    return gift_escape(text(lang))


def _gift_number(x: float) -> str:
    return repr(float(x))


def to_gift(bank: Bank, lang: str = "ru") -> str:
    """The bank in Moodle's GIFT text format (one question per paragraph, ``::id::`` titles).

    Feedback on the whole question (the usual mistake) goes in GIFT's general
    feedback ``####``; the DAG of a backdoor question is appended to the text.
    ``lang`` "multilang" writes "ru / en" since GIFT has no language markup.

    >>> from course.quiz.bank import example_bank
    >>> gift = to_gift(example_bank(), lang="en")
    >>> "::ex_tf::" in gift, "{TRUE####" in gift
    (True, True)
    """
    _check_lang(lang)
    bank.require_keys("exporting")
    parts = [f"// {bank.id}: exported from the xai-course question bank", f"$CATEGORY: $course$/top/{bank.id}", ""]
    for q in bank:
        text = _gift_text(q.text, lang)
        if q.dag:
            text += gift_escape(" (DAG, dagitty.net: " + q.dag + ")")
        general = "####" + _gift_text(q.mistake, lang)
        if q.kind == "truefalse":
            answer = "{" + ("TRUE" if q.correct else "FALSE") + general + "}"
        elif q.kind == "numeric":
            answer = "{#" + f"{_gift_number(q.correct)}:{_gift_number(q.tolerance)}" + general + "}"
        else:
            fractions = option_fractions(q)
            lines = []
            for o in q.options:
                label = gift_escape(f"{o.letter}) ") + _gift_text(o.text, lang)
                f = fractions[o.letter]
                if q.kind == "single":
                    lines.append(("=" if f == 100 else "~") + label)
                else:
                    lines.append(f"~%{_fraction_text(f)}%{label}")
            answer = "{\n" + "\n".join("\t" + line for line in lines) + "\n\t" + general + "\n}"
        parts.append(f"::{q.id}:: {text} {answer}")
        parts.append("")
    return "\n".join(parts)


def write_export(bank: Bank, out_dir: str | Path, lang: str = "ru", *, force: bool = False) -> dict[str, Path]:
    """Write ``<bank id>.xml`` (Moodle XML) and ``<bank id>.gift.txt`` into ``out_dir``; return the paths.

    Existing files are replaced only with ``force=True``. Both texts are built
    before anything is written, and each file is written under a temporary
    name and renamed into place, so a failure leaves no half-written file.

    >>> import tempfile
    >>> from course.quiz.bank import load_bank
    >>> sorted(p.name for p in write_export(load_bank(), tempfile.mkdtemp()).values())
    ['quiz7.gift.txt', 'quiz7.xml']
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CourseError(f"{out}: exists and is not a directory")
    paths = {"moodle_xml": out / f"{bank.id}.xml", "gift": out / f"{bank.id}.gift.txt"}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not force:
        raise CourseError(f"{', '.join(existing)} already exist(s); pass force=True to replace them")
    texts = {"moodle_xml": to_moodle_xml(bank, lang), "gift": to_gift(bank, lang)}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for kind, path in paths.items():
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(texts[kind], encoding="utf-8")
            tmp.replace(path)
    except OSError as exc:
        raise CourseError(f"{out}: cannot write the export ({exc.strerror})") from None
    return paths
