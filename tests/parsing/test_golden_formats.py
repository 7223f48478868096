"""Golden tests: each format's sample file parses to the reviewed records and rejections.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/parsing/test_golden_formats.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from loglens.parsing import parse_lines

GOLDEN = Path(__file__).parents[1] / "golden" / "formats"
FORMATS = ["common", "combined", "iso", "json", "level"]


def _render(fmt: str, lines: list[str]) -> dict[str, Any]:
    result = parse_lines(lines, fmt)
    records = result.records.drop("line")  # the order of lines is tested in test_line_order.py
    records = records.with_columns(records["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    rows = sorted(records.to_dicts(), key=lambda r: json.dumps(r, sort_keys=True))
    rejected = sorted(result.rejected.select("text", "reason").rows())
    return {"records": rows, "rejected": [list(r) for r in rejected]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_matches_golden(fmt: str) -> None:
    lines = (GOLDEN / f"{fmt}.log").read_text(encoding="utf-8").splitlines()
    actual = _render(fmt, lines)
    expected_path = GOLDEN / f"{fmt}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected
    assert len(actual["records"]) + len(actual["rejected"]) == len(lines)


@pytest.mark.parametrize("fmt", FORMATS)
def test_auto_reads_each_golden_file_like_its_format(fmt: str) -> None:
    lines = (GOLDEN / f"{fmt}.log").read_text(encoding="utf-8").splitlines()
    assert _render("auto", lines)["records"] == _render(fmt, lines)["records"]
