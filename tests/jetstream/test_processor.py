"""A processor over a real ``nats-server -js``: malformed messages, its ``instance`` label, bad URLs."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import nats
import pytest

from jetstream.fleet import NatsServer, agent, generate, lines_counted, metric, processor
from server.agent_helpers import LOGLENS, scrape, wait_for

pytestmark = pytest.mark.integration


async def _publish(url: str, subject: str, payloads: list[bytes]) -> None:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        for payload in payloads:
            await js.publish(subject, payload)
    finally:
        await client.close()


def test_a_malformed_message_is_counted_terminated_and_the_rest_goes_on(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    generate(logs / "access.log", 3000, seed=5)
    sender = agent(tmp_path, "agent", logs, nats_server.url)  # (it creates the stream)
    first = processor(tmp_path, "p1", nats_server.url)
    wait_for(lambda: lines_counted([first]) == 3000, timeout=120, what="the agent's lines counted")
    garbage = [b"not a batch", b'{"v": 1}\nline', b"\xff" * 100, b""]
    asyncio.run(_publish(nats_server.url, "loglens.lines.intruder", garbage))
    wait_for(lambda: metric(first.url, "loglens_nats_malformed_messages_total") == len(garbage), timeout=60,
             what="the malformed messages counted")  # fmt: skip
    wait_for(lambda: nats_server.stream().get("messages") == 0, timeout=60, what="them terminated")
    with open(logs / "access.log", "a", encoding="utf-8") as handle:
        handle.write('10.1.1.1 - - [01/Apr/2025:00:00:00 +0000] "GET /after HTTP/1.1" 200 5 "-" "t"\n')
    wait_for(lambda: lines_counted([first]) == 3001, timeout=60, what="a line after them counted")
    assert first.process.poll() is None
    errors = scrape(first.url)
    assert any(name == "loglens_source_errors_total" and ("reason", "malformed") in labels
               for (name, labels) in errors)  # fmt: skip
    assert sender.process.poll() is None


def test_every_sample_of_a_processor_carries_its_instance(nats_server: NatsServer, tmp_path: Path) -> None:
    named = processor(tmp_path, "p1", nats_server.url)  # --instance p1
    samples = scrape(named.url)
    assert samples
    assert all(dict(labels).get("instance") == "p1" for (_, labels) in samples)
    assert ("loglens_nats_consumer_pending", (("instance", "p1"),)) in samples


@pytest.mark.parametrize("flag", ["--publish", "--consume"])
@pytest.mark.parametrize("url", ["http://127.0.0.1:4222", "nats://127.0.0.1", "nats://:4222", "4222"])
def test_a_bad_nats_url_exits_2_with_one_line(flag: str, url: str, tmp_path: Path) -> None:
    done = subprocess.run([LOGLENS, "run", flag, url, "--state-dir", str(tmp_path)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "nats" in lines[0] and "nats://HOST:PORT" in lines[0]
