"""``loglens push`` against a real server."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result

from loglens.cli import main

if TYPE_CHECKING:
    from conftest import PushServer


def _push(server_url: str, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(main, ["push", "--url", f"{server_url}/api/metrics", *args], env=env, input=stdin)


def test_name_value_arguments(server: PushServer) -> None:
    result = _push(
        server.url,
        "--source",
        "deploy_job",
        "--type",
        "counter",
        "--label",
        "env=prod",
        "deploys=1",
        "rollbacks=0",
    )
    assert result.exit_code == 0, result.output
    assert "pushed 2 of 2 metrics" in result.output
    assert server.value("app_deploys_total", source="deploy_job", env="prod") == 1
    assert server.value("app_rollbacks_total", source="deploy_job", env="prod") == 0


def test_gauges_by_default_with_help_text(server: PushServer) -> None:
    result = _push(server.url, "--source", "cron", "--help-text", "Rows in the queue.", "queue_rows=12.5")
    assert result.exit_code == 0, result.output
    assert "# HELP app_queue_rows Rows in the queue.\n" in server.exposition()
    assert server.value("app_queue_rows", source="cron") == 12.5


def test_a_batch_file(server: PushServer, metric: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    batch = {
        "source": "my_app",
        "mode": "cumulative",
        "metrics": [metric("jobs", 40), metric("depth", 2, "gauge")],
    }
    path.write_text(json.dumps(batch))
    assert _push(server.url, "--file", str(path)).exit_code == 0
    assert server.value("app_jobs_total", source="my_app") == 40
    listing = json.dumps([metric("jobs", 45)])
    result = _push(server.url, "--file", "-", "--source", "my_app", "--mode", "cumulative", stdin=listing)
    assert result.exit_code == 0, result.output
    assert server.value("app_jobs_total", source="my_app") == 45


def test_problems_are_named_and_exit_non_zero(server: PushServer) -> None:
    result = _push(server.url, "--source", "job", "--type", "counter", "good=1", "bad=-1")
    assert result.exit_code == 1
    assert "answered 200: 1 of 2 metrics applied" in result.output
    assert "metrics[1] bad value.value: a counter increment must not be negative" in result.output
    assert server.value("app_good_total", source="job") == 1


def test_the_token_comes_from_the_option_or_the_environment(start_server: Callable[..., PushServer]) -> None:
    server = start_server(token="s3cret")
    refused = _push(server.url, "--source", "job", "up=1")
    assert refused.exit_code == 1
    assert "answered 401" in refused.output and "--token or set LOGLENS__PUSH__TOKEN" in refused.output
    assert _push(server.url, "--source", "job", "--token", "s3cret", "up=1").exit_code == 0
    assert _push(server.url, "--source", "job", "up=2", env={"LOGLENS__PUSH__TOKEN": "s3cret"}).exit_code == 0
    assert server.value("app_up", source="job") == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "give NAME=VALUE arguments or --file"),
        (("up=1",), "give --source"),
        (("--source", "a", "up"), "expected NAME=VALUE"),
        (("--source", "a", "up=high"), "'high' is not a number"),
        (("--source", "a", "up=nan"), "must be finite"),
        (("--source", "a", "--label", "env", "up=1"), "expected KEY=VALUE"),
    ],
)
def test_usage_errors(server: PushServer, args: tuple[str, ...], fragment: str) -> None:
    result = _push(server.url, *args)
    assert result.exit_code == 2
    assert fragment in result.output


def test_a_file_that_is_not_json(server: PushServer, tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text("{nope")
    result = _push(server.url, "--file", str(path))
    assert result.exit_code == 1
    assert "not valid JSON" in result.output


def test_an_unreachable_server_is_one_clear_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        result = _push(f"http://127.0.0.1:{port}", "--source", "job", "up=1")
    assert result.exit_code == 1
    assert result.output.startswith(f"loglens: cannot reach http://127.0.0.1:{port}/api/metrics")
    assert len(result.output.strip().splitlines()) == 1
