"""What every test shares: no ``loglens run`` subprocess outlives the test that started it, and property
tests are judged by what they find, not by how long an example took."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from server.agent_helpers import RUNNING

# Hypothesis's deadline (200 ms an example) fails examples that a loaded machine merely ran slowly; tests
# never assert timings.
settings.register_profile("loglens", deadline=None)
settings.load_profile("loglens")


@pytest.fixture(autouse=True)
def _no_agent_left_running() -> Iterator[None]:
    yield
    while RUNNING:
        process = RUNNING.pop().process
        if process.poll() is None:
            process.kill()
            process.wait()
