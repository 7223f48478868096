"""The readable replay report, and the progress bar shown while reading large inputs (rich)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.bar import Bar
from rich.columns import Columns
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from loglens.aggregate.crud import shown
from loglens.replay import ReplayResult
from loglens.report import summarize

PROGRESS_MIN_BYTES = 32 * 1024 * 1024


@contextmanager
def progress_bar(names: tuple[str, ...]) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on stderr for large inputs, when stderr is a terminal."""
    sizes = [os.path.getsize(n) for n in names if n != "-" and os.path.isfile(n)]
    if not sys.stderr.isatty() or sum(sizes) < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("read", total=sum(sizes))
        yield lambda done: bar.update(task, completed=done)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _panel(title: str, rows: list[tuple[str, int]], total: int, key: str = "value") -> Table:
    """A top-N panel; its key column takes the width there is and cuts what does not fit with an ellipsis.

    Keys are plain text cells (input is never read as rich markup) kept on one line: the column wraps,
    for rich to shrink it to the screen, while its cells do not.
    """
    table = _titled(title, min_width=len(title))
    table.add_column(key)
    table.add_column("hits", justify="right", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    for name, count in rows:
        table.add_row(_cell(name), f"{count:,}", _share(count, total))
    return table


def _hours(hours: dict[str, int], total: int) -> Table:
    """Hits per hour of day, each with a bar as long as its hits against the busiest hour's."""
    table = _titled("hits per hour (UTC)", expand=True)
    table.add_column("hour", no_wrap=True)
    table.add_column("hits", justify="right", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    table.add_column("", ratio=1)
    peak = max(hours.values())
    for hour, count in hours.items():
        if count:
            table.add_row(hour, f"{count:,}", _share(count, total), Bar(peak, 0, count))
    return table


def _titled(title: str, *, min_width: int | None = None, expand: bool = False) -> Table:
    return Table(
        title=title, title_justify="left", title_style="bold", show_edge=False, pad_edge=False,
        min_width=min_width, expand=expand,
    )  # fmt: skip


def _cell(value: object) -> Text:
    return Text(str(value), no_wrap=True, overflow="ellipsis")


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}" if total else "-"


def print_table(
    result: ReplayResult, section_limit: int = 10, top: int = 10, console: Console | None = None
) -> None:
    """Print the readable report: the overview, the short panels side by side, then the panels of long
    text (sections, paths, referrers) and the hours, each across the screen."""
    console = console or Console()
    doc = summarize(result, section_limit, top)
    rate = doc["lines"] / result.elapsed if result.elapsed > 0 else 0.0
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("files", Text(", ".join(doc["files"])))
    overview.add_row(
        "lines", f"{doc['lines']:,}  ({doc['parsed']:,} parsed, {doc['lines'] - doc['parsed']:,} bad)"
    )
    overview.add_row("hits", f"{doc['hits']:,}")
    overview.add_row("bytes", _human_bytes(doc["bytes"]))
    overview.add_row("time span", f"{doc['first_ts'] or '-'}  ..  {doc['last_ts'] or '-'}")
    overview.add_row("read in", f"{result.elapsed:.2f} s  ({rate:,.0f} lines/s)")
    console.print(overview)
    hits = doc["hits"]
    short: list[Table] = []
    wide: list[Table] = []
    if hits:
        short += [
            _panel("status classes", list(doc["status_classes"].items()), hits, "class"),
            _panel("status codes", list(doc["status"].items()), hits, "code"),
            _panel("methods", list(doc["methods"].items()), hits, "method"),
            _panel("crud", shown(doc["crud"]), hits, "operation"),
            _panel("top clients", [tuple(x) for x in doc["clients"]], hits, "client"),
            _panel("browsers", list(doc["browsers"].items()), hits, "family"),
            _panel("bots", list(doc["bots"].items()), hits, "family"),
        ]
        wide += [
            _panel("top sections", [tuple(x) for x in doc["sections"]], hits, "section"),
            _panel("top not found (404)", [tuple(x) for x in doc["not_found"]], hits, "path"),
            _panel("top referrers", [tuple(x) for x in doc["referrers"]], hits, "referrer"),
            _hours(doc["hours"], hits),
        ]
    if doc["levels"]:
        short.append(_panel("levels", list(doc["levels"].items()), sum(doc["levels"].values()), "level"))
    if doc["parse_errors"]:
        short.append(_panel("parse errors", list(doc["parse_errors"].items()), doc["lines"], "reason"))
    console.print()
    console.print(Columns(short, padding=(1, 4)))
    for table in wide:
        console.print()
        console.print(table)
