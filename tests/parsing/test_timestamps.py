"""Timestamps read as RFC 3339 at once agree with the same strings read shape by shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.parsing.timestamps import _parse_shapes, parse_timestamps

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@st.composite
def iso_strings(draw: st.DrawFn) -> str:
    """ISO-8601 times as logs write them: ``T`` or space, ``.`` or ``,`` fractions of 0-9 digits, ``Z``,
    ``z``, ``+HH:MM`` or ``+HHMM`` zones, or none."""
    moment = draw(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)))
    text = moment.strftime("%Y-%m-%d") + draw(st.sampled_from(["T", " "])) + moment.strftime("%H:%M:%S")
    digits = draw(st.integers(0, 9))
    if digits:
        text += (
            draw(st.sampled_from([".", ","]))
            + f"{moment.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits]
        )
    minutes = draw(st.integers(-14 * 60, 14 * 60))
    offset = timezone(timedelta(minutes=minutes)).tzname(None)[3:] or "+00:00"  # "+HH:MM"
    zone = draw(st.sampled_from(["Z", "z", "", offset, offset.replace(":", "")]))
    return text + zone


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(iso_strings(), min_size=1, max_size=30, unique=True),
    zone=st.sampled_from(["UTC", "Europe/Paris"]),
)
def test_rfc3339_fast_path_agrees_with_every_shape(values: list[str], zone: str) -> None:
    raw = pl.Series(values, dtype=pl.String)
    fast = parse_timestamps(raw, zone, NOW)
    assert fast.to_list() == _parse_shapes(raw, zone, NOW).to_list(), values
