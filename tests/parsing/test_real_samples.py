"""The real samples in tests/data/real parse completely, and every level-bearing loghub line is counted."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from loglens.parsing import parse_lines
from loglens.parsing.levels import ALIASES
from support import REAL

# Where each loghub system writes its level, written independently of the parser's regexes.
LEVEL_POSITION = {
    "Apache_2k.log": re.compile(r"^\[[^\]]+\] \[(\w+)\]"),
    "HDFS_2k.log": re.compile(r"^\d{6} \d{6} \d+ (\w+) "),
    "Hadoop_2k.log": re.compile(r"^\S+ \S+ (\w+) "),
    "Spark_2k.log": re.compile(r"^\S+ \S+ (\w+) "),
    "Zookeeper_2k.log": re.compile(r"^\S+ \S+ - (\w+) "),
}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def test_apache_combined_sample_parses_every_line() -> None:
    lines = _lines(REAL / "apache_combined_10k.log")
    result = parse_lines(lines, "auto")
    assert result.records.height == 10_000
    assert result.rejected.is_empty()
    assert result.records["ts"].null_count() == 0
    expected_bytes = sum(int(b) for b in (re.search(r'" \d{3} (\d+|-) "', ln)[1] for ln in lines) if b != "-")
    assert result.records["bytes"].sum() == expected_bytes


@pytest.mark.parametrize("name", sorted(LEVEL_POSITION))
def test_loghub_levels_counted_for_every_line(name: str) -> None:
    lines = _lines(REAL / "loghub" / name)
    expected: Counter[str] = Counter()
    for line in lines:
        match = LEVEL_POSITION[name].match(line)
        assert match, f"sample line without a level: {line!r}"
        expected[ALIASES[match[1].upper()]] += 1
    result = parse_lines(lines, "auto")
    assert result.rejected.is_empty(), result.rejected.head()
    assert Counter(result.records["level"].to_list()) == expected
    assert result.records["ts"].null_count() == 0


@pytest.mark.parametrize("name", ["Linux_2k.log", "OpenSSH_2k.log"])
def test_syslog_samples_without_levels_are_read_not_rejected(name: str) -> None:
    lines = _lines(REAL / "loghub" / name)
    result = parse_lines(lines, "auto")
    assert result.records.height == len(lines)
    assert result.records["service"].null_count() == 0
