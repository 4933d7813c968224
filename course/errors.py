"""The one exception family of the project: errors a user can act on."""


class CourseError(ValueError):
    """Bad input or a refused operation, with a message that says what to fix.

    Subclasses ``ValueError`` so that ``except ValueError`` also catches it.
    """
