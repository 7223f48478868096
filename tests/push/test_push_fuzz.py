"""Schema-driven fuzzing: schemathesis generates requests from the running server's OpenAPI document.

The strategy is driven by hand with hypothesis rather than ``schemathesis.pytest.from_fixture``, whose
lazy fixtures do not run under pytest 9 (they read the removed ``Node._nodeid``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from conftest import PushServer


def test_no_generated_request_makes_a_server_error(start_server: Callable[..., PushServer]) -> None:
    server = start_server(max_series=50, max_series_per_metric=10)
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    operation = schema["/api/metrics"]["POST"]
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    # Left out on purpose: a schema-valid batch can still be refused (type conflicts, duplicates, limits),
    # and a batch with some schema-violating metrics is applied in part (200 partial_success), as specified.
    by_design = [schemathesis.checks.positive_data_acceptance, schemathesis.checks.negative_data_rejection]

    @given(case=cases)
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: Any) -> None:
        case.call_and_validate(excluded_checks=by_design)

    fuzz()
    # whatever was accepted, the exposition is still served, in both formats. Only the text format is
    # parsed: prometheus_client's OpenMetrics parser refuses the negative _sum and quantiles that negative
    # observations give, which Prometheus itself ingests.
    exposition = server.client.get("/metrics")
    assert exposition.status_code == 200
    assert list(text_string_to_metric_families(exposition.text))
    openmetrics = server.client.get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert openmetrics.status_code == 200
    assert openmetrics.text.endswith("# EOF\n")
