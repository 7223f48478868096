"""A real ``loglens run`` with an alert firing, killed with SIGKILL and restarted: still firing, and not
announced again; it then recovers once."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from server.agent_helpers import AgentProcess, wait_for

pytestmark = pytest.mark.integration

RULES = """
alerts:
  - name: error_burst
    count: {{level: ERROR}}
    by: [source]
    window: 20s
    threshold: 5
notify:
  - file: {alerts}
"""


def firing(url: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{url}/api/alerts", timeout=5).json()
    return [
        alert for alert in answer["active"] if alert["rule"] == "error_burst" and alert["state"] == "firing"
    ]


def events(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [(e["event"], e["labels"]["source"]) for e in map(orjson.loads, path.read_bytes().splitlines())]


def test_a_firing_alert_survives_kill_9_unannounced_and_then_recovers_once(tmp_path: Path) -> None:
    log, alerts, config = tmp_path / "app.log", tmp_path / "alerts.jsonl", tmp_path / "loglens.yaml"
    config.write_text(RULES.format(alerts=alerts), encoding="utf-8")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    log.write_text("".join(f"ERROR {now} Out of memory in worker {n}\n" for n in range(6)), encoding="utf-8")
    args = [str(log), "--config", str(config), "--state-dir", str(tmp_path / "state"), "--from-start"]
    first = AgentProcess(args, tmp_path / "first.out")
    wait_for(lambda: firing(first.url), what="error_burst firing")
    wait_for(lambda: events(alerts) == [("fire", str(log))], what="the fire event in the alert file")
    checkpointed = httpx.get(f"{first.url}/api/status", timeout=5).json()["checkpoint"]["saves"]
    wait_for(
        lambda: httpx.get(f"{first.url}/api/status", timeout=5).json()["checkpoint"]["saves"] > checkpointed,
        what="a checkpoint saved after it fired",
    )
    assert first.kill() == -signal.SIGKILL

    second = AgentProcess(args, tmp_path / "second.out")
    [alert] = firing(second.url)  # at once, from the checkpoint
    assert alert["labels"] == {"source": str(log)}
    # the errors leave the 20 s window: it recovers, announced once; the fire is not announced again
    wait_for(lambda: not firing(second.url), timeout=60, what="error_burst to recover")
    wait_for(lambda: len(events(alerts)) == 2, what="the recover event in the alert file")
    assert events(alerts) == [("fire", str(log)), ("recover", str(log))]
    assert second.stop() == 0
