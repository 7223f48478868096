"""Agents and processors over a real ``nats-server -js``: SIGKILL, a NATS restart, a full stream.

Every line written is counted exactly once over the processors and archived exactly once. The number
of lines is ``LOGLENS_NATS_LINES`` (default 500,000, split over the agents' logs).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from jetstream.fleet import (
    NatsServer,
    agent,
    archived_lines,
    generate,
    lines_counted,
    metric,
    processor,
    written_lines,
)
from server.agent_helpers import AgentProcess, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

LINES = int(os.environ.get("LOGLENS_NATS_LINES", "500000"))
#: Seconds the whole fleet may take to count everything (a loaded 2-core machine is slow).
DEADLINE = 600
#: The stream's size in the full-stream test: far less than the lines written.
LIMIT = 1024 * 1024


def logs_of(tmp: Path, agents: int, lines: int) -> list[Path]:
    """One folder of generated logs per agent, ``lines`` in all."""
    folders = []
    tmp.mkdir(exist_ok=True)
    for index in range(agents):
        folder = tmp / f"logs{index}"
        folder.mkdir()
        generate(folder / "access.log", lines // agents + (index < lines % agents), seed=40 + index)
        folders.append(folder)
    return folders


def stop_all(processes: list[AgentProcess]) -> None:
    """SIGTERM every process (each saves its checkpoint and closes its archive segments) and wait."""
    for process in processes:
        if process.process.poll() is None:
            process.process.send_signal(signal.SIGTERM)
    for process in processes:
        assert process.wait(timeout=120) in (0, -signal.SIGKILL), process.output()[-2000:]


def check_archives(tmp: Path, names: list[str], logs: list[Path]) -> None:
    """The processors' archives together hold every written line exactly once."""
    written = sum((written_lines(folder) for folder in logs), start=written_lines(tmp / "none"))
    archived = sum((archived_lines(tmp / name) for name in names), start=archived_lines(tmp / "none"))
    assert sum(archived.values()) == sum(written.values())
    assert archived == written


def test_two_agents_three_processors_one_killed_and_replaced(nats_server: NatsServer, tmp_path: Path) -> None:
    logs = logs_of(tmp_path, 2, LINES)
    names = ["p1", "p2", "p3"]
    processors = [processor(tmp_path, name, nats_server.url) for name in names]
    agents = [agent(tmp_path, f"agent{i}", folder, nats_server.url) for i, folder in enumerate(logs)]
    victim = processors[0]
    wait_for(lambda: metric(victim.url, "loglens_nats_acked_batches_total") >= 2, timeout=DEADLINE,
             what="the first processor to apply and acknowledge batches")  # fmt: skip
    assert lines_counted(processors) < LINES, "the kill is to land mid-run"
    assert victim.kill() == -signal.SIGKILL
    replacement = processor(tmp_path, "p1", nats_server.url)  # on the killed one's state folder
    running = [replacement, *processors[1:]]
    wait_for(lambda: lines_counted(running) >= LINES, timeout=DEADLINE, what=f"{LINES} lines counted")
    assert lines_counted(running) == LINES
    wait_for(lambda: nats_server.stream().get("messages") == 0, timeout=60, what="the stream drained")
    assert lines_counted(running) == LINES
    stop_all([*agents, *running])
    check_archives(tmp_path, names, logs)


