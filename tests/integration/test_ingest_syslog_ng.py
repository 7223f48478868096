"""syslog-ng, a real shipper no one here wrote, forwards a file's lines to ``/api/logs`` through its
``http()`` destination, in batches; every line arrives once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loglens.agent import Agent
from server.agent_helpers import agent_settings, lines_total, scrape, wait_for
from support import require_tool

pytestmark = pytest.mark.integration

CONFIG = """\
@version: 3.38
options {{ stats_freq(0); keep-hostname(yes); }};
source s_app {{ file("{log}" follow-freq(0.1) flags(no-parse)); }};
destination d_loglens {{
  http(url("{url}/api/logs?source=syslog-ng&format=combined") method("POST")
       headers("Content-Type: text/plain") body("${{MESSAGE}}")
       batch-lines(100) batch-timeout(200));
}};
log {{ source(s_app); destination(d_loglens); }};
"""
LINE = '192.0.2.{a} - - [01/Dec/2026:07:{m:02d}:{s:02d} +0000] "GET /shop/{n} HTTP/1.1" {status} {n}'


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    (tmp_path / "logs").mkdir()
    running = Agent(agent_settings(tmp_path / "logs", tmp_path / "state")).start()
    yield running
    if running.runtime._thread is not None:  # not stopped by the test
        running.stop()


def test_every_line_syslog_ng_forwards_is_counted_and_archived_once(tmp_path: Path, agent: Agent) -> None:
    syslog_ng = require_tool("syslog-ng", "syslog-ng-core syslog-ng-mod-http")
    log = tmp_path / "app.log"
    lines = [
        LINE.format(a=n % 200, m=n // 60 % 60, s=n % 60, n=n, status=(200, 404, 500)[n % 3])
        for n in range(3000)
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tmp_path / "syslog-ng.conf"
    config.write_text(CONFIG.format(log=log, url=agent.url), encoding="utf-8")
    run = tmp_path / "run"
    run.mkdir()
    with open(tmp_path / "syslog-ng.out", "wb") as out:
        shipper = subprocess.Popen(
            [syslog_ng, "-F", "-f", str(config), f"--persist-file={run / 'persist'}",
             f"--pidfile={run / 'pid'}", f"--control={run / 'ctl'}", "--no-caps"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:

        def arrived() -> bool:
            if shipper.poll() is not None:
                output = (tmp_path / "syslog-ng.out").read_text(errors="replace")
                raise AssertionError(f"syslog-ng exited with {shipper.returncode}: {output}")
            return lines_total(agent.url).get("syslog-ng") == len(lines)

        wait_for(arrived, timeout=60, what=f"{len(lines)} lines from syslog-ng")
    finally:
        shipper.terminate()
        shipper.wait(timeout=30)
    samples = scrape(agent.url)
    by_status = {
        dict(labels)["status"]: value
        for (name, labels), value in samples.items()
        if name == "loglens_http_requests_total" and ("source", "syslog-ng") in labels
    }
    assert by_status == {"200": 1000, "404": 1000, "500": 1000}
    assert samples[("loglens_parse_errors_total", (("reason", "no_match"), ("source", "syslog-ng")))] == 0
    agent.stop()
    archive = [
        str(Path(sys.executable).parent / "loglens"),
        "archive",
        "cat",
        "--state-dir",
        str(tmp_path / "state"),
    ]
    archived = subprocess.run(
        archive, capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert sorted(archived) == sorted(lines)
