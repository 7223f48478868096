"""Alert rules for the export tests: the issue's example, and a Hypothesis strategy of any valid rule."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from loglens.alerts.config import GROUP_FIELDS, RuleConfig
from loglens.records import HTTP_METHODS, LEVELS

#: The issue's example rules, and one with no PromQL equivalent.
ISSUE_RULES = """\
alerts:
  - name: high_traffic
    rate: {}
    window: 120s
    op: ">="
    threshold: 10
    for: 10s
  - name: error_burst
    count: {level: ERROR}
    window: 60s
    op: ">="
    threshold: 11
  - name: server_errors
    ratio: {numerator: {status: "5xx"}, denominator: {}}
    window: 300s
    op: ">"
    threshold: 0.05
    for: 30s
    keep_firing_for: 60s
    labels: {severity: page}
    annotations: {summary: "5xx above 5% on {{ source }}"}
  - name: slow_requests
    quantile: {q: 0.99, of: duration}
    window: 300s
    op: ">"
    threshold: 2.5
  - name: timeouts
    count: {message: "timed? out"}
    threshold: 1
"""

NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
LABEL_NAMES = NAMES.filter(lambda name: not name.startswith("__"))
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
#: Template-ish text: names loglens renders, braces, quotes and escapes Prometheus must not choke on.
TEMPLATED = st.lists(
    st.sampled_from(
        ["{{ value }}", "{{ source }}", "{{source}}", "{{ x y }}", "{{", "}}", '"', "\\", "%", "$"]
    )
    | TEXT,
    max_size=5,
).map("".join)

MATCHES = st.fixed_dictionaries(
    {},
    optional={
        "level": st.sampled_from(LEVELS),
        "message": st.sampled_from(["timed? out", "^GET", "a|b"]),
        "source": TEXT,
        "section": TEXT,
        "status": st.sampled_from(["200", "404", "503", "2xx", "5xx"]),
        "method": st.sampled_from([*HTTP_METHODS, "PROPFIND", "get"]),
        "service": TEXT,
    },
)
SECONDS = st.floats(min_value=1, max_value=1e12) | st.sampled_from([1.0, 60.0, 120.0, 1.5, float("inf")])
KINDS = st.one_of(
    st.fixed_dictionaries({"rate": MATCHES}),
    st.fixed_dictionaries({"count": MATCHES}),
    st.fixed_dictionaries({"ratio": st.fixed_dictionaries({"numerator": MATCHES, "denominator": MATCHES})}),
    st.builds(
        lambda match, q, of: {"quantile": {**match, "q": q, "of": of}},
        MATCHES,
        st.floats(min_value=0.001, max_value=0.999),
        st.sampled_from(["duration", "bytes"]),
    ),
)


def _rule(kind: dict[str, Any], fields: dict[str, Any]) -> RuleConfig:
    return RuleConfig.model_validate({**kind, **fields})


RULES = st.builds(
    _rule,
    KINDS,
    st.fixed_dictionaries(
        {
            "name": NAMES,
            "threshold": st.floats(allow_nan=True, allow_infinity=True),
            "window": SECONDS,
            "op": st.sampled_from([">", ">=", "<", "<=", "==", "!="]),
        },
        optional={
            "for": st.just(0.0) | SECONDS,
            "keep_firing_for": st.just(0.0) | SECONDS,
            "by": st.lists(st.sampled_from(GROUP_FIELDS), max_size=3),
            "labels": st.dictionaries(LABEL_NAMES, TEMPLATED, max_size=2),
            "annotations": st.dictionaries(NAMES | st.just("bad-name"), TEMPLATED, max_size=2),
        },
    ),
)
