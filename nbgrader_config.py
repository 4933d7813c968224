"""nbgrader configuration of the xai-course: this repository is the nbgrader course.

nbgrader reads this file from the working directory, from the course root, or
from a directory on JUPYTER_CONFIG_PATH; `course.nbgrader_setup` sets that up
so that commands work from any directory (`python -m course.nbgrader_setup
generate_assignment lrp_rules`). The course root is the directory holding this
file, so a copy of the course (this file + exercises/) is a course of its own.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "xai-course"
# The instructor's versions of the assignments (solutions + hidden tests).
c.CourseDirectory.source_directory = "exercises"
# keys_*.toml: the quiz's answer keys live beside its source (exercises/quiz7/) and are never released
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "keys_*.toml"]

# Released notebooks: the solution region becomes a stub that fails loudly.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell wall-clock limit while autograding (the quiz and exercises run in seconds).
c.Execute.timeout = 60
c.ExecutePreprocessor.timeout = 60
c.Execute.interrupt_on_timeout = True

# A correct answer must not score zero because a library printed a warning on
# stderr: drop stderr outputs that are standard Python warnings
# ("file.py:12: UserWarning: ...") before grades are computed.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^[^\n]*:\d+: \w*Warning: "

# A student who deletes a test cell gets it back (and is graded on it).
c.OverwriteCells.add_missing_cells = True