class Feeder(threading.Thread):
    """Appends the lines of generated logs to the followed ones in paced chunks; ``halfway`` is set
    when half are written."""

    def __init__(self, pairs: list[tuple[Path, Path]], chunks: int = 20) -> None:
        super().__init__(daemon=True)
        self.pairs, self.chunks = pairs, chunks
        self.halfway = threading.Event()

    def run(self) -> None:
        texts = [(target, source.read_bytes().splitlines(keepends=True)) for source, target in self.pairs]
        for index in range(self.chunks):
            for target, lines in texts:
                step = -(-len(lines) // self.chunks)
                with open(target, "ab") as handle:
                    handle.writelines(lines[index * step : (index + 1) * step])
            if index + 1 == self.chunks // 2:
                self.halfway.set()
            threading.Event().wait(0.2)  # pace the stream, so that NATS restarts mid-way


def test_nats_restarted_mid_run_loses_and_doubles_nothing(nats_server: NatsServer, tmp_path: Path) -> None:
    staged = logs_of(tmp_path / "staged", 2, LINES // 5)
    total = LINES // 5
    logs = []
    for index in range(2):
        (tmp_path / f"logs{index}").mkdir()
        (tmp_path / f"logs{index}" / "access.log").touch()
        logs.append(tmp_path / f"logs{index}")
    feeder = Feeder([(staged[i] / "access.log", logs[i] / "access.log") for i in range(2)])
    agents = [agent(tmp_path, f"agent{i}", folder, nats_server.url) for i, folder in enumerate(logs)]
    processors = [processor(tmp_path, name, nats_server.url) for name in ("p1", "p2")]
    feeder.start()
    assert feeder.halfway.wait(120)
    nats_server.stop()
    assert lines_counted(processors) < total, "NATS is to restart mid-run"
    nats_server.start()  # the same port and store folder
    feeder.join(timeout=120)
    wait_for(lambda: lines_counted(processors) >= total, timeout=DEADLINE, what=f"{total} lines counted")
    wait_for(lambda: nats_server.stream().get("messages") == 0, timeout=60, what="the stream drained")
    assert lines_counted(processors) == total
    assert all(metric(a.url, "loglens_nats_connected") == 1 for a in agents)
    stop_all([*agents, *processors])
    check_archives(tmp_path, ["p1", "p2"], logs)


def test_full_stream_pauses_the_agents_then_they_resume(nats_server: NatsServer, tmp_path: Path) -> None:
    logs = logs_of(tmp_path, 2, LINES // 5)
    total = LINES // 5
    small = {
        "LOGLENS__NATS__STREAM__MAX_BYTES": str(LIMIT),
        "LOGLENS__NATS__MAX_MESSAGE_BYTES": str(LIMIT // 4),
        "LOGLENS__NATS__MAX_OUTBOX_BYTES": str(LIMIT // 2),
    }
    agents = [agent(tmp_path, f"agent{i}", folder, nats_server.url, small) for i, folder in enumerate(logs)]
    wait_for(lambda: all(metric(a.url, "loglens_nats_paused") == 1 for a in agents), timeout=DEADLINE,
             what="both agents paused on the full stream")  # fmt: skip
    assert all(metric(a.url, "loglens_nats_publish_failures_total") > 0 for a in agents)
    assert nats_server.stream()["bytes"] <= LIMIT
    processors = [processor(tmp_path, name, nats_server.url) for name in ("p1", "p2")]
    wait_for(lambda: lines_counted(processors) >= total, timeout=DEADLINE, what=f"{total} lines counted")
    wait_for(lambda: nats_server.stream().get("messages") == 0, timeout=60, what="the stream drained")
    assert lines_counted(processors) == total
    assert all(metric(a.url, "loglens_nats_paused") == 0 for a in agents)
    stop_all([*agents, *processors])
    check_archives(tmp_path, ["p1", "p2"], logs)


def test_an_agent_killed_and_restarted_loses_no_line(nats_server: NatsServer, tmp_path: Path) -> None:
    """At least once past an agent's death: every line is counted; those it published after its last
    checkpoint may be counted again (docs/scale.md), never more than it had read."""
    staged = logs_of(tmp_path / "staged", 1, LINES // 5)
    (tmp_path / "logs0").mkdir()
    (tmp_path / "logs0" / "access.log").touch()
    feeder = Feeder([(staged[0] / "access.log", tmp_path / "logs0" / "access.log")])
    first = agent(tmp_path, "agent0", tmp_path / "logs0", nats_server.url)
    processors = [processor(tmp_path, name, nats_server.url) for name in ("p1", "p2")]
    feeder.start()
    assert feeder.halfway.wait(120)
    assert first.kill() == -signal.SIGKILL
    read_at_most = sum(written_lines(tmp_path / "logs0").values())  # what it can have read and published
    again = agent(tmp_path, "agent0", tmp_path / "logs0", nats_server.url)  # on its state folder
    feeder.join(timeout=120)
    total = LINES // 5
    wait_for(lambda: lines_counted(processors) >= total, timeout=DEADLINE, what=f"{total} lines counted")
    wait_for(lambda: nats_server.stream().get("messages") == 0, timeout=60, what="the stream drained")
    counted = lines_counted(processors)
    assert total <= counted <= total + read_at_most
    stop_all([again, *processors])
    archived = archived_lines(tmp_path / "p1") + archived_lines(tmp_path / "p2")
    written = written_lines(tmp_path / "logs0")
    assert set(archived) == set(written) and all(archived[line] >= count for line, count in written.items())
