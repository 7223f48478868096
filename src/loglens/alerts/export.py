"""Alert rules as Prometheus alerting rules over loglens's own metrics (``loglens alerts export``).

Each rule becomes one PromQL comparison over the ``loglens_*_total`` counters or the request-duration
histogram. A rule that needs something no metric label carries (a message regex, a service, a quantile of
sizes) is left out, as a comment that says why. docs/alerts.md has the mapping.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from loglens.alerts.config import NAME, Match, RuleConfig
from loglens.contracts import printable
from loglens.records import HTTP_METHODS

REQUESTS = "loglens_http_requests_total"
SECTIONS = "loglens_http_section_requests_total"
MESSAGES = "loglens_log_messages_total"
DURATIONS = "loglens_http_request_duration_seconds_bucket"
ANOMALY_SCORE = "loglens_anomaly_score"
#: The labels of each counter besides ``source``.
COUNTER_LABELS: dict[str, tuple[str, ...]] = {
    REQUESTS: ("method", "status"),
    SECTIONS: ("section",),
    MESSAGES: ("level",),
}
GROUP = "loglens"
#: The longest duration Prometheus parses (its durations are int64 nanoseconds).
_MAX_SECONDS = (2**63 - 1) // 10**9
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class LeftOut(ValueError):
    """A rule has no PromQL equivalent; the message says why."""


@dataclass(frozen=True)
class Exported:
    """One rule's translation: a Prometheus rule, or the reason it was left out."""

    name: str
    rule: dict[str, Any] | None = None
    left_out: str | None = None


def duration(seconds: float, what: str) -> str:
    """``seconds`` as a Prometheus duration (``60s``, ``1500ms``).

    Raises:
        LeftOut: not a duration Prometheus can hold.
    """
    if not math.isfinite(seconds) or seconds > _MAX_SECONDS:
        raise LeftOut(f"{what} is longer than a Prometheus duration can be")
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def number(value: float) -> str:
    """``value`` as a PromQL number literal."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _quote(value: str) -> str:
    return json.dumps(printable(value), ensure_ascii=False)


def _metric(match: Match) -> str:
    """The counter of the records ``match`` selects.

    Raises:
        LeftOut: no counter carries every field ``match`` names.
    """
    if match.message is not None:
        raise LeftOut("message: no metric carries the messages a regular expression could search")
    if match.service is not None:
        raise LeftOut("service: no metric carries a service label")
    request_fields = [name for name in ("section", "status", "method") if getattr(match, name) is not None]
    if match.level is not None:
        if request_fields:
            raise LeftOut(f"level with {', '.join(request_fields)}: no metric carries both")
        return MESSAGES
    if match.section is not None:
        if len(request_fields) > 1:
            raise LeftOut("section with status or method: sections are counted apart from them")
        return SECTIONS
    return REQUESTS


def _selector(match: Match, metric: str) -> str:
    """``metric{...}`` selecting the series of ``match``."""
    named = {name: getattr(match, name) for name in ("source", "level", "section")}
    matchers = [f"{name}={_quote(value)}" for name, value in named.items() if value is not None]
    if match.method is not None:
        if match.method not in HTTP_METHODS:
            raise LeftOut(f"method {match.method!r}: counted as OTHER with every non-standard method")
        matchers.append(f"method={_quote(match.method)}")
    if match.status is not None:
        status = match.status
        matchers.append(f'status=~"{status[0]}.."' if status.endswith("xx") else f'status="{status}"')
    return f"{metric}{{{','.join(matchers)}}}" if matchers else metric


def _grouping(metric: str, by: Sequence[str], extra: Sequence[str] = ()) -> str:
    """``sum by (...) `` or ``sum``, to precede a parenthesis.

    Raises:
        LeftOut: ``metric`` has no label of a ``by`` field.
    """
    labels = ("source", *COUNTER_LABELS.get(metric, ()))
    missing = [field for field in by if field not in labels]
    if missing:
        raise LeftOut(f"by: {', '.join(missing)}: {metric.removesuffix('_bucket')} has no such label")
    names = list(dict.fromkeys([*extra, *by]))
    return f"sum by ({', '.join(names)}) " if names else "sum"


def _summed(match: Match, function: str, window: str, by: Sequence[str]) -> str:
    """``sum(function(counter{...}[window]))`` over the records of ``match``."""
    metric = _metric(match)
    return f"{_grouping(metric, by)}({function}({_selector(match, metric)}[{window}]))"


def _total(match: Match, function: str, window: str, by: Sequence[str]) -> str:
    """:func:`_summed`, and 0 for an ungrouped rule while no such record was counted (no series yet)."""
    summed = _summed(match, function, window, by)
    return summed if by else f"({summed} or vector(0))"


def expression(rule: RuleConfig) -> str:
    """The PromQL expression of ``rule``: its value compared with its threshold.

    Raises:
        LeftOut: the rule has no PromQL equivalent.
    """
    if rule.anomaly is not None:
        spec = rule.anomaly
        if spec.detector == "new_pattern":
            if spec.source is not None:
                raise LeftOut(
                    "new_pattern of one source: loglens_anomalies_total counts them for every source"
                )
            new = 'increase(loglens_anomalies_total{detector="new_pattern"}[1m])'
            return f"({new} or vector(0)) {rule.op} {number(rule.threshold)}"
        if spec.detector == "pattern_rate":
            return f'max({ANOMALY_SCORE}{{detector="pattern_rate"}}) {rule.op} {number(rule.threshold)}'
        score = f'{ANOMALY_SCORE}{{detector="{spec.detector}",series={_quote(spec.series)}}}'
        value = {"up": score, "down": f"-{score}"}.get(spec.direction, f"abs({score})")
        return f"{value} {rule.op} {number(rule.threshold)}"
    window = duration(rule.window, "window")
    if rule.count is not None:
        value = _total(rule.count, "increase", window, rule.by)
    elif rule.rate is not None:
        value = _total(rule.rate, "rate", window, rule.by)
    elif rule.ratio is not None:
        numerator = _total(rule.ratio.numerator, "rate", window, rule.by)
        denominator = _summed(rule.ratio.denominator, "rate", window, rule.by)
        value = f"{numerator} / ({denominator} > 0)"  # no value while the denominator is 0
    else:
        value = _quantile(rule, window)
    return f"{value} {rule.op} {number(rule.threshold)}"


def _quantile(rule: RuleConfig, window: str) -> str:
    quantile = rule.quantile
    assert quantile is not None  # the last kind
    if quantile.of == "bytes":
        raise LeftOut("quantile of bytes: response sizes are a counter, not a histogram")
    named = [name for name in ("level", "message", "section", "status", "method", "service")
             if getattr(quantile, name) is not None]  # fmt: skip
    if named:
        raise LeftOut(f"quantile with {', '.join(named)}: the duration histogram is labelled by source only")
    source = f"{{source={_quote(quantile.source)}}}" if quantile.source is not None else ""
    buckets = f"rate({DURATIONS}{source}[{window}])"
    return f"histogram_quantile({number(quantile.q)}, {_grouping(DURATIONS, rule.by, ['le'])}({buckets}))"


def template(text: str) -> str:
    """A loglens annotation template in Prometheus's terms: ``{{ value }}`` is ``{{ $value }}``, any other
    ``{{ name }}`` the alert's label ``{{ $labels.name }}``; other braces stay literal."""
    pieces = []
    position = 0
    for found in _TEMPLATE.finditer(text):
        pieces.append(literal(text[position : found.start()]))
        name = found.group(1)
        pieces.append("{{ $value }}" if name == "value" else f"{{{{ $labels.{name} }}}}")
        position = found.end()
    pieces.append(literal(text[position:]))
    return "".join(pieces)


