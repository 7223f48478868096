"""From a line written to a followed log to its count on the web page: p50, p90 and max.

A real ``loglens run`` follows one file; headless Chromium (Debian's, driven by Playwright) shows its page.
The page records, in the browser, when its line count changes (a MutationObserver, wall-clock
milliseconds); the bench appends one line at a time, at random moments (so the moments fall anywhere in
the page's one-second update), and takes, for each, the time from its write to the first count on the
page that includes it. Usage: ``.venv/bin/python bench/web_latency.py [--lines 40]``.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
OBSERVE = """() => {
  window.seen = [];
  const value = document.querySelector('#kpis');
  new MutationObserver(() => {
    const text = document.querySelector('#kpi-lines .value')?.textContent ?? '';
    if (/^[0-9,]+$/.test(text)) window.seen.push([Date.now(), Number(text.replace(/,/g, ''))]);
  }).observe(value, {childList: true, subtree: true, characterData: true});
}"""


def line() -> str:
    stamp = datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'10.0.0.1 - - [{stamp}] "GET /bench HTTP/1.1" 200 5 "-" "bench"\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=40, help="lines written, one at a time")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "access.log"
        log.touch()
        out = (Path(folder) / "run.out").open("w")
        loglens = Path(sys.executable).parent / "loglens"
        state = str(Path(folder) / "state")
        command = [str(loglens), "run", str(log), "--listen", "127.0.0.1:0", "--state-dir", state]
        run = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = None
            deadline = time.monotonic() + 30
            while url is None and time.monotonic() < deadline:
                printed = (Path(folder) / "run.out").read_text()
                found = re.findall(r"metrics on (http://[\d.:]+)/metrics", printed)
                url = found[-1] if found else None
                time.sleep(0.1)
            assert url, "loglens run printed no URL"
            latencies = measure(url, log, args.lines, args.chromium)
        finally:
            run.terminate()
            run.wait()
    latencies.sort()
    p50 = statistics.median(latencies)
    p90 = latencies[int(0.9 * (len(latencies) - 1))]
    print(f"{len(latencies)} lines: p50 {p50:.3f} s, p90 {p90:.3f} s, max {latencies[-1]:.3f} s, "
          f"min {latencies[0]:.3f} s")  # fmt: skip


def measure(url: str, log: Path, count: int, chromium: str) -> list[float]:
    """Seconds from each line's write to the page's first count that includes it."""
    rng = random.Random(1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        page = browser.new_page()
        page.goto(f"{url}/")
        page.wait_for_selector("#kpi-lines")
        page.evaluate(OBSERVE)
        written: list[float] = []
        with log.open("a", encoding="utf-8") as out:
            for n in range(1, count + 1):
                time.sleep(rng.uniform(0.8, 1.7))
                out.write(line())
                out.flush()
                written.append(time.time())
                page.wait_for_function(f"() => window.seen.some(([, lines]) => lines >= {n})", timeout=20_000)
        seen: list[list[float]] = page.evaluate("() => window.seen")
        browser.close()
    return [next(at for at, lines in seen if lines >= n) / 1000 - when for n, when in enumerate(written, 1)]


if __name__ == "__main__":
    main()
