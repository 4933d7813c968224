"""A text in the course's two languages: Russian first (the course's language), English second.

One small immutable value replaces paired ``*_ru`` / ``*_en`` fields wherever the
course carries a text in both languages (a question, an option, a usual mistake,
a bank's title, a generated backdoor question).

>>> t = Localized("Верно", "True")
>>> t("en"), t.get("ru"), str(t), t()
('True', 'Верно', 'Верно', 'Верно')
"""

from __future__ import annotations

from dataclasses import dataclass

from course.errors import CourseError

__all__ = ["LANGS", "Localized", "EMPTY", "check_lang"]

#: the course's languages, in the course's order
LANGS = ("ru", "en")


def check_lang(lang: object) -> str:
    """``lang`` when it is one of the course's languages (:data:`LANGS`), else a CourseError naming them.

    >>> check_lang("en")
    'en'
    """
    if lang not in LANGS:
        raise CourseError(f"unknown language {lang!r}; the course's languages are 'ru' and 'en'")
    return str(lang)


@dataclass(frozen=True, slots=True)
class Localized:
    """A text in Russian (``ru``) and English (``en``); calling it with a language gives that text.

    ``str()`` is the Russian text; an unknown language is a :class:`~course.errors.CourseError`.

    >>> Localized("{B}", "{B}") == Localized.same("{B}")
    True
    >>> Localized("да", "yes")("de")
    Traceback (most recent call last):
    ...
    course.errors.CourseError: unknown language 'de'; the course's languages are 'ru' and 'en'
    """

    ru: str
    en: str

    def __post_init__(self) -> None:
        for lang in LANGS:
            value = getattr(self, lang)
            if not isinstance(value, str):
                raise CourseError(f"a localized text's {lang!r} part must be text, got {type(value).__name__}")

    @classmethod
    def same(cls, text: str) -> Localized:
        """One text for both languages (e.g. a vertex set such as ``{A, C}``)."""
        return cls(text, text)

    def get(self, lang: str = "ru") -> str:
        """The text in ``lang`` ("ru" or "en")."""
        return self.ru if check_lang(lang) == "ru" else self.en

    def __call__(self, lang: str = "ru") -> str:
        return self.get(lang)

    def __str__(self) -> str:
        return self.ru

    def __bool__(self) -> bool:
        """False only when both texts are empty (no usual mistake, no reason given)."""
        return bool(self.ru or self.en)

    def strip(self) -> Localized:
        """Both texts without leading and trailing white space."""
        return Localized(self.ru.strip(), self.en.strip())

    def format(self, *args: object, **kwargs: object) -> Localized:
        """Both texts as templates filled by :meth:`str.format` with the same values.

        >>> Localized("{n} вершин(ы)", "{n} vertices").format(n=3)("en")
        '3 vertices'
        """
        return Localized(self.ru.format(*args, **kwargs), self.en.format(*args, **kwargs))

    def __add__(self, other: Localized) -> Localized:
        """The two texts joined language by language: ``Localized("а", "a") + Localized("б", "b")``."""
        if not isinstance(other, Localized):
            return NotImplemented
        return Localized(self.ru + other.ru, self.en + other.en)


#: the empty text (a question without a usual mistake, an option without a reason)
EMPTY = Localized("", "")