def literal(text: str) -> str:
    """``text`` shown as written by Prometheus's templating (which labels get too)."""
    return text.replace("{{", '{{ "{{" }}')


def translate(rule: RuleConfig) -> Exported:
    """The Prometheus rule of ``rule``, or why it has none."""
    try:
        return Exported(rule.name, rule=_alerting_rule(rule))
    except LeftOut as exc:
        return Exported(rule.name, left_out=str(exc))


def _alerting_rule(rule: RuleConfig) -> dict[str, Any]:
    body: dict[str, Any] = {"alert": rule.name, "expr": expression(rule)}
    if rule.for_:
        body["for"] = duration(rule.for_, "for")
    if rule.keep_firing_for:
        body["keep_firing_for"] = duration(rule.keep_firing_for, "keep_firing_for")
    if rule.labels:
        body["labels"] = {name: literal(value) for name, value in rule.labels.items()}
    bad = [name for name in rule.annotations if not NAME.fullmatch(name)]
    if bad:
        raise LeftOut(f"annotation {bad[0]!r}: Prometheus's annotation names are [a-zA-Z_][a-zA-Z0-9_]*")
    if rule.annotations:
        body["annotations"] = {name: template(value) for name, value in rule.annotations.items()}
    return body


def export_rules(rules: Sequence[RuleConfig], interval: float | None = None) -> str:
    """A Prometheus rule file: one group, ``loglens``, of every rule that has a PromQL equivalent, and a
    comment in place of each that has none.

    Raises:
        LeftOut: ``interval`` is not a Prometheus duration.
    """
    group: dict[str, Any] = {"name": GROUP}
    if interval is not None:
        group["interval"] = duration(interval, "interval")
    exported = [translate(rule) for rule in rules]
    kept = any(item.rule for item in exported)
    group["rules"] = [item.rule or _placeholder(index) for index, item in enumerate(exported)] if kept else []
    text = yaml.dump({"groups": [group]}, Dumper=_Dumper, sort_keys=False, width=math.inf)
    lines = text.splitlines()
    comments = {_placeholder(index): item for index, item in enumerate(exported) if item.rule is None}
    for index, line in enumerate(lines):
        indent, _, value = line.partition("- ")
        if value in comments and not indent.strip():
            lines[index] = f"{indent}{_comment(comments.pop(value))}"
    indent = " " * 6
    lines += [f"{indent}{_comment(item)}" for item in comments.values()]  # after rules: []
    return "\n".join([HEADER, *lines]) + "\n"


HEADER = "# Prometheus alerting rules over loglens's metrics, from loglens alerts export"


def _placeholder(index: int) -> str:
    return f"__loglens_left_out_{index}__"


def _comment(item: Exported) -> str:
    return f"# {item.name}: left out: {' '.join(str(item.left_out).split())}"


class _Dumper(yaml.SafeDumper):
    """Block sequences indented under their key, as Prometheus's examples write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)
