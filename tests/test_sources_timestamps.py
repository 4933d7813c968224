"""The grader's one timestamp parser: the grade files' formats, and nbgrader's timestamp.txt as nbgrader reads it."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from nbgrader.utils import parse_utc

from autograder import gradebook_io, sources
from autograder.readers import read_responses_notebooks
from autograder.timestamps import parse_timestamp, submission_timestamp

#: what nbgrader writes into timestamp.txt (its timestamp_format "%Y-%m-%d %H:%M:%S.%f %Z") and close variants
NBGRADER_STAMPS = [
    "2026-11-20 10:00:00.000000 UTC",
    "2026-11-21 10:00:00 UTC",
    "2024-03-01 12:00:00.250000 UTC",
    "2024-03-01T12:00:00+03:00",
    "2024-03-01 12:00:00",
    "2024-07-01 12:00:00 Europe/Moscow",
]


@pytest.mark.parametrize("text", NBGRADER_STAMPS)
def test_nbgrader_timestamps_read_as_nbgrader_reads_them(text):
    assert parse_timestamp(text) == parse_utc(text)  # nbgrader's own parser is the reference


def test_one_parser_serves_the_readers_and_the_gradebook_writer():
    assert sources.parse_timestamp is parse_timestamp
    assert gradebook_io.parse_timestamp is submission_timestamp
    assert parse_timestamp("01.03.2024 09:30") == datetime(2024, 3, 1, 9, 30)  # a Russian spreadsheet's date
    assert parse_timestamp("2024-03-01 12:00:00 -0500") == datetime(2024, 3, 1, 17, 0)
    assert parse_timestamp("  ") is None and parse_timestamp(None) is None
    for bad in ("yesterday", "2024-03-01 12:00 Mars/Olympus"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)
        assert submission_timestamp(bad) is None  # a submission with an unreadable timestamp.txt has no time


def test_notebook_answers_carry_their_timestamp_txt(tmp_path):
    folder = tmp_path / "ann" / "quiz7"
    folder.mkdir(parents=True)
    cell = {
        "cell_type": "code",
        "source": 'ANSWER = "В"',
        "outputs": [],
        "execution_count": None,
        "metadata": {"nbgrader": {"grade_id": "q1", "solution": True, "grade": False}},
    }
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "quiz7.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (folder / "timestamp.txt").write_text("2024-03-02 10:00:00.000000 UTC")
    r = read_responses_notebooks(tmp_path, "quiz7")
    assert r.timestamp.tolist() == [np.datetime64("2024-03-02T10:00:00", "s").item()]
