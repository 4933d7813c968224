"""The course's grading specs, one module per nbgrader assignment under ``exercises/``, each defining ``SPEC``.

Keys come from the course's engines (``course.relevance``, ``course.causal``,
``course.quiz``), never from a student's kernel; see
:mod:`autograder.grading.model` for the format and
:func:`autograder.grading.loaders.load_assignment` for how one is found.
"""
