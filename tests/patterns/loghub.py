"""The loghub samples with their ground truth (tests/data/real/loghub), and grouping accuracy."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path

LOGHUB = Path(__file__).resolve().parent.parent / "data" / "real" / "loghub"
SYSTEMS = ("Apache", "HDFS", "Hadoop", "Linux", "OpenSSH", "Spark", "Zookeeper")
LOGLENS = str(Path(sys.executable).parent / "loglens")


def truth(system: str) -> list[dict[str, str]]:
    """The ground-truth rows of ``system``'s sample, one per line."""
    with (LOGHUB / f"{system}_2k.log_structured.csv").open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def grouping_accuracy(predicted: Sequence[Hashable], expected: Sequence[Hashable]) -> float:
    """The share of lines whose predicted group holds exactly the lines of their expected group."""
    assert len(predicted) == len(expected)
    groups: dict[Hashable, set[int]] = defaultdict(set)
    events: dict[Hashable, set[int]] = defaultdict(set)
    for i, (group, event) in enumerate(zip(predicted, expected, strict=True)):
        groups[group].add(i)
        events[event].add(i)
    right = sum(len(lines) for lines in events.values() if groups[predicted[min(lines)]] == lines)
    return right / len(expected)


def patterns_csv(path: Path) -> list[dict[str, str]]:
    """The rows of ``loglens patterns --output csv path``."""
    result = subprocess.run([LOGLENS, "patterns", "--output", "csv", str(path)], capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    return list(csv.DictReader(io.StringIO(result.stdout)))


def reworded(content: str) -> str:
    """Every word of letters written backwards with an ``x`` before it, numbers kept."""
    return re.sub(r"[A-Za-z]{2,}", lambda word: "x" + word.group()[::-1], content)


def commonest_numbered(system: str) -> int:
    """The index of the first line of the commonest event among messages with a number in them."""
    rows = truth(system)
    numbered = Counter(row["EventId"] for row in rows if re.search("[0-9]", row["Content"]))
    commonest = numbered.most_common(1)[0][0]
    return next(
        i for i, row in enumerate(rows) if row["EventId"] == commonest and re.search("[0-9]", row["Content"])
    )
