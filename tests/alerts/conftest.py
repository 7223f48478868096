"""Fixtures of the alert tests that run real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import free_port, require_tool, serving


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """Alertmanager's base URL: one peer (no cluster), every alert routed to a receiver that does nothing."""
    binary = require_tool("prometheus-alertmanager", "prometheus-alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n', encoding="utf-8")
    listen = f"127.0.0.1:{free_port()}"
    args = [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address={listen}", "--cluster.listen-address="]  # fmt: skip
    with serving(args, tmp_path / "alertmanager.out", f"http://{listen}/-/ready", "Alertmanager"):
        yield f"http://{listen}"
