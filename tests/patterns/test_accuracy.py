"""``loglens patterns --output csv`` groups the loghub samples' lines as their ground truth does."""

from __future__ import annotations

import pytest

from patterns.loghub import LOGHUB, SYSTEMS, grouping_accuracy, patterns_csv, truth

#: Grouping accuracy measured on each sample (bench/README.md has Drain's and drain3's beside them).
MEASURED = {"Apache": 1.0, "HDFS": 0.9975, "Hadoop": 0.9725, "Linux": 0.939, "OpenSSH": 1.0, "Spark": 1.0,
            "Zookeeper": 0.9945}  # fmt: skip
#: How far below the measured figure a change may take it before this test fails.
TOLERANCE = 0.01


def test_the_recorded_figures_are_the_seven_samples() -> None:
    assert sorted(MEASURED) == sorted(SYSTEMS)


def test_grouping_accuracy_does_not_regress() -> None:
    scores = {}
    for system in SYSTEMS:
        rows = patterns_csv(LOGHUB / f"{system}_2k.log")
        expected = truth(system)
        assert [row["line"] for row in rows] == [row["LineId"] for row in expected]
        scores[system] = grouping_accuracy([row["template_id"] for row in rows],
                                           [row["EventId"] for row in expected])  # fmt: skip
    low = {system: score for system, score in scores.items() if score < MEASURED[system] - TOLERANCE}
    assert not low, f"grouping accuracy fell: {low} (measured {MEASURED})"


@pytest.mark.parametrize(
    ("predicted", "expected", "accuracy"),
    [
        ([1, 1, 2], ["a", "a", "b"], 1.0),
        ([1, 1, 1], ["a", "a", "b"], 0.0),
        ([1, 2, 3], ["a", "a", "b"], 1 / 3),
    ],
)
def test_grouping_accuracy_counts_a_line_right_only_when_its_group_is_exactly_its_event(
    predicted: list[int], expected: list[str], accuracy: float
) -> None:
    assert grouping_accuracy(predicted, expected) == pytest.approx(accuracy)
