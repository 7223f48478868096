"""The CRUD view: requests by create, read, update and delete, from the counts by method."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.aggregate.crud import KEYS, crud, shown
from loglens.aggregate.insights import insights
from loglens.aggregate.windows import Windows
from loglens.records import RECORD_SCHEMA, conform

BASE = 1_700_000_000
#: Each operation's methods, written out here apart from the module's table.
EXPECTED = {"create": {"POST"}, "read": {"GET", "HEAD"}, "update": {"PUT", "PATCH"}, "delete": {"DELETE"}}
STANDARD = sorted(set().union(*EXPECTED.values()))
METHODS = st.one_of(
    st.sampled_from(STANDARD),
    st.sampled_from(["get", "Post", "OPTIONS", "CONNECT", "TRACE", "PROPFIND", "-", "__other__"]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8),
)


def _independent(methods: dict[str, int]) -> dict[str, int]:
    out = {key: sum(n for m, n in methods.items() if m in names) for key, names in EXPECTED.items()}
    out["other"] = sum(n for m, n in methods.items() if m not in STANDARD)
    return out


@given(st.dictionaries(METHODS, st.integers(min_value=0, max_value=10**12), max_size=20))
def test_each_operation_sums_the_methods_mapped_to_it(methods: dict[str, int]) -> None:
    counts = crud(methods)
    assert list(counts) == list(KEYS)
    assert counts == _independent(methods)
    assert sum(counts.values()) == sum(methods.values())


def test_methods_are_case_sensitive_and_the_rest_is_other() -> None:
    counts = crud(Counter({"GET": 5, "HEAD": 1, "get": 2, "PATCH": 3, "OPTIONS": 1, "-": 1, "__other__": 4}))
    assert counts == {"create": 0, "read": 6, "update": 3, "delete": 0, "other": 8}
    assert crud({}) == dict.fromkeys(KEYS, 0)


def test_views_show_the_four_operations_and_other_only_when_it_counted() -> None:
    assert shown(crud({"GET": 2})) == [("create", 0), ("read", 2), ("update", 0), ("delete", 0)]
    assert shown(crud({"GET": 2, "OPTIONS": 1}))[-1] == ("other", 1)


def _records(rows: list[tuple[int, str]]) -> pl.DataFrame:
    """Access records from ``(second offset, method)``."""
    return conform(
        pl.DataFrame(
            {
                "ts": [datetime.fromtimestamp(BASE + s, UTC) for s, _ in rows],
                "status": [200] * len(rows),
                "method": [method for _, method in rows],
                "section": ["/a"] * len(rows),
            },
            schema_overrides={"ts": RECORD_SCHEMA["ts"]},
        )
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=30), METHODS), max_size=60),
    st.integers(min_value=1, max_value=30),
)
def test_insights_crud_covers_the_window_like_the_method_mix(rows: list[tuple[int, str]], span: int) -> None:
    windows = Windows(keep_seconds=600, lateness_seconds=600)
    windows.add(_records(rows), arrival=BASE + 30)
    doc = insights(windows, span, BASE + 30)
    inside = Counter(method for second, method in rows if second > 30 - span)
    assert doc["crud"] == _independent(inside)
    assert sum(doc["crud"].values()) == sum(doc["methods"].values()) == doc["hits"]


def test_methods_pooled_past_the_cap_count_as_other() -> None:
    windows = Windows(max_keys=2)
    rows = [(0, "GET")] * 3 + [(0, "OPTIONS")] * 2 + [(0, "DELETE")] + [(0, "POST")]
    windows.add(_records(rows), arrival=BASE)
    doc = insights(windows, 10, BASE)
    assert sum(doc["methods"].values()) == sum(doc["crud"].values()) == 7
    assert "__other__" in doc["methods"]
    assert doc["crud"]["other"] == doc["methods"].get("OPTIONS", 0) + doc["methods"]["__other__"]
