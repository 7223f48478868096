"""``loglens stack up|status|down`` with the real Prometheus and Alertmanager: they start with the shipped
configurations, answer on the URLs printed, are wired to each other and to loglens, and stop leaving no
process behind."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import yaml

from loglens.stack.processes import alive
from server.agent_helpers import LOGLENS, AgentProcess, wait_for
from support import free_port, require_tool

pytestmark = pytest.mark.integration


def stack(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LOGLENS, "stack", *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=120)  # fmt: skip


def _record(state: Path) -> list[dict[str, object]]:
    path = state / "stack" / "stack.json"
    return list(orjson.loads(path.read_bytes())["running"]) if path.exists() else []


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    """A state folder whose stack is stopped after the test, whatever happened."""
    require_tool("prometheus", "prometheus")
    require_tool("prometheus-alertmanager", "prometheus-alertmanager")
    folder = tmp_path / "state"
    yield folder
    for item in _record(folder):
        if alive(int(str(item["pid"])), str(item["binary"])):
            os.kill(int(str(item["pid"])), 9)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_up_status_down_leaves_no_process_behind(state: Path, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"ERROR 2026-12-01T07:00:0{n}Z failed {n}\n" for n in range(5)), encoding="utf-8")
    agent = AgentProcess([str(log), "--from-start", "--state-dir", str(tmp_path / "agent")], tmp_path / "out")
    loglens_port = int(agent.url.rpartition(":")[2])
    prometheus_port, alertmanager_port = free_port(), free_port()
    started = stack("up", "--state-dir", state, "--prometheus-port", prometheus_port, "--alertmanager-port",
                    alertmanager_port, "--loglens", f"127.0.0.1:{loglens_port}")  # fmt: skip
    assert started.returncode == 0, started.stdout + started.stderr
    urls = dict(re.findall(r"^(\w+) +(http://\S+)", started.stdout, flags=re.MULTILINE))
    assert urls == {"prometheus": f"http://127.0.0.1:{prometheus_port}",
                    "alertmanager": f"http://127.0.0.1:{alertmanager_port}"}  # fmt: skip
    record = _record(state)
    assert {item["name"] for item in record} == {"prometheus", "alertmanager"}
    assert all(alive(int(str(item["pid"])), str(item["binary"])) for item in record)

    for url in urls.values():
        assert httpx.get(f"{url}/-/ready", timeout=5).status_code == 200
    prometheus = urls["prometheus"]
    expected = {"loglens": f"http://127.0.0.1:{loglens_port}/metrics", "prometheus": f"{prometheus}/metrics"}
    seen: list[object] = []

    def scraped() -> bool:
        targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        seen[:] = targets
        return {target["labels"]["job"]: target["scrapeUrl"] for target in targets} == expected

    wait_for(scraped, timeout=30, what="Prometheus's targets", last=seen)
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert {group["name"] for group in rules} == {"loglens", "loglens-rates", "loglens-fleet"}

    def alertmanager_seen() -> bool:
        managers = httpx.get(f"{prometheus}/api/v1/alertmanagers", timeout=5).json()["data"]
        return [item["url"] for item in managers["activeAlertmanagers"]] == [
            f"{urls['alertmanager']}/api/v2/alerts"
        ]

    wait_for(alertmanager_seen, timeout=30, what="Prometheus to find the stack's Alertmanager")
    # Shipped intervals: a scrape every 5 s, the rules every 15 s.
    recorded = {"query": f'loglens:lines:rate1m{{source="{log}"}}'}
    query = f"{prometheus}/api/v1/query"
    wait_for(lambda: httpx.get(query, params=recorded, timeout=5).json()["data"]["result"], timeout=60,
             what="the recording rule over the scraped loglens")  # fmt: skip
    config = yaml.safe_load((state / "stack" / "prometheus.yml").read_text(encoding="utf-8"))
    assert all(Path(name).is_absolute() and Path(name).is_file() for name in config["rule_files"])

    status = stack("status", "--state-dir", state)
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(rf"^prometheus +{prometheus} +running \(pid \d+\)$", status.stdout, flags=re.MULTILINE)
    assert re.search(r"^alertmanager +\S+ +running \(pid \d+\)$", status.stdout, flags=re.MULTILINE)

    stopped = stack("down", "--state-dir", state)
    assert stopped.returncode == 0, stopped.stderr
    assert sorted(re.findall(r"^stopped (\w+) \(pid \d+\)$", stopped.stdout, flags=re.MULTILINE)) == [
        "alertmanager", "prometheus"
    ]  # fmt: skip
    for item in record:
        assert not alive(int(str(item["pid"])), str(item["binary"])), item
    assert _port_free(prometheus_port) and _port_free(alertmanager_port)
    assert not (state / "stack" / "stack.json").exists()

    after = stack("status", "--state-dir", state)
    assert after.returncode == 1
    assert after.stderr.strip() == f"loglens: the stack is not running (nothing started in {state / 'stack'})"
    assert stack("down", "--state-dir", state).stdout.strip() == "the stack was not running"


def test_up_twice_refuses_and_status_sees_a_stopped_part(state: Path) -> None:
    started = stack("up", "--state-dir", state, "--prometheus-port", 0, "--alertmanager-port", 0)
    assert started.returncode == 0, started.stderr
    again = stack("up", "--state-dir", state, "--prometheus-port", 0, "--alertmanager-port", 0)
    assert again.returncode == 1
    assert again.stderr.startswith(f"loglens: the stack already runs in {state / 'stack'}: ")
    assert len(again.stderr.strip().splitlines()) == 1

    alertmanager = next(item for item in _record(state) if item["name"] == "alertmanager")
    os.kill(int(str(alertmanager["pid"])), 15)
    wait_for(lambda: not alive(int(str(alertmanager["pid"])), str(alertmanager["binary"])), timeout=30,
             what="Alertmanager to exit")  # fmt: skip
    status = stack("status", "--state-dir", state)
    assert status.returncode == 1
    assert re.search(r"^alertmanager +\S+ +stopped$", status.stdout, flags=re.MULTILINE)
    assert "loglens: the stack is not running whole" in status.stderr
    assert stack("down", "--state-dir", state).returncode == 0
    assert all(not alive(int(str(item["pid"])), str(item["binary"])) for item in _record(state))


def test_a_missing_binary_is_one_line_and_starts_nothing(state: Path, tmp_path: Path) -> None:
    # PATH holds only the alertmanager: prometheus cannot be found.
    only = tmp_path / "bin"
    only.mkdir()
    (only / "prometheus-alertmanager").symlink_to(str(shutil.which("prometheus-alertmanager")))
    env = {**os.environ, "PATH": str(only)}
    result = stack("up", "--state-dir", state, "--prometheus-port", 0, "--alertmanager-port", 0, env=env)
    assert result.returncode == 1
    assert result.stderr == "loglens: prometheus not found on PATH: install it (apt-get install prometheus)\n"
    assert _record(state) == []


def test_a_port_in_use_is_one_line(state: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = stack("up", "--state-dir", state, "--prometheus-port", port, "--alertmanager-port", 0)
    assert result.returncode == 1
    assert result.stderr == f"loglens: prometheus: port {port} is in use; give another, or 0 for any\n"
    assert _record(state) == []


def test_a_program_that_fails_to_start_stops_the_others(state: Path, tmp_path: Path) -> None:
    deploy = tmp_path / "deploy"
    shutil.copytree(Path(__file__).parents[2] / "deploy", deploy)
    (deploy / "rules" / "loglens-recording.yml").write_text("groups: [{name: x, rules: [{record: 'a b'}]}]\n")
    result = stack("up", "--state-dir", state, "--prometheus-port", 0, "--alertmanager-port", 0,
                   "--deploy", deploy)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("loglens: prometheus exited at start-up: ")
    assert _record(state) == []
    log = (state / "stack" / "alertmanager.log").read_text(encoding="utf-8")
    assert 'msg="Received SIGTERM, exiting gracefully..."' in log  # the Alertmanager, started first


def test_no_shipped_configs_is_a_configuration_error(tmp_path: Path) -> None:
    result = stack("up", "--state-dir", tmp_path / "state", "--deploy", tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"loglens: no prometheus.yml and alertmanager.yml in {tmp_path}: give --deploy, the deploy/ folder "
        "of a loglens checkout\n"
    )
