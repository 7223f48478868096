"""What ``loglens patterns`` prints of the templates: a table or JSON (each line's template as CSV is
:func:`loglens.patterns.reading.write_line_templates`)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import orjson

from loglens.patterns.reading import Mined


def summary(mined: Mined, top: int | None = None) -> list[dict[str, Any]]:
    """The templates kept, most lines first: count, share, first and last line, first and last event
    time (null when none of its lines had one), and the first line as the example."""
    total = mined.lines
    stats = mined.stats.sort(["count", "first_line"], descending=[True, False])
    if top:
        stats = stats.head(top)
    return [
        {
            "id": row["template_id"],
            "template": mined.texts.get(row["template_id"], ""),
            "count": row["count"],
            "share": row["count"] / total,
            "first_line": row["first_line"],
            "last_line": row["last_line"],
            "first_seen": _iso(row["first_ts"]),
            "last_seen": _iso(row["last_ts"]),
            "example": mined.examples.get(row["template_id"], ""),
        }
        for row in stats.iter_rows(named=True)
    ]


def _iso(ts: datetime | None) -> str | None:
    """RFC 3339 in UTC, to the millisecond when the time has a fraction."""
    if ts is None:
        return None
    return ts.isoformat(timespec="milliseconds" if ts.microsecond else "seconds").replace("+00:00", "Z")


def to_json(mined: Mined, top: int | None) -> str:
    """The templates as one JSON object."""
    body = {"lines": mined.lines, "templates_total": mined.templates_total, "templates": summary(mined, top)}
    return orjson.dumps(body).decode()


def print_table(mined: Mined, top: int | None) -> None:
    """The templates as text, one per line with its example below; first and last seen are event times
    when the lines have them, else line numbers."""
    rows = summary(mined, top)
    total = mined.templates_total
    shown = f", top {len(rows)}" if len(rows) < total else ""
    out = [f"{mined.lines:,} lines, {total:,} templates{shown}"]
    seen = [(row["first_seen"] or f"line {row['first_line']}", row["last_seen"] or f"line {row['last_line']}")
            for row in rows]  # fmt: skip
    width = max([len(first) for first, _ in seen] + [len(last) for _, last in seen] + [10])
    counts = max([len(f"{row['count']:,}") for row in rows] + [5])
    out.append(f"{'count':>{counts}}  {'%':>5}  {'first seen':<{width}}  {'last seen':<{width}}  template")
    indent = " " * (counts + 2 + 5 + 2 + 2 * (width + 2))
    for row, (first, last) in zip(rows, seen, strict=True):
        share = f"{100 * row['share']:.1f}"
        out.append(f"{row['count']:>{counts},}  {share:>5}  {first:<{width}}  {last:<{width}}  "
                   f"{row['template']}")  # fmt: skip
        out.append(f"{indent}e.g. {row['example']}")
    sys.stdout.write("\n".join(out) + "\n")
