"""Helpers for tests that run the agent for real: settings on a free port, waiting with a deadline, and
``loglens run`` as a subprocess."""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from loglens.config import Settings, load_settings

T = TypeVar("T")


def agent_settings(logs: Path, state_dir: Path, **overrides: Any) -> Settings:
    """Settings following ``logs/*.log`` from the start, on a free loopback port, polling fast."""
    values: dict[str, Any] = {
        "sources": [{"path": str(logs / "*.log")}],
        "server": {"listen": "127.0.0.1:0"},
        "state": {"dir": state_dir, "checkpoint_interval_seconds": 0.2},
        "tail": {"poll_interval_seconds": 0.02, "from_start": True},
    }
    values.update(overrides)
    return load_settings(None, **values)


def wait_for(
    probe: Callable[[], T | None], timeout: float = 20.0, what: str = "condition", last: object = None
) -> T:
    """Call ``probe`` until it returns something truthy, or fail after ``timeout`` seconds.

    ``last``, if given, is shown in the failure message (a list the probe fills with what it saw).
    """
    deadline = time.monotonic() + timeout
    value: T | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.TransportError:
            value = None
        if value:
            return value
        time.sleep(0.02)
    seen = last if last is not None else value
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last seen {seen!r}")


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as ``{(sample name, sorted labels): value}``."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def lines_total(url: str) -> dict[str, float]:
    """``loglens_lines_total`` by source."""
    samples = scrape(url).items()
    return {
        dict(labels)["source"]: value for (name, labels), value in samples if name == "loglens_lines_total"
    }


#: The ``loglens`` script of the environment running the tests.
LOGLENS = str(Path(sys.executable).parent / "loglens")
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def without_file_permission_bypass() -> None:
    """In a child before exec: drop the capabilities that let root ignore file modes.

    The tests run as root, for which ``chmod 000`` denies nothing; uid 65534 cannot run the interpreter
    (it lives under /root), so the child stays root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH,
    and a file's mode denies it as it would deny any user.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


#: Every AgentProcess started, so that none outlives its test (see tests/conftest.py).
RUNNING: list[AgentProcess] = []


class AgentProcess:
    """``loglens run ARGS --listen 127.0.0.1:0`` in a subprocess; its output goes to ``out``.

    Args:
        args: the arguments after ``run``.
        out: file of its stdout and stderr.
        preexec_fn: run in the child before exec (limits, capabilities).
        wait: wait for its URL (False for a run expected to exit at start-up).
        env: its environment (default: the tests').
    """

    def __init__(
        self,
        args: Sequence[str],
        out: Path,
        preexec_fn: Callable[[], None] | None = None,
        wait: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.out = out
        RUNNING.append(self)
        with open(out, "wb") as handle:
            self.process = subprocess.Popen(
                [LOGLENS, "run", *args, "--listen", "127.0.0.1:0"],
                stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=preexec_fn,
                env=None if env is None else dict(env),
            )  # fmt: skip
        self.url = wait_for(self._url, what="loglens to print its URL") if wait else ""

    def output(self) -> str:
        """What it printed so far."""
        return self.out.read_text(encoding="utf-8", errors="replace")

    def _url(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"loglens exited with {self.process.returncode}: {self.output()}")
        found = re.findall(r"metrics on (http://[\d.:]+)/metrics", self.output())
        return found[-1] if found else None

    def wait(self, timeout: float = 30) -> int:
        """Its exit status; killed if it has not exited within ``timeout`` seconds."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> int:
        """SIGKILL (no last checkpoint), then its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        return self.wait()

    def stop(self) -> int:
        """SIGTERM, then its exit status (it saves a last checkpoint first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait()
