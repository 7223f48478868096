"""The C reader is optional: turned off (``LOGLENS_C_READER=0``) or not built, the regexes read every
line, with the same results."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from loglens.cli import main
from loglens.parsing import clf_split
from support import REAL

APACHE = REAL / "apache_combined_10k.log"


def _replay(*, env: dict[str, str | None]) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["replay", "--output", "json", str(APACHE)], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    del report["elapsed_seconds"]
    return report


def _no_reader(lines: pl.Series, shapes: clf_split.Shape) -> Any:
    raise AssertionError("the C reader was used")


def test_replay_without_the_reader_reports_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    default = _replay(env={"LOGLENS_C_READER": None})
    monkeypatch.setattr(clf_split, "read_strict", _no_reader)
    assert _replay(env={"LOGLENS_C_READER": "0"}) == default
    assert default["parsed"] == 10_000


def test_replay_without_the_module_reports_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    default = _replay(env={"LOGLENS_C_READER": None})
    monkeypatch.setattr(clf_split, "BUILT", False)  # as when ``import _clf`` fails
    monkeypatch.setattr(clf_split, "read_strict", _no_reader)
    assert _replay(env={"LOGLENS_C_READER": None}) == default
