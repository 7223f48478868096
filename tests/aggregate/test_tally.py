"""The panels' tally: the C one (``_tally.c``) gives the rows the polars one gives, on any records."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.aggregate import tally
from loglens.aggregate.tally import COLUMNS, GROUPS, CTally, PolarsTally
from loglens.records import RECORD_SCHEMA, conform

pytestmark = pytest.mark.skipif(not tally.BUILT, reason="the C tally is not built (no compiler or xxhash.h)")

_samples = ["", "/a", "/b.css", "GET", "PATCH", "x" * 13, "é/ü", "ab\x00c"]
_text = st.one_of(st.none(), st.sampled_from(_samples), st.text(max_size=40))
_time = st.integers(-3 * 86_400, 3 * 86_400).map(lambda s: datetime.fromtimestamp(s, UTC))
_record = st.fixed_dictionaries(
    {
        # before and after the epoch, on both sides of an hour and a day
        "ts": st.one_of(st.none(), _time),
        "status": st.one_of(st.none(), st.sampled_from([200, 304, 399, 400, 404, 500, 599, -1])),
        "bytes": st.one_of(st.none(), st.integers(-5, 10**12)),
        "duration": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
        **{name: _text for name in tally.STRINGS},
    }
)
#: A batch: its records, cut into chunks, its part and batch numbers.
_batch = st.tuples(st.lists(_record, max_size=40), st.integers(1, 4), st.integers(0, 3), st.integers(0, 3))


def _frame(records: list[dict[str, object]], chunks: int) -> pl.DataFrame:
    frame = conform(pl.DataFrame(records, schema={n: RECORD_SCHEMA[n] for n in COLUMNS}))
    size = max(1, math.ceil(len(frame) / chunks))
    pieces = [frame.slice(start, size) for start in range(0, len(frame), size)] or [frame]
    return pl.concat(pieces, rechunk=False)


def _rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    frame = frame.with_columns(pl.col("served").round_sig_figs(9))  # summed in another order
    return sorted(frame.select(sorted(frame.columns)).rows(), key=repr)


@settings(max_examples=150, deadline=None)
@given(st.lists(_batch, max_size=5))
def test_the_c_tally_gives_the_rows_polars_gives(batches: list[tuple[list[dict], int, int, int]]) -> None:
    c_tally, polars_tally = CTally(), PolarsTally()
    for records, chunks, part, batch in batches:
        frame = _frame(records, chunks)
        access = frame.filter(pl.col("status").is_not_null())  # what WebPanels hands a tally
        c_tally.add(access, part, batch)
        polars_tally.add(access, part, batch)
    from_c, from_polars = c_tally.take(), polars_tally.take()
    assert list(from_c) == list(from_polars) == list(GROUPS)
    for name in GROUPS:
        if name == "days":  # each counts distinct visitors by a hash of its own

            def visitors(frame: pl.DataFrame) -> list[tuple[object, ...]]:
                return sorted(frame.select("part", "day", pl.col("h").list.len()).rows())

            assert visitors(from_c[name]) == visitors(from_polars[name])
        else:
            assert _rows(from_c[name]) == _rows(from_polars[name]), name
    assert all(frame.is_empty() for frame in c_tally.take().values())


def test_records_without_a_status_are_not_counted() -> None:
    c_tally = CTally()
    frame = _frame([{"status": None, "path": "/a"}, {"status": 200, "path": "/a"}], 2)
    c_tally.add(frame, 0, 0)
    assert c_tally.take()["paths"]["hits"].to_list() == [1]


def test_the_c_module_refuses_columns_it_cannot_read() -> None:
    from loglens.aggregate import _tally

    counter = _tally.Tally(1)
    with pytest.raises(TypeError, match="typed as loglens's records"):
        counter.add(pl.DataFrame({"path": ["/a"]}).__arrow_c_stream__(), 0, 0)
    stream = _frame([{"status": 200}], 1).select(COLUMNS).__arrow_c_stream__()
    counter.add(stream, 0, 0)
    with pytest.raises(ValueError, match="already consumed"):
        counter.add(stream, 0, 0)


def test_the_tally_is_full_at_its_bound_of_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tally, "MAX_KEYS", 100)
    c_tally = CTally()
    c_tally.add(_frame([{"status": 200, "path": f"/{n}"} for n in range(99)], 1), 0, 0)
    assert not c_tally.full()
    c_tally.add(_frame([{"status": 200, "path": "/last"}], 1), 0, 0)
    assert c_tally.full()
    c_tally.take()
    assert not c_tally.full()
