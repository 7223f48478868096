"""Settings are validated completely when loaded: names, labels, zones; one line naming each problem."""

from __future__ import annotations

from typing import Any

import pytest

from loglens.config import load_settings
from loglens.errors import ConfigError


def _problem(**overrides: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, **overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ({"bad-label": "x"}, "'bad-label' is not a label name"),
        ({"__meta": "x"}, "'__meta' is not a label name"),
        ({"": "x"}, "'' is not a label name"),
        ({"source": "x"}, "label 'source' is set by loglens itself"),
        ({"env": "prod", "status": "x"}, "label 'status' is set by loglens itself"),
        ({"le": "x"}, "label 'le'"),
    ],
)
def test_extra_labels_must_be_label_names_loglens_does_not_set(labels: dict[str, str], fragment: str) -> None:
    message = _problem(sources=[{"path": "/var/log/a.log", "labels": labels}])
    assert "'sources.0.labels'" in message
    assert fragment in message


def test_good_extra_labels_are_kept() -> None:
    labels = {"env": "prod", "_dc": "1"}
    settings = load_settings(None, sources=[{"path": "/var/log/a.log", "labels": labels}])
    assert settings.sources[0].labels == labels


@pytest.mark.parametrize(
    ("push", "fragment"),
    [
        ({"prefix": "loglens"}, "under loglens_*"),
        ({"namespace": "loglens", "prefix": "lines"}, "'loglens_lines' would put pushed metrics"),
        ({"prefix": "process"}, "under process_*"),
        ({"prefix": "python_gc"}, "under python_*"),
        ({"prefix": "bad-prefix"}, "'push.prefix': Value error, 'bad-prefix' is not a metric name part"),
    ],
)
def test_a_push_prefix_that_would_take_loglens_names_is_refused(push: dict[str, str], fragment: str) -> None:
    assert fragment in _problem(push=push)


def test_an_empty_push_prefix_is_allowed() -> None:
    assert load_settings(None, push={"prefix": ""}).push.metric_prefix == ""


@pytest.mark.parametrize("zone", ["Mars/Olympus", "local", "Europe/Pariss"])
def test_a_zone_polars_does_not_know_is_refused(zone: str) -> None:
    message = _problem(parse={"timezone": zone})
    assert f"'parse.timezone': Value error, unknown time zone {zone!r}" in message


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_zones_polars_knows_are_kept(zone: str) -> None:
    assert load_settings(None, parse={"timezone": zone}).parse.timezone == zone
