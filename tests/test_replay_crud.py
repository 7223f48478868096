"""``crud`` in ``loglens replay --output json`` of a generated log, against counts read off the raw lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

LOGLENS = Path(sys.executable).with_name("loglens")
#: Lines the generator does not write: PATCH, methods outside CRUD, a lower-case one, no request at all.
EXTRA = [
    '10.0.0.9 - - [01/Jan/2025:00:10:00 +0000] "PATCH /api/orders/7 HTTP/1.1" 200 12 "-" "curl/8.5.0"',
    '10.0.0.9 - - [01/Jan/2025:00:10:01 +0000] "PATCH /api/orders/8 HTTP/1.1" 204 0 "-" "curl/8.5.0"',
    '10.0.0.9 - - [01/Jan/2025:00:10:02 +0000] "OPTIONS /api/orders HTTP/1.1" 204 0 "-" "curl/8.5.0"',
    '10.0.0.9 - - [01/Jan/2025:00:10:03 +0000] "get /api/orders HTTP/1.1" 400 0 "-" "curl/8.5.0"',
    '10.0.0.9 - - [01/Jan/2025:00:10:04 +0000] "-" 400 0 "-" "-"',
]


def _run(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run([LOGLENS, *args], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 generated combined lines and :data:`EXTRA`."""
    path = tmp_path_factory.mktemp("crud") / "access.log"
    _run("generate", "--start", "2025-01-01T00:00:00", "-n", "20000", "--seed", "14", "-o", str(path))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(EXTRA) + "\n")
    return path


def _independent(path: Path) -> dict[str, int]:
    """CRUD counts from each line's request, split by hand: its first word is the method."""
    operations = {"create": ("POST",), "read": ("GET", "HEAD"), "update": ("PUT", "PATCH")}
    operations["delete"] = ("DELETE",)
    counts = dict.fromkeys([*operations, "other"], 0)
    for line in path.read_text(encoding="utf-8").splitlines():
        request = line.split('"')[1]
        method = request.split(" ")[0] if " " in request else None
        key = next((op for op, methods in operations.items() if method in methods), "other")
        counts[key] += 1
    return counts


def test_replay_crud_agrees_with_the_raw_lines(generated: Path) -> None:
    doc = json.loads(_run("replay", "--output", "json", str(generated)))
    expected = _independent(generated)
    assert doc["crud"] == expected
    assert sum(doc["crud"].values()) == doc["hits"] == doc["lines"] == 20_000 + len(EXTRA)
    assert min(expected.values()) > 0
    assert expected["other"] == 3


def test_replay_crud_sums_the_methods_it_reports(generated: Path) -> None:
    doc = json.loads(_run("replay", "--output", "json", str(generated)))
    methods = Counter(doc["methods"])
    assert doc["crud"]["read"] == methods["GET"] + methods["HEAD"]
    assert doc["crud"]["update"] == methods["PUT"] + methods["PATCH"]
    assert (doc["crud"]["create"], doc["crud"]["delete"]) == (methods["POST"], methods["DELETE"])


def test_replay_table_shows_the_crud_panel(generated: Path) -> None:
    table = _run("replay", str(generated))
    assert re.search(r"\bcrud\b", table) and re.search(r"\boperation +┃ +hits +┃", table)
    for operation, count in _independent(generated).items():
        assert re.search(rf"\b{operation}\s+│\s+{count:,}\s+│", table), operation
