"""``loglens check`` and ``loglens run`` start-up: settings precedence and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from loglens.cli import main
from loglens.run import run_settings

GOOD = """\
sources:
  - path: {logs}/*.log
    name: web
    labels: {{env: prod}}
  - path: {logs}/app
    format: level
server:
  listen: 127.0.0.1:9999
state:
  dir: {state}
limits:
  section_limit: 20
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    (logs / "app").mkdir(parents=True)
    (logs / "a.log").touch()
    path = tmp_path / "loglens.yaml"
    path.write_text(GOOD.format(logs=logs, state=tmp_path / "state"), encoding="utf-8")
    return path


def test_check_accepts_a_good_file_and_describes_it(config: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"{config}: ok" in result.output
    assert "as 'web': format auto, 1 file(s) now" in result.output
    assert "format level, 0 file(s) now" in result.output


def test_check_describes_ingest_and_the_archive(config: Path) -> None:
    state = config.parent / "state"
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert "ingest on POST /api/logs and /log_collector, Loki and OTLP (no token)" in result.output
    assert f"archive of every line received over HTTP in {state / 'archive'}" in result.output
    with config.open("a", encoding="utf-8") as out:
        out.write("ingest:\n  enabled: false\narchive:\n  backend: s3\n  files: true\n  s3: {bucket: logs}\n")
        out.write("syslog:\n  listen: [udp://127.0.0.1:5514]\n")
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"syslog on udp://127.0.0.1:5514, spool {state / 'spool'}" in result.output
    assert "ingest off" in result.output
    assert "archive of every line received over HTTP and every followed line in s3://logs/" in result.output


@pytest.mark.parametrize(
    ("edit", "message", "code"),
    [
        (("listen: 127.0.0.1:9999", "lisen: 127.0.0.1:9999"), "unknown key 'server.lisen'", 2),
        (("format: level", "format: apache"), "'sources.1.format'", 2),
        (("name: web", "name: web\n    pattern: '(?P<bad'"), "pattern", 2),
        (("section_limit: 20", "section_limit: 0"), "'limits.section_limit'", 2),
        (("path: {logs}/app", "path: /no/such/folder/x.log"), "its folder /no/such/folder does not exist", 1),
    ],
)
def test_check_names_the_problem_in_one_line(
    config: Path, edit: tuple[str, str], message: str, code: int
) -> None:
    text = config.read_text(encoding="utf-8")
    old, new = edit
    logs = str(config.parent / "logs")
    config.write_text(text.replace(old.format(logs=logs), new.format(logs=logs)), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_run_refuses_a_compressed_file_and_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / "a.log.gz").write_bytes(b"\x1f\x8b")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "a.log.gz"), "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "compressed files are not followed" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("tail:\n  poll_interval: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown key 'tail.poll_interval'" in result.output


def test_precedence_file_then_environment_then_flags(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = run_settings(config=config)
    assert (settings.server.listen, settings.limits.section_limit, len(settings.sources)) == (
        "127.0.0.1:9999",
        20,
        2,
    )
    monkeypatch.setenv("LOGLENS__SERVER__LISTEN", "127.0.0.1:8888")
    monkeypatch.setenv("LOGLENS__TAIL__FROM_START", "true")
    settings = run_settings(config=config)
    assert (settings.server.listen, settings.tail.from_start, settings.limits.section_limit) == (
        "127.0.0.1:8888", True, 20,
    )  # fmt: skip
    settings = run_settings(("/var/log/x.log",), config=config, listen="127.0.0.1:7777", format_="combined")
    assert settings.server.listen == "127.0.0.1:7777"
    assert [s.path for s in settings.sources] == ["/var/log/x.log"]
    assert settings.parse.format == "combined"
    assert settings.state.dir == config.parent / "state"
