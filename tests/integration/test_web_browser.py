"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright.

The live page, while ``loglens generate`` feeds ``loglens run``, shows its numbers change, and an alert
fired by a traffic spike appear and recover; in the light and the dark theme, with screenshots of both
states kept (in ``$LOGLENS_ARTIFACTS`` when set, else in pytest's temporary folder, which keeps the last
three runs). Every request the page makes goes to loglens, and the console shows no error. The static
report opens from disk and shows the numbers of ``replay --output json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.agent_helpers import AgentProcess
from support import require_tool

pytestmark = pytest.mark.integration

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
THEMES = ("light", "dark")
#: The built-in alert: over 12 hits/s averaged over 4 s. The generator writes 4 lines/s, x8 during the spike.
CONFIG = "alert:\n  threshold: 12\n  window_seconds: 4\n"
GENERATOR = ["--rate", "4", "--scenario", "spike@6+10:factor=8", "--duration", "90s", "--seed", "3"]
WAIT_MS = 45_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = require_tool("chromium", "chromium")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ["LOGLENS_ARTIFACTS"]) if os.environ.get("LOGLENS_ARTIFACTS") else None
    folder = folder or tmp_path_factory.mktemp("web-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


class Watched:
    """A page in one theme, with every request it made and every console error it logged."""

    def __init__(self, browser: Any, theme: str) -> None:
        self.context = browser.new_context(color_scheme=theme, viewport={"width": 1400, "height": 1000})
        self.theme = theme
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def number(self, kpi: str) -> int:
        """A KPI as an integer (as the page writes it, with thousands separators)."""
        return int(self.page.inner_text(f"#kpi-{kpi} .value").replace(",", ""))

    def table(self, name: str) -> dict[str, str]:
        """First and second cell of each row of a panel's table."""
        cells = self.page.eval_on_selector_all(
            f"#t-{name} tbody tr",
            "rows => rows.map(r => [r.children[0].textContent, r.children[1].textContent])",
        )
        return dict(cells)

    def shoot(self, folder: Path, state: str) -> Path:
        path = folder / f"{state}-{self.theme}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def test_the_live_page_follows_the_logs_and_shows_an_alert_fire_and_recover(
    browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    log, config = tmp_path / "access.log", tmp_path / "loglens.yaml"
    log.touch()
    config.write_text(CONFIG, encoding="utf-8")
    agent = AgentProcess(
        [str(log), "--config", str(config), "--state-dir", str(tmp_path / "state")], tmp_path / "run.out"
    )
    generator = subprocess.Popen(
        [sys.executable, "-m", "loglens", "generate", *GENERATOR, "-o", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pages = [Watched(browser, theme) for theme in THEMES]
    try:
        for watched in pages:
            watched.page.goto(f"{agent.url}/")
            watched.page.wait_for_function(
                "() => /^[0-9,]+$/.test(document.querySelector('#kpi-lines .value')?.textContent ?? '')",
                timeout=WAIT_MS,
            )
        first = pages[0].number("lines")
        lines_shown = "Number(document.querySelector('#kpi-lines .value').textContent.replace(/,/g, ''))"
        pages[0].page.wait_for_function(
            f"() => {lines_shown} > {first}",
            timeout=WAIT_MS,
        )  # the numbers change as lines are written, with no reload
        for watched in pages:
            watched.page.wait_for_selector("#t-active td.firing", timeout=WAIT_MS)
            assert watched.table("active")
            assert next(iter(watched.table("active"))).startswith("high_traffic")
            watched.shoot(artifacts, "firing")
        for watched in pages:
            watched.page.wait_for_function(
                """() => !document.querySelector('#t-active')
                     && [...document.querySelectorAll('#t-history tbody tr')]
                       .some(row => row.children[2].textContent !== 'firing')""",
                timeout=WAIT_MS,
            )
            watched.shoot(artifacts, "recovered")
        import httpx

        # one spike, one incident, unless the loaded machine slowed the generator mid-spike and the
        # alert fired again: then each one shown is checked
        history = httpx.get(f"{agent.url}/api/alerts", timeout=5).json()["history"]
        assert history and {i["rule"] for i in history} == {"high_traffic"}
        recovered = [incident for incident in history if incident["end"]]
        assert recovered
        for watched in pages:
            shown = watched.page.eval_on_selector_all(
                "#t-history tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent))"
            )
            shown_times = [[when.replace(" ", "T") for when in row[1:3]] for row in shown]
            for incident in recovered:
                assert [incident["start"], incident["end"]] in shown_times
        sort = pages[0].page.locator("#t-status th:nth-child(1) button")
        sort.focus()
        pages[0].page.keyboard.press("Enter")  # the sort buttons work from the keyboard
        assert pages[0].page.get_attribute("#t-status th:nth-child(1)", "aria-sort") == "ascending"
    finally:
        generator.terminate()
        generator.wait()
        for watched in pages:
            watched.context.close()
        agent.stop()
    for watched in pages:
        assert watched.requests and all(url.startswith(agent.url + "/") for url in watched.requests), (
            watched.requests
        )
        assert not watched.errors, watched.errors


def test_the_report_opens_from_disk_with_the_numbers_of_the_json_report(
    browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    log = tmp_path / "access.log"
    loglens = [sys.executable, "-m", "loglens"]
    subprocess.run(
        [
            *loglens,
            "generate",
            "--count",
            "5000",
            "--seed",
            "11",
            "--start",
            "2026-01-02T03:04:05Z",
            "-o",
            str(log),
        ],
        check=True,
        capture_output=True,
    )
    report = tmp_path / "report.html"
    with report.open("wb") as out:
        subprocess.run([*loglens, "replay", "--output", "html", str(log)], stdout=out, check=True)
    expected = json.loads(
        subprocess.run(
            [*loglens, "replay", "--output", "json", str(log)], capture_output=True, check=True
        ).stdout
    )
    for theme in THEMES:
        watched = Watched(browser, theme)
        try:
            watched.page.goto(report.as_uri())
            watched.page.wait_for_selector("#t-status")
            assert (watched.number("lines"), watched.number("hits")) == (expected["lines"], expected["hits"])
            status = {code: int(hits.replace(",", "")) for code, hits in watched.table("status").items()}
            assert status == {code: n for code, n in expected["status"].items()}
            clients = {key: int(hits.replace(",", "")) for key, hits in watched.table("clients").items()}
            assert clients == dict(expected["clients"])
            browsers = {key: int(hits.replace(",", "")) for key, hits in watched.table("browsers").items()}
            assert browsers == expected["browsers"]
            watched.shoot(artifacts, "report")
        finally:
            watched.context.close()
        assert all(url.startswith(("file://", "data:")) for url in watched.requests), watched.requests
        assert not watched.errors, watched.errors
