"""Where grades come from — the public names of :mod:`autograder.readers`, under their older module name.

The readers live in :mod:`autograder.readers`, one module per source
(attempts model, timestamps, text tables, grade CSV, nbgrader gradebook,
responses, Moodle). This module keeps ``from autograder.sources import …``
working for scripts and notebooks written against it.
"""

from __future__ import annotations

from .readers import *  # noqa: F403 -- a façade: exactly the public names of autograder.readers
from .readers import __all__  # noqa: F401 -- re-exported: `from autograder.sources import *` gives the same names
