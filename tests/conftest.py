"""What every test shares: no ``loglens run`` subprocess outlives the test that started it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.agent_helpers import RUNNING


@pytest.fixture(autouse=True)
def _no_agent_left_running() -> Iterator[None]:
    yield
    while RUNNING:
        process = RUNNING.pop().process
        if process.poll() is None:
            process.kill()
            process.wait()
