"""The full-screen ``loglens watch`` console (Textual), laid out to fit 80x24."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Sparkline, Static

from loglens.aggregate.insights import SECTION_SORTS
from loglens.errors import LoglensError
from loglens.ui.console import text
from loglens.ui.console.monitor import Feed, Snapshot

HELP = """\
[b]loglens watch[/b]

  q   quit (Ctrl-C too)
  p   pause / resume the screen (reading and alerts go on)
  s   cycle the order of the sections: hits, errors, error share, name
  ?   this help (any key closes it)

The header counts the last --time-window seconds. The high-traffic alert
fires when the hits of the last --alert-window seconds, divided by that
window, reach --alert-threshold, and recovers when they fall below it.
Alerts are checked every second of time, shown every --refresh seconds.

crud: the window's requests by create (POST), read (GET, HEAD), update
(PUT, PATCH) and delete (DELETE); O, any other method.
"""


#: Section table columns: sort key, header.
_COLUMNS = (("section", "section"), ("hits", "hits"), ("errors", "errors"), ("error_share", "err%"))


class HelpScreen(ModalScreen[None]):
    """Keys and alert semantics; any key closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 76; height: auto; border: round $accent; padding: 0 1; background: $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Static(HELP)

    def on_key(self) -> None:
        self.dismiss()


class WatchApp(App[None]):
    """Shows a :class:`Feed` snapshot every ``refresh_seconds`` (never on its own when None)."""

    TITLE = "loglens watch"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    Screen { layout: vertical; }
    #header { height: 1; background: $primary; color: $text; text-style: bold; }
    #stats { height: 1; }
    #alert { height: auto; max-height: 2; background: $success-darken-2; }
    #alert.firing { background: $error; text-style: bold; }
    #graph-title { height: 1; color: $text-muted; }
    #graph { height: 2; }
    #main { height: 1fr; }
    #sections { width: 46; height: 100%; }
    #mix { width: 1fr; padding: 0 1; }
    #incidents { height: auto; max-height: 4; }
    #status { height: 1; color: $text-muted; }
    #notes { height: auto; max-height: 2; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("p", "pause", "Pause"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(
        self,
        monitor: Feed,
        refresh_seconds: float | None,
        sources: str,
        notes: Callable[[], str] | None = None,
    ) -> None:
        """``notes``: lines shown above the footer, read at every redraw (the demo's URLs and schedule)."""
        super().__init__()
        self.notes = notes
        self.monitor = monitor
        self.refresh_seconds = refresh_seconds
        self.sources = sources
        self.paused = False
        self.sort = SECTION_SORTS[0]
        self.snapshot: Snapshot | None = None
        self.problem: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Static(id="stats")
        yield Static(id="alert")
        yield Static(id="graph-title")
        yield Sparkline([], id="graph")
        with Horizontal(id="main"):
            yield DataTable(id="sections", show_cursor=False, zebra_stripes=True)
            yield Static(id="mix")
        yield Static(id="incidents")
        yield Static(id="status")
        if self.notes is not None:
            yield Static(id="notes")
        yield Footer()

    async def on_mount(self) -> None:
        await self.update_data()
        if self.refresh_seconds:
            self.set_interval(self.refresh_seconds, self.update_data)

    async def update_data(self) -> None:
        """Read, evaluate alerts and redraw (the redraw waits while paused). Tests call this directly."""
        try:
            self.snapshot = await asyncio.to_thread(self.monitor.refresh, self.sort)
            self.problem = None
        except (OSError, LoglensError) as exc:  # a source went away: keep showing, say why
            self.problem = str(exc)
        self.redraw()

    def redraw(self) -> None:
        """Render the current snapshot into the widgets."""
        snap = self.snapshot
        self._header(snap)
        if self.notes is not None:
            self.query_one("#notes", Static).update(self.notes())
        status = self.query_one("#status", Static)
        if self.problem:
            status.update(self.problem)
        if snap is None or self.paused:
            return
        self.query_one("#stats", Static).update(text.stats_line(snap))
        alert = self.query_one("#alert", Static)
        alert.update(("ALERT  " if snap.firing else "") + text.alert_line(snap))
        alert.set_class(snap.firing, "firing")
        self.query_one("#graph-title", Static).update(text.graph_title(snap))
        self.query_one(Sparkline).data = [float(v) for v in snap.rate_series]
        self._sections(snap)
        self.query_one("#mix", Static).update(self._mix(snap))
        incidents = [f"{'●' if i.active else '○'} {text.incident_line(i, snap.now)}" for i in snap.incidents]
        shown = [f"incidents (last {snap.options.incident_limit}):", *incidents] if incidents else []
        self.query_one("#incidents", Static).update(
            "\n".join([*filter(None, [text.active_line(snap), text.anomaly_line(snap)]), *shown])
        )
        if not self.problem:
            status.update(text.footer_line(snap))

    def _header(self, snap: Snapshot | None) -> None:
        when = text.header_line(snap) if snap else "starting"
        flags = " · PAUSED (p resumes)" if self.paused else ""
        self.query_one("#header", Static).update(f"loglens watch {self.sources} · {when}{flags}")

    def _sections(self, snap: Snapshot) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        marks = {self.sort: " ▲" if self.sort == "section" else " ▼"}
        rows = [
            (row["section"][:24], row["hits"], row["errors"], f"{100 * row['error_share']:.1f}%")
            for row in snap.window["sections"]
        ]
        # widths set from the cells: the table's own sizing was seen to fall back to the headers' widths
        for index, (key, label) in enumerate(_COLUMNS):
            header = f"{label}{marks.get(key, '')}"
            width = max([len(header), *(len(str(row[index])) for row in rows)])
            table.add_column(header, width=width)
        table.add_rows(rows)

    @staticmethod
    def _mix(snap: Snapshot) -> Text:
        out = Text()
        w = snap.window

        def panel(title: str, counts: dict[str, int], limit: int) -> None:
            if counts:
                out.append(f"{title}\n", style="bold")
                for key, count, pct in text.shares(counts, limit):
                    out.append(f"{key:<9}{count:>8} {pct:5.1f}%\n")

        panel("status", w["status"], 5)
        panel("methods", w["methods"], 3)
        if crud := text.crud_compact(w["crud"]):
            out.append("crud ", style="bold")
            out.append(f"{crud}\n")
        panel("levels", w["levels"], 6)
        return out

    def action_pause(self) -> None:
        """Freeze or unfreeze the screen."""
        self.paused = not self.paused
        self.redraw()

    async def action_cycle_sort(self) -> None:
        """Next section order, shown at once without reading."""
        self.sort = SECTION_SORTS[(SECTION_SORTS.index(self.sort) + 1) % len(SECTION_SORTS)]
        self.snapshot = await asyncio.to_thread(self.monitor.snapshot, self.sort)
        self.redraw()

    def action_help(self) -> None:
        """Show the keys."""
        self.push_screen(HelpScreen())
