"""Grade bands: boundaries, half-up shares, the exact line format of the course, configurable bands."""

from __future__ import annotations

import pytest

from autograder import stats
from course.errors import CourseError


@pytest.mark.parametrize(
    "percent, label",
    [
        (100.0, "5"),
        (80.0, "5"),
        (79.99, "4"),
        (60.0, "4"),
        (59.999, "3"),
        (40.0, "3"),
        (39.9, "failed"),
        (0.0, "failed"),
    ],
)
def test_band_boundaries_lower_inclusive_upper_exclusive(percent, label):
    idx = stats.assign_bands([percent])[0]
    assert stats.DEFAULT_BANDS[idx].label == label


def test_float_noise_at_a_boundary_does_not_move_a_band():
    # 2.3 of 2.875 points is exactly 80 %, but 100 * 2.3 / 2.875 evaluates to 79.99999999999999
    assert 100.0 * 2.3 / 2.875 < 80
    assert stats.assign_bands([100.0 * 2.3 / 2.875, 100.0 * 9.3 / 15.5]).tolist() == [0, 1]


@pytest.mark.parametrize(
    "count, total, share",
    [
        (159, 208, 76),  # 76.44
        (37, 208, 18),  # 17.79
        (6, 208, 3),  # 2.88
        (1, 8, 13),  # 12.5 → 13 (half up; round() would give 12)
        (5, 200, 3),  # 2.5 → 3 (round() would give 2)
        (1, 3, 33),
        (0, 5, 0),
    ],
)
def test_shares_are_whole_percent_rounded_half_up(count, total, share):
    assert stats.share_percent(count, total) == share


def test_average_rounds_half_up_to_two_decimals():
    assert stats.round_half_up(18135 / 208) == 87.19  # 87.1875
    assert stats.round_half_up(0.125) == 0.13  # an exact tie: half up
    assert round(0.125, 2) == 0.12  # what Python's half-even round() would print
    assert f"{2.675:.20f}".startswith("2.674999")  # 2.675 is stored just below the tie …
    assert round(2.675, 2) == 2.67  # … so round() goes down,
    assert stats.round_half_up(2.675) == 2.68  # while the written value 2.675 rounds half up
    assert stats.round_half_up(2 / 3 * 100) == 66.67


def test_band_lines_read_exactly_as_in_the_course():
    counts = stats.band_counts([90.0] * 159 + [70.0] * 37 + [50.0] * 6 + [10.0] * 6)
    assert [c.line() for c in counts] == [
        '"5" (from 80%): 159 76%',
        '"4" (between 60 and 80%): 37 18%',
        '"3" (between 40 and 60%): 6 3%',
        '"failed" (less 40%): 6 3%',
    ]


def test_custom_bands_are_parsed_and_formatted():
    bands = stats.parse_bands("A:90, B:75, C:62.5, F:0")
    assert [(b.label, b.lower, b.upper) for b in bands] == [
        ("A", 90, 100),
        ("B", 75, 90),
        ("C", 62.5, 75),
        ("F", 0, 62.5),
    ]
    lines = [c.line() for c in stats.band_counts([95, 80, 62.5, 62.4], bands)]
    assert lines == [
        '"A" (from 90%): 1 25%',
        '"B" (between 75 and 90%): 1 25%',
        '"C" (between 62.5 and 75%): 1 25%',
        '"F" (less 62.5%): 1 25%',
    ]


def test_bands_in_any_order_are_sorted_highest_first():
    assert [b.label for b in stats.parse_bands("failed:0,5:80,3:40,4:60")] == ["5", "4", "3", "failed"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("5:80,4:60", "lowest band must start at 0"),
        ("5:80,4:80,f:0", "own lower bound"),
        ("5:eighty,f:0", "not a number"),
        ("5,f:0", "not LABEL:LOWER"),
        ("", "no bands"),
        ("a:nan,b:0", "must lie in \\[0, 100\\), got 'nan'"),
        ("a:50,b:-5,c:0", "must lie in \\[0, 100\\)"),
    ],
)
def test_bad_band_specs_are_clear_errors(spec, message):
    with pytest.raises(CourseError, match=message):
        stats.parse_bands(spec)


def test_histogram_puts_100_in_the_last_bin():
    counts, edges = stats.histogram([0, 9.99, 10, 95, 100])
    assert edges[0] == 0 and edges[-1] == 100 and len(counts) == 10
    assert counts.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_histogram_with_another_width_bins_by_that_width():
    # width 25: [0, 25) holds 0 and 24.9; [50, 75) holds 50 and 74.9; 100 goes to [75, 100]
    counts, edges = stats.histogram([0, 24.9, 50, 74.9, 100], width=25)
    assert edges.tolist() == [0, 25, 50, 75, 100]
    assert counts.tolist() == [2, 0, 2, 1]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: stats.assign_bands([50.0, float("nan")]), "0..100, got nan"),
        (lambda: stats.band_counts([101.0]), "0..100, got 101"),
        (lambda: stats.histogram([-5.0]), "0..100, got -5"),
        (lambda: stats.histogram([50.0], width=30), "must divide 100"),
        (lambda: stats.histogram([50.0], width=0), "must divide 100"),
        (lambda: stats.share_percent(-1, 10), "0 <= count <= total"),
        (lambda: stats.share_percent(11, 10), "0 <= count <= total"),
        (lambda: stats.parse_bands(None), "expected text"),
        (lambda: stats.quiz_statistics([50.0, float("nan")]), "NaN or inf"),
    ],
)
def test_bad_numbers_are_clear_errors(call, message):
    with pytest.raises(CourseError, match=message):
        call()
