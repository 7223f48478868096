"""What pushed values become on /metrics, over real HTTP: modes, types, labels, conflicts, limits, expiry."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from loglens.config_sections import PushConfig

if TYPE_CHECKING:
    from conftest import PushServer

Metric = Callable[..., dict[str, Any]]


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success", response.text


def _refused(response: Any, field: str, fragment: str) -> None:
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert fragment in error["message"]


def test_the_issue_example_is_exposed_with_prefix_source_and_total(server: PushServer) -> None:
    body = {
        "source": "my_app",
        "metrics": [
            {
                "name": "request_count",
                "metric_type": "counter",
                "help": "Total requests",
                "labels": {"service": "api"},
                "value": {"value": 42.0, "timestamp": None},
            }
        ],
    }
    _ok(server.client.post("/api/metrics", json=body))
    text = server.exposition()
    assert "# HELP app_request_count_total Total requests\n" in text
    assert "# TYPE app_request_count_total counter\n" in text
    assert 'app_request_count_total{service="api",source="my_app"} 42.0\n' in text


def test_namespace_comes_before_prefix(start_server: Callable[..., PushServer], metric: Metric) -> None:
    server = start_server(namespace="acme", prefix="svc")
    _ok(server.push([metric("depth", 3, "gauge")]))
    assert server.value("acme_svc_depth", source="my_app") == 3


def test_counter_increments_add_up(server: PushServer, metric: Metric) -> None:
    for value in (5, 3, 0, 2.5):
        _ok(server.push([metric("jobs", value)]))
    assert server.value("app_jobs_total", source="my_app") == 10.5


def test_a_name_ending_in_total_is_the_same_counter(server: PushServer, metric: Metric) -> None:
    _ok(server.push([metric("jobs", 1)]))
    _ok(server.push([metric("jobs_total", 2)]))
    assert server.value("app_jobs_total", source="my_app") == 3


def test_cumulative_totals_yield_their_increase_and_survive_a_reset(
    server: PushServer, metric: Metric
) -> None:
    for total in (10, 15, 15, 4, 6):  # the sender restarted between 15 and 4
        _ok(server.push([metric("jobs", total, mode="cumulative")]))
    assert server.value("app_jobs_total", source="my_app") == 10 + 5 + 0 + 4 + 2


def test_batch_mode_cumulative_applies_to_its_counters(server: PushServer, metric: Metric) -> None:
    for total in (100, 130):
        _ok(server.push([metric("jobs", total), metric("depth", 7, "gauge")], mode="cumulative"))
    assert server.value("app_jobs_total", source="my_app") == 130
    assert server.value("app_depth", source="my_app") == 7


def test_a_metric_mode_overrides_the_batch_mode(server: PushServer, metric: Metric) -> None:
    for _ in range(2):
        _ok(server.push([metric("jobs", 4, mode="increment")], mode="cumulative"))
    assert server.value("app_jobs_total", source="my_app") == 8


def test_a_series_keeps_its_mode(server: PushServer, metric: Metric) -> None:
    _ok(server.push([metric("jobs", 10, mode="cumulative")]))
    _refused(server.push([metric("jobs", 1)]), "mode", "takes running totals, not increments")
    assert server.value("app_jobs_total", source="my_app") == 10


def test_an_older_running_total_is_refused_not_taken_for_a_reset(server: PushServer, metric: Metric) -> None:
    _ok(server.push([metric("jobs", {"value": 20, "timestamp": 200.0}, mode="cumulative")]))
    late = metric("jobs", {"value": 12, "timestamp": 150.0}, mode="cumulative")
    _refused(server.push([late]), "value.timestamp", "older than this series' last")
    _ok(server.push([metric("jobs", {"value": 25, "timestamp": 210.0}, mode="cumulative")]))
    assert server.value("app_jobs_total", source="my_app") == 25


def test_gauges_are_set(server: PushServer, metric: Metric) -> None:
    for value in (5, -2.5, 3):
        _ok(server.push([metric("queue_depth", value, "gauge")]))
    assert server.value("app_queue_depth", source="my_app") == 3
    _ok(server.push([metric("queue_depth", {"value": 9, "timestamp": 100.0}, "gauge")]))
    _refused(
        server.push([metric("queue_depth", {"value": 1, "timestamp": 99.0}, "gauge")]),
        "value.timestamp",
        "older",
    )
    assert server.value("app_queue_depth", source="my_app") == 9


def test_label_sets_and_sources_form_separate_series(server: PushServer, metric: Metric) -> None:
    _ok(
        server.push(
            [metric("hits", 1, labels={"service": "api"}), metric("hits", 2, labels={"service": "web"})]
        )
    )
    _ok(server.push([metric("hits", 4, labels={"service": "api"})], source="other_app"))
    _ok(server.push([metric("hits", 8, labels={"service": "api"})]))
    assert server.value("app_hits_total", source="my_app", service="api") == 9
    assert server.value("app_hits_total", source="my_app", service="web") == 2
    assert server.value("app_hits_total", source="other_app", service="api") == 4
    assert server.value("loglens_push_series") == 3


def test_label_values_are_escaped_in_the_exposition(server: PushServer, metric: Metric) -> None:
    odd = 'say "hi"\\\nbye'
    _ok(server.push([metric("hits", 1, labels={"path": odd})], source="a b"))
    assert server.value("app_hits_total", source="a b", path=odd) == 1


@pytest.mark.parametrize(
    ("first", "second", "field", "fragment"),
    [
        (
            {"metric_type": "counter"},
            {"metric_type": "gauge"},
            "metric_type",
            "already a counter, not a gauge",
        ),
        ({"metric_type": "gauge"}, {"metric_type": "histogram"}, "metric_type", "already a gauge"),
        ({"labels": {"service": "api"}}, {"labels": {"host": "a"}}, "labels", "label names ['service']"),
        ({"labels": {"service": "api"}}, {"labels": {}}, "labels", "not []"),
        (
            {"metric_type": "histogram", "buckets": [1, 2]},
            {"metric_type": "histogram", "buckets": [1, 3]},
            "buckets",
            "[1.0, 2.0]",
        ),
        (
            {"metric_type": "summary", "quantiles": [0.5]},
            {"metric_type": "summary", "value": {"quantiles": {"0.9": 1}, "sum": 1, "count": 1}},
            "quantiles",
            "[0.5]",
        ),
    ],
)
def test_a_name_keeps_its_type_and_label_names(
    server: PushServer,
    metric: Metric,
    first: dict[str, Any],
    second: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    _ok(server.push([{**metric("latency", 1), **first}]))
    response = server.push([{**metric("latency", 1), **second}], source="another")
    _refused(response, field, fragment)
    assert response.json()["errors"][0]["name"] == "latency"


def test_names_whose_series_would_collide_are_refused(server: PushServer, metric: Metric) -> None:
    _ok(server.push([metric("latency", 0.2, "histogram")]))
    _refused(server.push([metric("latency_count", 3, "gauge")]), "name", "histogram app_latency exposes")
    _ok(server.push([metric("jobs", 1)]))
    _refused(server.push([metric("jobs_created", 3, "gauge")]), "name", "counter app_jobs exposes")


def test_pushed_names_cannot_take_loglens_own(
    start_server: Callable[..., PushServer], metric: Metric
) -> None:
    server = start_server(prefix="")
    _ok(server.push([metric("jobs", 1)]))
    assert server.value("jobs_total", source="my_app") == 1
    _refused(server.push([metric("loglens_lines", 1)]), "name", "loglens's own")
    for prefix, namespace in (("loglens", ""), ("", "loglens"), ("lines", "loglens"), ("bad-prefix", "")):
        with pytest.raises(ValidationError):
            PushConfig(prefix=prefix, namespace=namespace)


def test_histogram_observations(server: PushServer, metric: Metric) -> None:
    for value in (0.3, 0.7, 0.7, 20.0):
        _ok(server.push([metric("latency_seconds", value, "histogram")]))
    assert server.value("app_latency_seconds_bucket", source="my_app", le="0.25") == 0
    assert server.value("app_latency_seconds_bucket", source="my_app", le="0.5") == 1
    assert server.value("app_latency_seconds_bucket", source="my_app", le="1.0") == 3
    assert server.value("app_latency_seconds_bucket", source="my_app", le="10.0") == 3
    assert server.value("app_latency_seconds_bucket", source="my_app", le="+Inf") == 4
    assert server.value("app_latency_seconds_count", source="my_app") == 4
    assert server.value("app_latency_seconds_sum", source="my_app") == pytest.approx(21.7)


def test_histogram_observations_with_chosen_buckets(server: PushServer, metric: Metric) -> None:
    for value in (1, 5, 6):
        _ok(server.push([metric("size_bytes", value, "histogram", buckets=[1, 5])]))
    _ok(server.push([metric("size_bytes", 0.5, "histogram")]))  # later pushes may leave buckets out
    samples = {
        le: server.value("app_size_bytes_bucket", source="my_app", le=le) for le in ("1.0", "5.0", "+Inf")
    }
    assert samples == {"1.0": 2, "5.0": 3, "+Inf": 4}


def test_pre_aggregated_histogram_increments_add_up(server: PushServer, metric: Metric) -> None:
    value = {"buckets": {"0.1": 2, "1": 5, "+Inf": 6}, "sum": 3.5, "count": 6}
    for _ in range(2):
        _ok(server.push([metric("latency_seconds", value, "histogram")]))
    _ok(server.push([metric("latency_seconds", 0.05, "histogram")]))  # an observation adds too
    assert server.value("app_latency_seconds_bucket", source="my_app", le="0.1") == 5
    assert server.value("app_latency_seconds_bucket", source="my_app", le="1.0") == 11
    assert server.value("app_latency_seconds_bucket", source="my_app", le="+Inf") == 13
    assert server.value("app_latency_seconds_sum", source="my_app") == pytest.approx(7.05)


def test_pre_aggregated_histogram_totals_with_a_reset(server: PushServer, metric: Metric) -> None:
    totals = [
        {"buckets": {"1": 2, "5": 3}, "sum": 4, "count": 3},
        {"buckets": {"1": 5, "5": 7}, "sum": 11, "count": 8},
        {"buckets": {"1": 1, "5": 1}, "sum": 0.5, "count": 1},  # the sender restarted
    ]
    for value in totals:
        _ok(server.push([metric("latency_seconds", value, "histogram", mode="cumulative")]))
    assert server.value("app_latency_seconds_bucket", source="my_app", le="1.0") == 5 + 1
    assert server.value("app_latency_seconds_bucket", source="my_app", le="5.0") == 7 + 1
    assert server.value("app_latency_seconds_bucket", source="my_app", le="+Inf") == 8 + 1
    assert server.value("app_latency_seconds_count", source="my_app") == 9
    assert server.value("app_latency_seconds_sum", source="my_app") == 11.5


def test_pre_aggregated_histogram_must_keep_its_buckets(server: PushServer, metric: Metric) -> None:
    _ok(server.push([metric("latency", {"buckets": {"1": 1}, "sum": 1, "count": 1}, "histogram")]))
    moved = metric("latency", {"buckets": {"2": 1}, "sum": 1, "count": 1}, "histogram")
    _refused(server.push([moved]), "buckets", "bucket bounds [1.0], not [2.0]")


def test_summary_observations_give_window_quantiles(
    start_server: Callable[..., PushServer], metric: Metric
) -> None:
    server = start_server(summary_window_seconds=60, ttl_seconds=600)
    for v in range(1, 102):  # one observation per batch: a batch carries each series once
        _ok(server.push([metric("payload_bytes", float(v), "summary")]))
    assert server.value("app_payload_bytes", source="my_app", quantile="0.5") == pytest.approx(51)
    assert server.value("app_payload_bytes", source="my_app", quantile="0.99") == pytest.approx(100)
    assert server.value("app_payload_bytes_count", source="my_app") == 101
    assert server.value("app_payload_bytes_sum", source="my_app") == sum(range(1, 102))
    server.clock.advance(61)  # the window slides past every observation; sum and count stay
    assert math.isnan(server.value("app_payload_bytes", source="my_app", quantile="0.5") or 0)
    assert server.value("app_payload_bytes_count", source="my_app") == 101
    _ok(server.push([metric("payload_bytes", 7.0, "summary")]))
    assert server.value("app_payload_bytes", source="my_app", quantile="0.9") == 7


def test_summary_window_keeps_the_latest_observations(
    start_server: Callable[..., PushServer], metric: Metric
) -> None:
    server = start_server(summary_max_observations=10)
    for v in range(100):
        _ok(server.push([metric("y", float(v), "summary", quantiles=[0, 1])]))
    assert server.value("app_y", source="my_app", quantile="0.0") == 90
    assert server.value("app_y", source="my_app", quantile="1.0") == 99


def test_pre_aggregated_summary(server: PushServer, metric: Metric) -> None:
    first = {"quantiles": {"0.5": 0.2, "0.99": 0.9}, "sum": 10, "count": 40}
    later = {"quantiles": {"0.5": 0.3, "0.99": 1.2}, "sum": 16, "count": 50}
    for value in (first, later):
        _ok(server.push([metric("rpc_seconds", value, "summary", mode="cumulative")]))
    assert server.value("app_rpc_seconds", source="my_app", quantile="0.5") == 0.3
    assert server.value("app_rpc_seconds", source="my_app", quantile="0.99") == 1.2
    assert server.value("app_rpc_seconds_sum", source="my_app") == 16
    assert server.value("app_rpc_seconds_count", source="my_app") == 50
    _ok(server.push([metric("rpc_seconds", first, "summary", mode="cumulative")]))  # a restart
    assert server.value("app_rpc_seconds_count", source="my_app") == 90


def test_idle_series_expire_after_the_ttl(start_server: Callable[..., PushServer], metric: Metric) -> None:
    server = start_server(ttl_seconds=600)
    _ok(server.push([metric("jobs", 5, labels={"q": "a"}), metric("depth", 1, "gauge")]))
    server.clock.advance(500)
    _ok(server.push([metric("jobs", 1, labels={"q": "b"})]))
    server.clock.advance(100)  # "a" and depth idle exactly 600 s: still there
    assert server.value("app_jobs_total", source="my_app", q="a") == 5
    assert server.value("app_depth", source="my_app") == 1
    server.clock.advance(1)
    assert server.value("app_jobs_total", source="my_app", q="a") is None
    assert server.value("app_depth", source="my_app") is None
    assert "app_depth" not in server.exposition()
    assert server.value("app_jobs_total", source="my_app", q="b") == 1
    assert server.value("loglens_push_series") == 1
    _ok(server.push([metric("jobs", 2, labels={"q": "a"})]))  # a returning series starts afresh
    assert server.value("app_jobs_total", source="my_app", q="a") == 2
    _ok(server.push([metric("depth", 3)]))  # an expired name may take another type
    assert server.value("app_depth_total", source="my_app") == 3


def test_series_limits(start_server: Callable[..., PushServer], metric: Metric) -> None:
    server = start_server(max_series_per_metric=2, max_series=3, ttl_seconds=60)
    _ok(server.push([metric("jobs", 1, labels={"q": q}) for q in "ab"]))
    response = server.push([metric("jobs", 1, labels={"q": "c"}), metric("jobs", 1, labels={"q": "a"})])
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["index"] == 0
    assert "limit of 2 series (push.max_series_per_metric)" in error["message"]
    assert server.value("app_jobs_total", source="my_app", q="a") == 2  # existing series still update
    _ok(server.push([metric("other", 1)]))
    _refused(server.push([metric("third", 1)]), "labels", "limit of 3 pushed series (push.max_series)")
    server.clock.advance(61)
    _ok(server.push([metric("third", 1), metric("jobs", 1, labels={"q": "c"})]))


def test_scraping_changes_nothing(server: PushServer, metric: Metric) -> None:
    _ok(server.push([metric("jobs", 10, mode="cumulative"), metric("lat", 0.2, "summary")]))
    first = server.exposition()
    assert server.exposition() == first
    _ok(server.push([metric("jobs", 12, mode="cumulative")]))
    assert server.value("app_jobs_total", source="my_app") == 12


def test_loglens_counts_accepted_and_rejected_metrics(server: PushServer, metric: Metric) -> None:
    server.push([metric("jobs", 1), metric("jobs", -1, labels={"a": "b"}), metric("bad-name", 1)])
    server.push([metric("jobs", 1)], source="")
    assert server.value("loglens_push_metrics_total", outcome="accepted") == 1
    assert server.value("loglens_push_metrics_total", outcome="rejected") == 3
