"""The ``nats:`` settings: defaults, the file, the environment, and what is refused (one line, exit 2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from loglens.config import load_settings
from loglens.errors import ConfigError
from server.agent_helpers import LOGLENS


def test_the_defaults_are_sane() -> None:
    nats = load_settings().nats
    assert nats.publish is None and nats.consume is None
    assert nats.stream.name == "LOGLENS" and nats.stream.subjects == ["loglens.lines.>"]
    assert nats.stream.max_age == 7 * 86400 and nats.stream.max_bytes == 1024**3
    assert nats.consumer.durable == "loglens" and nats.consumer.ack_wait_seconds == 30
    assert nats.publish_subject.startswith("loglens.lines.")


def test_the_file_and_the_environment_set_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(
        "nats:\n  consume: nats://10.0.0.5:4222\n  instance: proc1\n"
        "  stream: {name: WEB, max_age: 12h, max_bytes: 1048576}\n"
        "  consumer: {durable: web, batch_size: 4}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LOGLENS__NATS__CONSUMER__ACK_WAIT_SECONDS", "5")
    nats = load_settings(config).nats
    assert nats.consume == "nats://10.0.0.5:4222" and nats.instance == "proc1"
    assert (nats.stream.name, nats.stream.max_age, nats.stream.max_bytes) == ("WEB", 12 * 3600, 1048576)
    assert (nats.consumer.durable, nats.consumer.batch_size, nats.consumer.ack_wait_seconds) == ("web", 4, 5)


def test_a_host_becomes_one_subject_token() -> None:
    nats = load_settings(nats={"host": "web 1.example.com"}).nats
    assert nats.publish_subject == "loglens.lines.web_1_example_com"


@pytest.mark.parametrize(
    ("nats", "problem"),
    [
        ({"publish": "nats://a:1", "consume": "nats://a:1"}, "publishes or consumes, not both"),
        ({"stream": {"name": "has space"}}, "nats.stream.name"),
        ({"stream": {"max_bytes": 0}}, "nats.stream.max_bytes"),
        ({"consumer": {"ack_wait_seconds": 0}}, "nats.consumer.ack_wait_seconds"),
        ({"consume": "tcp://a:1"}, "is not nats://HOST:PORT"),
    ],
)
def test_bad_settings_are_one_clear_error(nats: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        load_settings(nats=nats)
    assert "\n" not in str(caught.value)


def test_loglens_check_refuses_a_bad_nats_section_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text("nats:\n  stream: {max_age: soon}\n", encoding="utf-8")
    done = subprocess.run(
        [LOGLENS, "check", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "nats.stream.max_age" in done.stderr + done.stdout
