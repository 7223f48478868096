"""Helpers for the console tests: access lines at chosen times, a real log file to append to, the follower."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loglens.sources.file_tail import FileFollower
from loglens.ui.console.command import open_follower


def access_line(
    second: float,
    section: str = "/api",
    status: int = 200,
    size: str = "512",
    method: str = "GET",
    client: str = "10.0.0.1",
    user: str = "-",
) -> str:
    """One combined-format line at event second ``second``."""
    stamp = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'{client} - {user} [{stamp}] "{method} {section}/item HTTP/1.1" {status} {size} '
        f'"-" "Mozilla/5.0 (X11; Linux x86_64)"\n'
    )


class LogFile:
    """A real log file the tests append to."""

    line = staticmethod(access_line)

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def write(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def hits(self, second: float, count: int, **fields: object) -> None:
        """Append ``count`` access lines at ``second`` (fields as :func:`access_line` takes them)."""
        self.write("".join(access_line(second, **fields) for _ in range(count)))  # type: ignore[arg-type]


@pytest.fixture
def log_file(tmp_path: Path) -> LogFile:
    return LogFile(tmp_path / "access.log")


@pytest.fixture
def follow() -> Iterator[Callable[[Path, bool], FileFollower]]:
    """The follower ``loglens watch`` uses, over one file: ``follow(path, from_start)``."""
    opened: list[FileFollower] = []

    def make(path: Path, from_start: bool) -> FileFollower:
        opened.append(open_follower((str(path),), from_start=from_start))
        return opened[-1]

    yield make
    for follower in opened:
        follower.close()
