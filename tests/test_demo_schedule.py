"""The demo's incident schedule: what runs now, what comes next and in how many seconds."""

from __future__ import annotations

import pytest

from loglens.demo import SCENARIOS
from loglens.demo_schedule import Schedule

ORIGIN = 1_700_000_000.0


@pytest.mark.parametrize(
    ("at", "line"),
    [
        (0, "schedule: next spike in 40 s"),
        (39.6, "schedule: next spike in 0 s"),
        (50, "schedule: now spike (ends in 30 s) · next error-burst in 50 s"),
        (85, "schedule: next error-burst in 15 s"),
        (105, "schedule: now error-burst (ends in 5 s)"),
        (110, "schedule: every incident has run; steady traffic from here"),
    ],
)
def test_the_line_names_what_runs_and_what_comes_next(at: float, line: str) -> None:
    assert Schedule.of(SCENARIOS, ORIGIN).line(ORIGIN + at) == line


def test_the_summary_says_which_incidents_ran() -> None:
    summary = Schedule.of(tuple(reversed(SCENARIOS)), ORIGIN).summary(ORIGIN + 60).splitlines()
    assert summary[0] == "incident schedule (seconds from the demo's start):"
    assert [row.split()[0] for row in summary[1:]] == ["spike", "error-burst"]  # ordered by start
    assert summary[1].endswith("40 s to    80 s  under way")
    assert summary[2].endswith("100 s to   110 s  not reached")
