"""``loglens alerts export``: each rule kind, Match field, ``by``, ``for``, templates and left-out rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.rule_strategies import ISSUE_RULES, RULES
from loglens.alerts.config import RuleConfig
from loglens.alerts.export import duration, export_rules, number, template, translate
from loglens.cli import main


def rule(**fields: Any) -> RuleConfig:
    return RuleConfig.model_validate({"name": "r", "threshold": 1, **fields})


def exported(**fields: Any) -> dict[str, Any]:
    result = translate(rule(**fields))
    assert result.rule is not None, result.left_out
    return result.rule


def expr(**fields: Any) -> str:
    text: str = exported(**fields)["expr"]
    return text


def left_out(**fields: Any) -> str:
    result = translate(rule(**fields))
    assert result.rule is None, result.rule
    assert result.left_out is not None
    return result.left_out


def test_each_kind_of_the_issue_example() -> None:
    assert expr(rate={}, window="120s", op=">=", threshold=10) == (
        "(sum(rate(loglens_http_requests_total[120s])) or vector(0)) >= 10"
    )
    assert expr(count={"level": "ERROR"}, window="60s", threshold=11) == (
        '(sum(increase(loglens_log_messages_total{level="ERROR"}[60s])) or vector(0)) >= 11'
    )
    assert expr(ratio={"numerator": {"status": "5xx"}}, window="5m", op=">", threshold=0.05) == (
        '(sum(rate(loglens_http_requests_total{status=~"5.."}[300s])) or vector(0))'
        " / (sum(rate(loglens_http_requests_total[300s])) > 0) > 0.05"
    )
    assert expr(quantile={"q": 0.99}, window="5m", op=">", threshold=2.5) == (
        "histogram_quantile(0.99, sum by (le) (rate(loglens_http_request_duration_seconds_bucket[300s])))"
        " > 2.5"
    )


@pytest.mark.parametrize(
    ("match", "selector"),
    [
        ({}, "loglens_http_requests_total"),
        ({"level": "warning"}, 'loglens_log_messages_total{level="WARNING"}'),
        ({"level": "ERROR", "source": "app"}, 'loglens_log_messages_total{source="app",level="ERROR"}'),
        ({"source": 'we"b\\1'}, 'loglens_http_requests_total{source="we\\"b\\\\1"}'),
        ({"section": "/api"}, 'loglens_http_section_requests_total{section="/api"}'),
        ({"status": 404}, 'loglens_http_requests_total{status="404"}'),
        ({"status": "4XX"}, 'loglens_http_requests_total{status=~"4.."}'),
        ({"method": "POST", "status": "5xx"}, 'loglens_http_requests_total{method="POST",status=~"5.."}'),
    ],
)
def test_each_match_field_selects_its_label(match: dict[str, Any], selector: str) -> None:
    assert expr(count=match) == f"(sum(increase({selector}[60s])) or vector(0)) >= 1"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"count": {"message": "timed? out"}}, "message: no metric carries the messages"),
        ({"rate": {"service": "api"}}, "service: no metric carries a service label"),
        ({"count": {"level": "ERROR", "status": "5xx"}}, "level with status: no metric carries both"),
        ({"count": {"section": "/api", "method": "GET"}}, "sections are counted apart from them"),
        ({"count": {"method": "PROPFIND"}}, "method 'PROPFIND': counted as OTHER"),
        ({"quantile": {"q": 0.5, "of": "bytes"}}, "response sizes are a counter, not a histogram"),
        ({"quantile": {"q": 0.5, "status": "5xx"}}, "quantile with status: the duration histogram"),
        ({"quantile": {"q": 0.5}, "by": ["method"]}, "by: method: loglens_http_request_duration_seconds"),
        ({"count": {"level": "ERROR"}, "by": ["status"]}, "by: status: loglens_log_messages_total has no"),
        ({"rate": {}, "by": ["service"]}, "by: service: loglens_http_requests_total has no such label"),
        ({"ratio": {"numerator": {"message": "x"}}}, "message: no metric"),
        ({"ratio": {"numerator": {}, "denominator": {"service": "a"}}}, "service: no metric"),
        ({"rate": {}, "window": 1e12}, "window is longer than a Prometheus duration can be"),
        ({"rate": {}, "annotations": {"my-summary": "x"}}, "annotation 'my-summary': Prometheus's"),
    ],
)
def test_a_rule_without_promql_equivalent_is_left_out_with_the_reason(
    fields: dict[str, Any], why: str
) -> None:
    assert why in left_out(**fields)


def test_by_groups_with_sum_by_on_every_side() -> None:
    assert expr(rate={"status": "404"}, by=["source", "status"]) == (
        'sum by (source, status) (rate(loglens_http_requests_total{status="404"}[60s])) >= 1'
    )  # grouped: no "or vector(0)", which has no labels to group by
    assert expr(count={"section": "/api"}, by=["section", "section"]) == (
        'sum by (section) (increase(loglens_http_section_requests_total{section="/api"}[60s])) >= 1'
    )
    assert expr(ratio={"numerator": {"level": "ERROR"}}, by=["source"], op=">") == (
        'sum by (source) (rate(loglens_log_messages_total{level="ERROR"}[60s]))'
        " / (sum by (source) (rate(loglens_http_requests_total[60s])) > 0) > 1"
    )
    assert expr(quantile={"q": 0.9, "source": "web"}, by=["source"]) == (
        "histogram_quantile(0.9, sum by (le, source) "
        '(rate(loglens_http_request_duration_seconds_bucket{source="web"}[60s]))) >= 1'
    )


def test_for_and_keep_firing_for_become_prometheus_durations() -> None:
    body = exported(rate={}, **{"for": "90s"}, keep_firing_for=1.5)
    assert (body["for"], body["keep_firing_for"]) == ("90s", "1500ms")
    assert "for" not in exported(rate={}) and "keep_firing_for" not in exported(rate={})
    assert duration(300, "window") == "300s"


@pytest.mark.parametrize(
    ("value", "literal"), [(11.0, "11"), (0.05, "0.05"), (-2.0, "-2"), (1e300, "1e+300"),
                           (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (float("nan"), "NaN")],
)  # fmt: skip
def test_thresholds_are_promql_numbers(value: float, literal: str) -> None:
    assert number(value) == literal


def test_annotations_become_prometheus_templates_and_labels_stay_literal() -> None:
    assert template("{{ value }} on {{source}}") == "{{ $value }} on {{ $labels.source }}"
    assert template("{{ not a name }} }}") == '{{ "{{" }} not a name }} }}'
    body = exported(rate={}, labels={"severity": "page", "odd": "{{ source }}"},
                    annotations={"summary": "5xx above 5% on {{ source }}"})  # fmt: skip
    assert body["labels"] == {"severity": "page", "odd": '{{ "{{" }} source }}'}
    assert body["annotations"] == {"summary": "5xx above 5% on {{ $labels.source }}"}


def test_the_file_has_one_loglens_group_with_a_comment_in_place_of_each_left_out_rule(tmp_path: Path) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(ISSUE_RULES, encoding="utf-8")
    result = CliRunner().invoke(main, ["alerts", "export", "--config", str(config), "--interval", "15s"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    why = "message: no metric carries the messages a regular expression could search"
    assert lines[-1] == f"      # timeouts: left out: {why}"
    parsed = yaml.safe_load(result.output)
    (group,) = parsed["groups"]
    assert (group["name"], group["interval"]) == ("loglens", "15s")
    assert [item["alert"] for item in group["rules"]] == [
        "high_traffic", "error_burst", "server_errors", "slow_requests"
    ]  # fmt: skip
    assert group["rules"][2] == {
        "alert": "server_errors",
        "expr": '(sum(rate(loglens_http_requests_total{status=~"5.."}[300s])) or vector(0))'
        " / (sum(rate(loglens_http_requests_total[300s])) > 0) > 0.05",
        "for": "30s",
        "keep_firing_for": "60s",
        "labels": {"severity": "page"},
        "annotations": {"summary": "5xx above 5% on {{ $labels.source }}"},
    }


def test_no_rule_to_export_is_an_empty_rule_list_and_the_comments() -> None:
    text = export_rules([rule(rate={"service": "api"})])
    assert yaml.safe_load(text) == {"groups": [{"name": "loglens", "rules": []}]}
    assert "      # r: left out: service: no metric carries a service label" in text.splitlines()
    assert yaml.safe_load(export_rules([])) == {"groups": [{"name": "loglens", "rules": []}]}


def test_output_writes_the_file_and_a_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config, out = tmp_path / "loglens.yaml", tmp_path / "rules.yml"
    config.write_text(ISSUE_RULES, encoding="utf-8")
    result = CliRunner().invoke(main, ["alerts", "export", "--config", str(config), "-o", str(out)])
    assert (result.exit_code, result.output) == (0, "")
    assert out.read_text(encoding="utf-8") == export_rules(yaml_rules(ISSUE_RULES))
    config.write_text("alerts:\n  - name: x\n    threshold: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["alerts", "export", "--config", str(config)])
    assert result.exit_code == 2
    assert (
        result.output
        == f"loglens: {config}: 'alerts.0': rule 'x' needs exactly one of rate, count, ratio, quantile, "
        "anomaly\n"
    )
    result = CliRunner().invoke(main, ["alerts", "export", "--interval", "soon"])
    assert result.exit_code == 2 and "Invalid value for '--interval'" in result.output


def yaml_rules(text: str) -> list[RuleConfig]:
    return [RuleConfig.model_validate(item) for item in yaml.safe_load(text)["alerts"]]


@settings(max_examples=200, deadline=None)
@given(st.lists(RULES, max_size=5))
def test_any_valid_rule_exports_to_a_rule_or_a_left_out_comment(rules: list[RuleConfig]) -> None:
    text = export_rules(rules)
    (group,) = yaml.safe_load(text)["groups"]
    alerts = [item["alert"] for item in group["rules"]]
    comments = [line.strip() for line in text.splitlines() if line.startswith("      # ")]
    outcomes = [translate(one) for one in rules]
    assert alerts == [one.name for one in outcomes if one.rule is not None]
    assert comments == [f"# {one.name}: left out: {one.left_out}" for one in outcomes if one.rule is None]
    for item, one in zip(group["rules"], (one for one in outcomes if one.rule is not None), strict=True):
        assert item == one.rule  # the YAML reads back as written, templates and escapes included
