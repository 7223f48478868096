"""The ingest tests' agent: a real ``Agent`` on a free port, with the ingest settings a test names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loglens.agent import Agent
from loglens.clock import Clock
from server.agent_helpers import agent_settings


@pytest.fixture
def make_agent(tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    """Start agents (``make_agent(clock=..., syslog=..., **ingest settings)``), each with its own state
    folder over ``tmp_path/logs``; all are stopped at the end of the test."""
    agents: list[Agent] = []

    def make(clock: Clock | None = None, syslog: dict[str, Any] | None = None, **ingest: Any) -> Agent:
        (tmp_path / "logs").mkdir(exist_ok=True)
        sections: dict[str, Any] = {"syslog": syslog} if syslog else {}
        settings = agent_settings(
            tmp_path / "logs", tmp_path / f"state{len(agents)}", ingest=ingest or None, **sections
        )
        agents.append(Agent(settings, clock=clock).start())
        return agents[-1]

    yield make
    for agent in agents:
        agent.stop()
