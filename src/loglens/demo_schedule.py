"""The demo's incident schedule: what the generated traffic does next, and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loglens.generate.scenarios import Scenario, parse_scenario


@dataclass(frozen=True)
class Schedule:
    """The incidents of a generator run that started at ``origin`` (epoch seconds)."""

    scenarios: tuple[Scenario, ...]
    origin: float

    @classmethod
    def of(cls, specs: Sequence[str], origin: float) -> Schedule:
        """The schedule of ``--scenario`` specs, ordered by start."""
        return cls(tuple(sorted((parse_scenario(spec) for spec in specs), key=lambda s: s.start)), origin)

    def line(self, now: float) -> str:
        """One line: the incident under way (with the seconds it has left) and the next one."""
        at = now - self.origin
        parts = [
            f"now {s.name} (ends in {s.end - at:.0f} s)" for s in self.scenarios if s.start <= at < s.end
        ]
        upcoming = [s for s in self.scenarios if s.start > at]
        if upcoming:
            parts.append(f"next {upcoming[0].name} in {upcoming[0].start - at:.0f} s")
        elif not parts:
            parts.append("every incident has run; steady traffic from here")
        return "schedule: " + " · ".join(parts)

    def summary(self, now: float) -> str:
        """Every incident with its time from the start, and whether it ran."""
        at = now - self.origin
        rows = []
        for s in self.scenarios:
            state = "done" if s.end <= at else "under way" if s.start <= at else "not reached"
            rows.append(f"  {s.name:<12} {s.start:>5.0f} s to {s.end:>5.0f} s  {state}")
        return "\n".join(["incident schedule (seconds from the demo's start):", *rows])
