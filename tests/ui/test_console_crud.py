"""The crud line of ``loglens watch``: the Textual console (Pilot, 80x24) and the plain report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from loglens.clock import FrozenClock
from loglens.sources.file_tail import FileFollower
from loglens.ui.console.app import WatchApp
from loglens.ui.console.monitor import WatchOptions
from loglens.ui.console.text import plain_report
from ui.console_helpers import watch_monitor

NOW = 1_700_000_000
Follow = Callable[[Path, bool], FileFollower]


def _app(log_file: Any, follow: Follow, **options: Any) -> tuple[WatchApp, FrozenClock]:
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(**options), clock)
    return WatchApp(monitor, None, str(log_file.path)), clock


def _screen(app: WatchApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.asyncio
async def test_the_mix_shows_the_crud_shares_of_the_window(log_file: Any, follow: Follow) -> None:
    app, _clock = _app(log_file, follow)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "crud" not in str(app.query_one("#mix", Static).content)  # no request, no line
        log_file.hits(NOW - 1, 6, method="GET")
        log_file.hits(NOW - 1, 1, method="HEAD")
        log_file.hits(NOW - 1, 2, method="POST")
        log_file.hits(NOW - 1, 1, method="PATCH")
        await app.update_data()
        await pilot.pause()
        assert "crud C20% R70% U10% D0%\n" in str(app.query_one("#mix", Static).content)
        assert any("crud C20% R70% U10% D0%" in line for line in _screen(app))
        log_file.hits(NOW - 1, 10, method="OPTIONS")
        await app.update_data()
        await pilot.pause()
        assert "crud C10% R35% U5% D0% O50%\n" in str(app.query_one("#mix", Static).content)


@pytest.mark.asyncio
async def test_the_crud_line_fits_80_by_24_while_an_alert_fires_after_three_incidents(
    log_file: Any, follow: Follow
) -> None:
    """The tallest screen: a two-line alert, three incidents, five statuses and three methods."""
    app, clock = _app(log_file, follow, alert_window=5, threshold=3, incident_limit=3)
    async with app.run_test(size=(80, 24)) as pilot:
        for burst in range(4):
            for n, (status, method) in enumerate(
                (status, method) for status in (200, 201, 404, 500, 503) for method in ("GET", "POST", "PUT")
            ):
                log_file.hits(clock.now() - 1, 1 + n % 3, status=status, method=method)
            await app.update_data()
            if burst < 3:
                clock.advance(10)
                await app.update_data()
        await pilot.pause()
        assert app.query_one("#alert").has_class("firing")
        screen = _screen(app)
        assert sum("max " in line and "hits/s" in line for line in screen) == 3, "\n".join(screen)
        rows = [n for n, line in enumerate(screen) if line.rstrip().endswith("crud C33% R17% U50% D0%")]
        assert rows, "\n".join(screen)
        assert screen[rows[0] + 1].startswith("incidents (last 3):")
        assert len(screen) == 24 and "q Quit" in screen[-1]


def test_the_plain_report_has_a_crud_line(log_file: Any, follow: Follow) -> None:
    clock = FrozenClock(NOW)
    monitor = watch_monitor(follow(log_file.path, False), WatchOptions(), clock)
    monitor.refresh()
    log_file.hits(NOW - 1, 3, method="GET")
    log_file.hits(NOW - 1, 1, method="DELETE")
    report = plain_report(monitor.refresh())
    crud = "crud: create 0 (0.0%), read 3 (75.0%), update 0 (0.0%), delete 1 (25.0%)"
    assert crud in report.splitlines()
    assert report.index("methods: ") < report.index(crud)
    log_file.hits(NOW - 1, 4, method="PROPFIND")
    assert "delete 1 (12.5%), other 4 (50.0%)" in plain_report(monitor.refresh())
