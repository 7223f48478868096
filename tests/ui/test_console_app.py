"""The Textual console driven headless by Pilot: a real file, a frozen clock, refreshes the test triggers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from loglens.alerts.rules import format_time
from loglens.clock import FrozenClock
from loglens.sources.file_tail import FileFollower
from loglens.ui.console.app import HelpScreen, WatchApp
from loglens.ui.console.monitor import WatchOptions
from loglens.ui.console.text import clock_time
from ui.console_helpers import watch_monitor

NOW = 1_700_000_000
Follow = Callable[[Path, bool], FileFollower]


def make_app(log_file: Any, follow: Follow, **options: Any) -> tuple[WatchApp, FrozenClock]:
    """The app over ``log_file`` at a frozen clock, refreshed only when the test says so."""
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(**options), clock)
    return WatchApp(monitor, None, str(log_file.path)), clock


def shown(app: WatchApp, selector: str) -> str:
    return str(app.query_one(selector, Static).content)


def screen_text(app: WatchApp) -> str:
    """Every character on screen, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.mark.asyncio
async def test_appended_lines_show_after_a_refresh(log_file: Any, follow: Follow) -> None:
    app, _clock = make_app(log_file, follow, time_window=10)
    async with app.run_test(size=(80, 24)) as pilot:
        assert shown(app, "#stats").startswith("hits 0 ")
        log_file.hits(NOW - 2, 6, section="/shop", status=200)
        log_file.hits(NOW - 1, 2, section="/admin", status=503, size="-")
        log_file.write("garbage that is no log line\n")
        assert shown(app, "#stats").startswith("hits 0 ")
        await app.update_data()
        await pilot.pause()
        stats = "hits 8 · 0.8/s · 3.0 KiB · users 0 · clients 1 · 4xx 0 · 5xx 2"
        assert shown(app, "#stats") == stats
        table = app.query_one(DataTable)
        rows = [table.get_row_at(i)[:3] for i in range(table.row_count)]
        assert rows == [["/shop", 6, 0], ["/admin", 2, 2]]
        assert "lines 9 · parse errors 1 (no_match 1)" in shown(app, "#status")
        mix = shown(app, "#mix")
        assert "200" in mix and "503" in mix and "GET" in mix


@pytest.mark.asyncio
async def test_alert_fires_and_recovers_with_the_exact_message(log_file: Any, follow: Follow) -> None:
    app, clock = make_app(log_file, follow, alert_window=5, threshold=3)
    async with app.run_test(size=(100, 30)) as pilot:
        assert shown(app, "#alert").startswith("No alert - hits = 0.0")
        log_file.hits(NOW - 8, 6)
        log_file.hits(NOW - 7, 8)
        log_file.hits(NOW - 6, 8)
        log_file.hits(NOW - 3, 12)
        await app.update_data()
        assert shown(app, "#alert") == "No alert - hits = 2.4/s over 5s (threshold 3)"
        log_file.hits(NOW - 2, 9)
        await app.update_data()
        await pilot.pause()
        fired = f"High traffic generated an alert - hits = 4.2, triggered at {format_time(NOW)}"
        assert shown(app, "#alert") == f"ALERT  {fired}"
        assert app.query_one("#alert").has_class("firing")
        assert fired in screen_text(app)
        clock.advance(2)
        await app.update_data()
        await pilot.pause()
        recovered = f"High traffic alert recovered at {format_time(NOW + 2)} - hits = 1.8"
        assert shown(app, "#alert") == recovered
        assert not app.query_one("#alert").has_class("firing")
        assert recovered in screen_text(app)
        incident = f"○ {format_time(NOW)} → {clock_time(NOW + 2)}  2s  max 4.2 hits/s"
        assert incident in shown(app, "#incidents")


@pytest.mark.asyncio
async def test_keys_pause_sort_help_quit(log_file: Any, follow: Follow) -> None:
    app, _clock = make_app(log_file, follow)
    async with app.run_test(size=(80, 24)) as pilot:
        log_file.hits(NOW - 1, 5, section="/busy")
        log_file.hits(NOW - 1, 2, section="/broken", status=500)
        await app.update_data()
        table = app.query_one(DataTable)
        assert table.get_row_at(0)[0] == "/busy"
        await pilot.press("s")
        assert app.sort == "errors"
        assert table.get_row_at(0)[0] == "/broken"
        await pilot.press("p")
        assert "PAUSED" in shown(app, "#header")
        log_file.hits(NOW - 1, 10, section="/late")
        await app.update_data()
        assert "hits 7 " in shown(app, "#stats")  # frozen while paused
        await pilot.press("p")
        assert "hits 17 " in shown(app, "#stats")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("x")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.asyncio
async def test_fits_80_by_24(log_file: Any, follow: Follow) -> None:
    app, _clock = make_app(log_file, follow, section_limit=8, incident_limit=3)
    async with app.run_test(size=(80, 24)) as pilot:
        for n in range(12):
            log_file.hits(NOW - 1, 12 - n, section=f"/section{n}", status=200 + 100 * (n % 4))
        await app.update_data()
        for _ in range(200):  # the table may draw frames after the stats on a busy machine: up to 10 s
            await pilot.pause(0.05)
            text = screen_text(app)
            if "/section0" in text and "/section7" in text:
                break
        for needle in (
            "loglens watch",
            "hits 78",
            "No alert",
            "hits/s, last 120s",
            "/section0",
            "/section7",
            "lines 78",
            "q Quit",
        ):
            assert needle in text, f"{needle}\n{text}"
        assert app.query_one(DataTable).row_count == 8
        for widget in ("#header", "#stats", "#alert", "#graph", "#status"):
            region = app.query_one(widget).region
            assert region.height >= 1 and region.bottom <= 24, widget


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_quit_at_once(log_file: Any, follow: Follow, key: str) -> None:
    app, _clock = make_app(log_file, follow)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


@pytest.mark.asyncio
async def test_notes_show_above_the_footer_and_follow_their_source(log_file: Any, follow: Follow) -> None:
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(), clock)
    told = ["first"]
    app = WatchApp(monitor, None, str(log_file.path), notes=lambda: told[-1])
    async with app.run_test(size=(80, 24)) as pilot:
        assert shown(app, "#notes") == "first"
        told.append("second")
        await app.update_data()
        await pilot.pause()
        assert shown(app, "#notes") == "second"
