"""Helpers for the generator tests: exact line regexes, in-process runs, recording outputs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from loglens.cli import main
from loglens.clock import FrozenClock
from loglens.generate.engine import Generator, Settings
from loglens.generate.scenarios import parse_scenario

START = "2025-01-01T00:00:00Z"
START_EPOCH = datetime(2025, 1, 1, tzinfo=UTC).timestamp()

_CLIENT = r"(?P<client>[0-9.]+|[0-9a-f:]+)"
_HEAD = _CLIENT + r" - (?P<user>[A-Za-z0-9._-]+) "
_REQUEST = r'"(?P<method>GET|POST|PUT|DELETE|HEAD) (?P<path>/[^ "]*) (?P<protocol>HTTP/(?:1\.0|1\.1|2\.0))"'
_STATUS = r" (?P<status>[1-5][0-9]{2}) (?P<bytes>[0-9]+|-)"
_TAIL = r' "(?P<referer>[^"]*)" "(?P<agent>[^" ][^"]*)"'
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_CLF = rf"\[(?P<ts>[0-3][0-9]/{_MONTH}/[0-9]{{4}}:[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} \+0000)\] "
_ISO_MS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"
_LEVEL = r"(?P<level>INFO|WARNING|ERROR)"
_SHORT = r"(?P<level>INFO|WARN|ERROR)"

#: The exact shape of each format (``level`` per style), as the issue defines them.
PATTERNS: dict[str, re.Pattern[str]] = {
    "common": re.compile("^" + _HEAD + _CLF + _REQUEST + _STATUS + "$"),
    "combined": re.compile("^" + _HEAD + _CLF + _REQUEST + _STATUS + _TAIL + "$"),
    "combined+durations": re.compile("^" + _HEAD + _CLF + _REQUEST + _STATUS + _TAIL + r" [0-9]+\.[0-9]{3}$"),
    "iso": re.compile("^" + _HEAD + rf"\[(?P<ts>{_ISO_MS})\] " + _REQUEST + _STATUS + "$"),
    "level": re.compile(rf"^{_LEVEL} (?P<ts>{_ISO_MS}) (?P<message>\S.*)$"),
    "level:log4j": re.compile(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} - "
        r"(?:INFO |WARN |ERROR) \[[\w-]+:\w+@[0-9]+\] - (?P<message>\S.*)$"
    ),
    "level:apache": re.compile(
        r"^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}\] "
        r"\[(?:info|warn|error)\] (?P<message>\S.*)$"
    ),
    "level:hdfs": re.compile(rf"^[0-9]{{6}} [0-9]{{6}} [0-9]{{3}} {_SHORT} app\.\w+: (?P<message>\S.*)$"),
    "level:spark": re.compile(
        r"^[0-9]{2}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} "
        rf"{_SHORT} app\.\w+: (?P<message>\S.*)$"
    ),
}
ACCESS_KEYS = ("ts", "client", "method", "path", "protocol", "status", "bytes", "referer", "agent")
APP_KEYS = ("ts", "service", "level", "msg")

#: (CLI arguments, pattern name) for every format and variant.
VARIANTS: list[tuple[tuple[str, ...], str]] = [
    (("--format", "common"), "common"),
    (("--format", "combined"), "combined"),
    (("--format", "combined", "--durations"), "combined+durations"),
    (("--format", "iso"), "iso"),
    (("--format", "json"), "json"),
    (("--format", "json", "--durations"), "json"),
    (("--format", "json", "--kind", "app"), "json:app"),
    (("--format", "level"), "level"),
    *[
        (("--format", "level", "--level-style", s), f"level:{s}")
        for s in ("log4j", "apache", "hdfs", "spark")
    ],
]


def make(count: int = 1000, seed: int = 1, scenarios: tuple[str, ...] = (), **kwargs: object) -> list[str]:
    """Generate ``count`` lines in process, starting at ``START``."""
    settings = Settings(
        seed=seed,
        count=count,
        start=START_EPOCH,
        scenarios=tuple(parse_scenario(s) for s in scenarios),
        **kwargs,  # type: ignore[arg-type]
    )
    return Generator(settings, START_EPOCH).lines(0, count)


def cli(*args: str) -> Result:
    """Run ``loglens`` in process; fail with its output unless it exits 0."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def read_lines(path: Path) -> list[str]:
    """The lines of a file, which must end with a newline."""
    text = path.read_text()
    assert text == "" or text.endswith("\n")
    return text.splitlines()


@dataclass
class RecordingOutput:
    """An output that keeps every line and when (by the clock) each write happened."""

    clock: FrozenClock
    lines: list[str] = field(default_factory=list)
    writes: list[tuple[float, int]] = field(default_factory=list)
    cost_per_line: float = 0.0

    def write(self, first: int, lines: list[str]) -> None:
        """Record the lines; writing costs ``cost_per_line`` seconds of clock time."""
        assert first == len(self.lines)
        self.lines += lines
        self.writes.append((self.clock.now(), len(lines)))
        self.clock.advance(self.cost_per_line * len(lines))

    def flush(self) -> None:
        """Nothing buffered."""

    def close(self) -> None:
        """Nothing to release."""
