"""``loglens watch`` from the command line: start-up errors are one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from loglens.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["watch", *args])
    return result.exit_code, result.output


def test_missing_file(tmp_path: Path) -> None:
    code, output = run(str(tmp_path / "nope.log"))
    assert code == 1
    assert output == f"loglens: {tmp_path / 'nope.log'}: no such file\n"


def test_bad_pattern_and_bad_alert_log(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.touch()
    code, output = run(str(log), "--pattern", "(")
    assert code == 2 and output.startswith("loglens: pattern is neither")
    code, output = run(str(log), "--alert-log", str(tmp_path / "no" / "alerts.jsonl"))
    assert code == 2 and "cannot open alert log" in output


def test_flags_are_checked(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.touch()
    code, output = run(str(log), "--alert-threshold", "0")
    assert code == 2 and "--alert-threshold" in output
