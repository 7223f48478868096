"""The NATS publisher and consumer in a runtime of this process, against a real ``nats-server -js``:
offsets are checkpointed only past what JetStream acknowledged, and batches are acknowledged only
after a checkpoint holds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from jetstream.fleet import NatsServer
from loglens.config import Settings, load_settings
from loglens.jetstream.config import NatsConfig
from loglens.runtime import Runtime
from loglens.sinks.nats_publisher import NatsPublisher
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_state import FileState
from loglens.sources.file_tail import FileFollower
from loglens.sources.nats_consumer import NatsConsumer, ParseSettings
from server.agent_helpers import wait_for
from support import REAL, free_port

pytestmark = pytest.mark.integration

LINES = (REAL / "apache_combined_10k.log").read_text(encoding="utf-8").splitlines(keepends=True)[:200]


def _settings(tmp: Path, name: str) -> Settings:
    return load_settings(state={"dir": tmp / name})


def _follower(tmp: Path) -> FileFollower:
    (tmp / "a.log").write_text("".join(LINES), encoding="utf-8")
    return FileFollower([SourceSpec(str(tmp / "a.log"), "auto", None)], from_start=True)


def _saved_offset(runtime: Runtime) -> int:
    assert runtime.store is not None
    snapshot = runtime.store.load()
    if snapshot is None:
        return 0
    (source,) = snapshot.sources.values()
    return sum(FileState.from_row(row).offset for row in source["files"])


def test_a_publisher_checkpoints_its_offsets_only_once_jetstream_has_the_lines(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    publisher = NatsPublisher(NatsConfig(publish=nats_server.url, host="web1"))
    runtime = Runtime(_settings(tmp_path, "agent"), [_follower(tmp_path)], [publisher])
    runtime.open()
    try:
        runtime.poll_once()
        runtime.checkpoint()  # waits for JetStream's acknowledgements
        assert _saved_offset(runtime) == sum(len(line) for line in LINES)
        assert nats_server.stream()["messages"] == publisher.published >= 1
        assert publisher.published_lines == 200
        (status,) = runtime.query.sinks()
        assert status.written >= 1 and status.healthy
    finally:
        runtime.close()


def test_with_nats_gone_the_lines_are_kept_and_the_checkpoint_waits(tmp_path: Path) -> None:
    nowhere = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    publisher = NatsPublisher(NatsConfig(publish=nowhere, host="web1", max_outbox_bytes=1024))
    runtime = Runtime(_settings(tmp_path, "agent"), [_follower(tmp_path)], [publisher])
    runtime.open()
    try:
        runtime.poll_once()
        assert runtime.totals.sources[str(tmp_path / "a.log")].lines == 200  # counted here all the same
        runtime.checkpoint()
        assert runtime.checkpoints_held == 1 and _saved_offset(runtime) == 0
        assert runtime.checkpoint_failures == 0 and runtime.checkpoint_healthy  # live, not ready
        assert not publisher.accepting() and publisher.outbox_messages >= 1
        (status,) = runtime.query.sinks()
        assert not status.healthy and status.last_error
    finally:
        runtime.close()


def test_a_consumer_acknowledges_only_what_a_checkpoint_holds(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    publisher = NatsPublisher(NatsConfig(publish=nats_server.url, host="web1"))
    agent = Runtime(_settings(tmp_path, "agent"), [_follower(tmp_path)], [publisher])
    agent.open()
    agent.poll_once()
    agent.checkpoint()
    agent.close()
    config = NatsConfig(consume=nats_server.url)
    consumer = NatsConsumer(config, ParseSettings())
    processor = Runtime(_settings(tmp_path, "processor"), [consumer])
    processor.open()
    try:
        label = f"web1:{tmp_path / 'a.log'}"

        def polled() -> bool:
            processor.poll_once()
            return label in processor.totals.sources and processor.totals.sources[label].lines == 200

        wait_for(polled, timeout=30, what="the 200 lines consumed")
        assert consumer.acked == 0 and nats_server.stream()["messages"] >= 1
        processor.checkpoint()
        assert consumer.acked == consumer.consumed >= 1
        wait_for(lambda: nats_server.stream()["messages"] == 0, timeout=30, what="the acknowledged deleted")
        assert consumer.labels_of(label) == {"host": "web1"}
    finally:
        processor.close()


def test_a_stopping_consumer_sends_its_acknowledgements_first(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    publisher = NatsPublisher(NatsConfig(publish=nats_server.url, host="web1", max_message_bytes=2048))
    agent = Runtime(_settings(tmp_path, "agent"), [_follower(tmp_path)], [publisher])
    agent.open()
    agent.poll_once()
    agent.checkpoint()
    agent.close()
    assert nats_server.stream()["messages"] >= 10
    consumer = NatsConsumer(NatsConfig(consume=nats_server.url), ParseSettings())
    processor = Runtime(_settings(tmp_path, "processor"), [consumer])
    processor.open()
    label = f"web1:{tmp_path / 'a.log'}"

    def polled() -> bool:
        processor.poll_once()
        return label in processor.totals.sources and processor.totals.sources[label].lines == 200

    wait_for(polled, timeout=30, what="the 200 lines consumed")
    processor.stop()  # the last checkpoint, then its acknowledgements, then the connection closes
    assert consumer.acked == consumer.consumed
    wait_for(lambda: nats_server.stream()["messages"] == 0, timeout=10, what="every message acknowledged")


def test_a_processor_killed_before_its_acknowledgements_acknowledges_them_when_started_again(
    nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = NatsPublisher(NatsConfig(publish=nats_server.url, host="web1", max_message_bytes=2048))
    agent = Runtime(_settings(tmp_path, "agent"), [_follower(tmp_path)], [publisher])
    agent.open()
    agent.poll_once()
    agent.checkpoint()
    agent.close()
    published = nats_server.stream()["messages"]
    assert published >= 10
    # An ack wait far longer than the test waits: only an acknowledgement can empty the stream in time.
    config = NatsConfig(consume=nats_server.url, consumer={"ack_wait_seconds": 300})
    label = f"web1:{tmp_path / 'a.log'}"
    first = NatsConsumer(config, ParseSettings())
    monkeypatch.setattr(first, "committed", lambda state: None)  # killed once the checkpoint is saved
    processor = Runtime(_settings(tmp_path, "processor"), [first])
    processor.open()

    def polled() -> bool:
        processor.poll_once()
        return label in processor.totals.sources and processor.totals.sources[label].lines == 200

    wait_for(polled, timeout=30, what="the 200 lines consumed")
    processor.checkpoint()
    processor.close()  # its checkpoint saved, and not one acknowledgement sent
    assert first.acked == 0 and nats_server.stream()["messages"] == published
    second = NatsConsumer(config, ParseSettings())
    again = Runtime(_settings(tmp_path, "processor"), [second])
    again.open()
    try:

        def acknowledged() -> bool:
            again.poll_once()
            return nats_server.stream()["messages"] == 0

        wait_for(acknowledged, timeout=30, what="the last run's batches acknowledged")
        assert second.acked == published and second.consumed == 0
        assert again.totals.sources[label].lines == 200  # from the checkpoint, not counted again
    finally:
        again.close()
