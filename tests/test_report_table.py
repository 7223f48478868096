"""The readable replay report, as the installed ``loglens replay`` prints it at a given terminal width."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.bar import END_BLOCK_ELEMENTS, FULL_BLOCK
from rich.cells import cell_len

LONG_REFERRER = "https://www.example.com/blog/2025/06/a-post-whose-address-is-long/?utm_source=newsletter&utm_medium=email"
HITS_PER_HOUR = {"03": 1, "10": 4, "15": 9, "21": 6}


def _line(hour: str, referrer: str) -> str:
    return (
        f'10.0.0.1 - - [09/May/2018:{hour}:00:39 +0000] "GET /shop/cart HTTP/1.1" 200 512 '
        f'"{referrer}" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"\n'
    )


@pytest.fixture
def access_log(tmp_path: Path) -> Path:
    """Hits in four hours, the busiest hour's all from one long referrer."""
    path = tmp_path / "access.log"
    lines = [
        _line(hour, LONG_REFERRER if hour == "15" else f"http://x/{hour}")
        for hour, hits in HITS_PER_HOUR.items()
        for _ in range(hits)
    ]
    path.write_text("".join(lines))
    return path


def _table(path: Path, columns: int) -> list[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("LINES", None)
    loglens = Path(sys.executable).with_name("loglens")
    proc = subprocess.run(
        [loglens, "replay", str(path)], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    return proc.stdout.splitlines()


def _bars(lines: list[str]) -> dict[str, int]:
    """Each hour's bar in eighths of a cell, read off the hits per hour panel."""
    title = next(n for n, line in enumerate(lines) if line.strip() == "hits per hour (UTC)")
    bars = {}
    for line in lines[title:]:
        if row := re.fullmatch(r"(\d\d)\s+│\s+[\d,]+\s+│\s+[\d.]+\s+│ (\S*)\s*", line):
            bars[row[1]] = sum(8 if c == FULL_BLOCK else END_BLOCK_ELEMENTS.index(c) for c in row[2])
    return bars


@pytest.mark.parametrize("columns", [80, 140])
def test_every_line_fits_the_terminal(access_log: Path, columns: int) -> None:
    lines = _table(access_log, columns)
    assert "top referrers" in "\n".join(lines)
    assert max(cell_len(line) for line in lines) <= columns


def test_a_wide_terminal_shows_a_long_referrer_whole(access_log: Path) -> None:
    assert len(LONG_REFERRER) > 100
    [row] = [line for line in _table(access_log, 140) if LONG_REFERRER in line]
    assert re.search(r"│\s+9 │", row)


def test_a_narrow_terminal_cuts_a_long_referrer_and_keeps_its_counts(access_log: Path) -> None:
    [row] = [line for line in _table(access_log, 80) if line.startswith(LONG_REFERRER[:40])]
    cut, hits, share = (cell.strip() for cell in row.split("│"))
    assert cut.endswith("…") and LONG_REFERRER.startswith(cut[:-1])
    assert (hits, share) == ("9", "45.0")


def test_text_from_the_input_is_not_read_as_markup(tmp_path: Path) -> None:
    path = tmp_path / "access[bold].log"
    path.write_text(_line("10", "http://x/[/]") + _line("10", "http://x/[bold]y"))
    lines = _table(path, 140)
    assert lines[0].rstrip().endswith("/access[bold].log")
    assert any(line.startswith("http://x/[/] ") for line in lines)
    assert any(line.startswith("http://x/[bold]y ") for line in lines)


@pytest.mark.parametrize("columns", [80, 140])
def test_each_hour_has_a_bar_as_long_as_its_hits(access_log: Path, columns: int) -> None:
    bars = _bars(_table(access_log, columns))
    assert bars.keys() == HITS_PER_HOUR.keys()
    assert max(bars, key=bars.__getitem__) == "15"
    peak = bars["15"]
    assert peak >= 8 * (columns - 30)  # the bar column takes the width left
    for hour, hits in HITS_PER_HOUR.items():
        assert abs(bars[hour] - peak * hits / HITS_PER_HOUR["15"]) <= 8, hour
