"""Settings are validated completely when loaded: names, labels, zones; one line naming each problem."""

from __future__ import annotations

import os
from pathlib import Path
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
        ({"prefix": "bad-prefix"}, "'push.prefix': 'bad-prefix' is not a metric name part"),
    ],
)
def test_a_push_prefix_that_would_take_loglens_names_is_refused(push: dict[str, str], fragment: str) -> None:
    assert fragment in _problem(push=push)


def test_an_empty_push_prefix_is_allowed() -> None:
    assert load_settings(None, push={"prefix": ""}).push.metric_prefix == ""


@pytest.mark.parametrize("zone", ["Mars/Olympus", "local", "Europe/Pariss"])
def test_a_zone_polars_does_not_know_is_refused(zone: str) -> None:
    message = _problem(parse={"timezone": zone})
    assert f"'parse.timezone': unknown time zone {zone!r}" in message


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_zones_polars_knows_are_kept(zone: str) -> None:
    assert load_settings(None, parse={"timezone": zone}).parse.timezone == zone


@pytest.mark.parametrize(
    ("text", "key", "line", "first"),
    [
        ("server:\n  listen: 127.0.0.1:1\nserver:\n  listen: 127.0.0.1:2\n", "server", 3, 1),
        ("tail:\n  from_start: true\n  poll_interval_seconds: 1\n  from_start: false\n", "from_start", 4, 2),
        ("sources:\n  - path: a.log\n    name: a\n    name: b\n", "name", 4, 3),
    ],
)
def test_a_key_given_twice_in_yaml_is_refused_with_its_line(
    tmp_path: Path, text: str, key: str, line: int, first: int
) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == (
        f"config file {config} line {line} is not valid YAML: duplicate key {key!r} (first on line {first})"
    )


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(
        "sources:\n  - &base {path: a.log, format: level, name: a}\n  - <<: *base\n    name: b\n",
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert [(s.name, s.format) for s in settings.sources] == [("a", "level"), ("b", "level")]


@pytest.mark.parametrize("value", ["[{", "", '{"path": '])
def test_broken_json_in_an_environment_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LOGLENS__SOURCES", value)
    message = _problem()
    assert message.startswith("environment variable LOGLENS__SOURCES is not valid JSON: ")


def test_a_bad_value_is_blamed_on_where_it_came_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text("limits:\n  section_limit: 0\n", encoding="utf-8")
    monkeypatch.setenv("LOGLENS__SERVER__LISTEN", "nowhere")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == (
        "environment variable LOGLENS__SERVER__LISTEN: 'server.listen': expected HOST:PORT, :PORT or PORT "
        f"(0-65535), got 'nowhere'; {config}: 'limits.section_limit': "
        "Input should be greater than or equal to 1"
    )


def test_a_bad_flag_value_is_blamed_on_the_flag() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(server={"listen": "host:http"}, parse={"timezone": "Mars/Olympus"})
    problems = str(caught.value).split("; ")
    expected = "expected HOST:PORT, :PORT or PORT (0-65535), got 'host:http'"
    assert problems[0] == f"--listen: 'server.listen': {expected}"
    assert problems[1].startswith("--timezone: 'parse.timezone': unknown time zone 'Mars/Olympus'")


@pytest.mark.parametrize(
    ("given", "listen", "loopback"),
    [
        ("127.0.0.1:9911", "127.0.0.1:9911", True),
        (":9911", "0.0.0.0:9911", False),
        ("9911", "127.0.0.1:9911", True),
        (9911, "127.0.0.1:9911", True),
        ("localhost:80", "localhost:80", True),
        ("[::1]:9911", "[::1]:9911", True),
        ("[::]:9911", "[::]:9911", False),
        ("10.0.0.5:0", "10.0.0.5:0", False),
    ],
)
def test_listen_takes_host_port_colon_port_and_a_bare_port(
    given: object, listen: str, loopback: bool
) -> None:
    server = load_settings(server={"listen": given}).server
    assert (server.listen, server.loopback) == (listen, loopback)


@pytest.mark.parametrize("given", ["", ":", "host:", "9911:host", "70000", ":-1", "[::1:9911", "a b"])
def test_listen_refuses_what_is_not_an_address(given: str) -> None:
    with pytest.raises(ConfigError, match="expected HOST:PORT, :PORT or PORT"):
        load_settings(server={"listen": given})


def test_the_default_state_folder_follows_xdg_and_not_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert load_settings().state.dir == tmp_path / "xdg" / "loglens"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the spec: relative paths are invalid
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_settings().state.dir == tmp_path / "home" / ".local" / "state" / "loglens"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert load_settings().state.dir == Path("/var/lib/loglens")
