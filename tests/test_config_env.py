"""``LOGLENS__*`` variables: nested by ``__``, any case, JSON for lists and sections; over the file, under
the flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loglens.config import Settings, load_settings
from loglens.config_env import environment_values, merge
from loglens.errors import ConfigError


def test_a_variable_sets_a_key_of_its_section_in_any_case() -> None:
    env = {"LOGLENS__SERVER__LISTEN": ":9000", "loglens__tail__from_start": "true", "PATH": "/bin"}
    expected = {"server": {"listen": ":9000"}, "tail": {"from_start": "true"}}
    assert environment_values(Settings, env) == expected


def test_lists_and_sections_are_json_and_deeper_variables_merge_into_them() -> None:
    env = {
        "LOGLENS__SOURCES": '[{"path": "a.log"}]',
        "LOGLENS__ARCHIVE": '{"files": true}',
        "LOGLENS__ARCHIVE__S3__BUCKET": "logs",
        "LOGLENS__SYSLOG__LISTEN": '["udp://127.0.0.1:5514"]',
    }
    assert environment_values(Settings, env) == {
        "sources": [{"path": "a.log"}],
        "archive": {"files": True, "s3": {"bucket": "logs"}},
        "syslog": {"listen": ["udp://127.0.0.1:5514"]},
    }


def test_a_variable_that_names_no_setting_is_ignored_but_an_unknown_key_of_a_section_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert environment_values(Settings, {"LOGLENS__NOPE": "x", "LOGLENS__NOPE__X": "y"}) == {}
    monkeypatch.setenv("LOGLENS__SERVER__LISTN", ":1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == "environment variable LOGLENS__SERVER__LISTN: unknown key 'server.listn'"


@pytest.mark.parametrize("name", ["LOGLENS__SYSLOG__LISTEN", "LOGLENS__ARCHIVE__S3", "LOGLENS__NOTIFY"])
def test_a_value_that_must_be_json_and_is_not_names_its_variable(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        environment_values(Settings, {name: "udp://127.0.0.1:5514"})
    assert str(caught.value).startswith(f"environment variable {name} is not valid JSON: ")


def test_the_environment_is_over_the_file_and_under_the_flags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(
        "server: {listen: ':1'}\nlimits: {section_limit: 7}\narchive: {files: true, s3: {prefix: p/}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LOGLENS__SERVER__LISTEN", ":2")
    monkeypatch.setenv("LOGLENS__LIMITS__SECTION_LIMIT", "8")
    monkeypatch.setenv("LOGLENS__ARCHIVE__S3__BUCKET", "env")
    settings = load_settings(config, limits={"section_limit": 9})
    assert settings.server.listen.endswith(":2")
    assert settings.limits.section_limit == 9
    assert settings.archive.files is True
    assert settings.archive.s3.bucket == "env"
    assert settings.archive.s3.prefix == "p"


_trees = st.recursive(
    st.integers() | st.text(max_size=3) | st.lists(st.integers(), max_size=2),
    lambda children: st.dictionaries(st.sampled_from("abc"), children, min_size=1, max_size=3),
    max_leaves=12,
)


def _leaves(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in _leaves(value, (*path, key)).items()}
    return {path: tree}


@given(st.dictionaries(st.sampled_from("abc"), _trees), st.dictionaries(st.sampled_from("abc"), _trees))
def test_merge_keeps_every_leaf_laid_over_and_those_below_it_does_not_cover(
    base: dict[str, Any], over: dict[str, Any]
) -> None:
    merged = _leaves(merge(base, over))
    top = _leaves(over)
    for path, value in top.items():
        assert merged[path] == value
    for path, value in _leaves(base).items():
        covered = any(path[: len(p)] == p or p[: len(path)] == path for p in top)
        if not covered:
            assert merged[path] == value
