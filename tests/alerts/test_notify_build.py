"""``build_notifiers``: one notifier per ``notify:`` entry, the file notifier among them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from alerts.notify_helpers import events, rule
from loglens.alerts.alertmanager import AlertmanagerNotifier
from loglens.alerts.email import EmailNotifier
from loglens.alerts.file import FileNotifier
from loglens.alerts.notifiers import build_notifiers
from loglens.alerts.webhook import SlackNotifier, WebhookNotifier
from loglens.config import load_settings
from loglens.errors import ConfigError
from server.agent_helpers import wait_for


def test_each_entry_makes_its_notifier_in_order(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        notify=[
            {"file": str(tmp_path / "alerts.jsonl")},
            {"webhook": "http://127.0.0.1:9000/hook"},
            {"slack": "http://127.0.0.1:9000/slack"},
            {"email": {"smtp": "127.0.0.1:2525", "from": "loglens@example.org", "to": ["a@example.org"]}},
            {"alertmanager": "http://127.0.0.1:9093/"},
        ],
    )
    notifiers = build_notifiers(settings.notify, "http://loglens.example:8080/", capacity=7)
    kinds = [type(notifier) for notifier in notifiers]
    assert kinds == [FileNotifier, WebhookNotifier, SlackNotifier, EmailNotifier, AlertmanagerNotifier]
    assert [notifier.kind for notifier in notifiers] == [config.kind for config in settings.notify]
    assert {notifier.capacity for notifier in notifiers} == {7}
    alertmanager = notifiers[-1]
    assert isinstance(alertmanager, AlertmanagerNotifier)
    assert alertmanager.url == "http://127.0.0.1:9093/api/v2/alerts"
    assert alertmanager.generator_url == "http://loglens.example:8080/api/alerts"
    described = [config.describe() for config in settings.notify]
    assert [notifier.describe() for notifier in notifiers] == described
    for notifier in notifiers:
        notifier.close()


def test_the_file_notifier_appends_each_event_as_a_line(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    settings = load_settings(None, notify=[{"file": str(path)}])
    (notifier,) = build_notifiers(settings.notify, "http://127.0.0.1:8080")
    fire, recover = events(rule(), source="web")
    notifier.send(fire)
    notifier.send(recover)
    wait_for(lambda: path.exists() and len(path.read_bytes().splitlines()) == 2)
    notifier.close()
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert lines == [fire.to_dict(), recover.to_dict()]
    assert notifier.counts["sent"] == 2


def test_an_unwritable_file_is_a_start_up_error(tmp_path: Path) -> None:
    settings = load_settings(None, notify=[{"file": str(tmp_path / "missing" / "alerts.jsonl")}])
    with pytest.raises(ConfigError, match="cannot open alert log"):
        build_notifiers(settings.notify, "http://127.0.0.1:8080")
