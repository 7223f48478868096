"""``loglens demo``: generated traffic, ``loglens run`` on it and the live console, in one process tree.

Nothing external is needed: ``loglens generate`` writes three rotating log streams into a temporary
folder (with a traffic spike and an error burst on its timeline), and one runtime follows them: it
serves ``/metrics`` and the API, and the console reads the same runtime, so both show the same lines.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import click

from loglens.agent import Agent
from loglens.clock import SystemClock
from loglens.config import Settings, load_settings
from loglens.demo_schedule import Schedule
from loglens.errors import LoglensError
from loglens.options import examples, listen_option
from loglens.run import warn_if_exposed
from loglens.ui.console.command import run_plain
from loglens.ui.console.monitor import Monitor, WatchOptions

#: The generated traffic: about 8 lines/s across three streams, a x6 spike at 40 s for 40 s (which the
#: 30 s / 15 hits/s alert catches and then sees recover), an error burst at 100 s, rotation every 256 KiB.
SCENARIOS = ("spike@40+40:factor=6", "error-burst@100+10:count=150")
GENERATOR_ARGS = (
    "--format", "combined", "--durations", "--rate", "8", "--streams", "3",
    "--rotate-bytes", "256k", "--rotate-mode", "rename", "--seed", "7",
    *(arg for spec in SCENARIOS for arg in ("--scenario", spec)),
)  # fmt: skip
ALERT = WatchOptions(time_window=10, alert_window=30, threshold=15.0, section_limit=8, incident_limit=3)
ALERT_SETTINGS = {"threshold": ALERT.threshold, "window_seconds": ALERT.alert_window, "incident_limit": 3}


def start_generator(folder: Path) -> subprocess.Popen[bytes]:
    """Start ``loglens generate`` writing into ``folder`` until it is terminated."""
    command = [sys.executable, "-m", "loglens", "generate", "--output", str(folder), *GENERATOR_ARGS]
    timeline = (folder.parent / "timeline.txt").open("wb")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=timeline)


def demo_settings(work: Path, listen: str) -> Settings:
    """The demo's settings: the generated streams in ``work/logs``, the checkpoint in ``work/state``."""
    return load_settings(
        server={"listen": listen},
        state={"dir": work / "state"},
        tail={"from_start": True},
        sources=[{"path": str(work / "logs" / "*.log"), "format": "combined"}],
        alert=ALERT_SETTINGS,
    )


def urls(agent: Agent) -> list[tuple[str, str]]:
    """What the demo serves: (name, URL)."""
    url = agent.url
    return [
        ("web page", f"{url}/"),
        ("index", f"{url}/api"),
        ("metrics", f"{url}/metrics"),
        ("status", f"{url}/api/status"),
        ("insights", f"{url}/api/insights?window=10"),
        ("alerts", f"{url}/api/alerts"),
        ("push API", f"{url}/api/docs"),
    ]


def banner(agent: Agent, folder: Path, schedule: Schedule, now: float) -> str:
    """What to open, and what will happen, printed before the console starts."""
    lines = [f"loglens demo: generated logs in {folder}"]
    lines += [f"  {name:<9} {url}" for name, url in urls(agent)]
    return "\n".join([*lines, schedule.summary(now), "Ctrl-C stops the demo."])


def notes(agent: Agent, schedule: Schedule, clock: SystemClock) -> Callable[[], str]:
    """The console's two demo lines: the schedule as of now, and the URLs."""
    served = f"{agent.url}: / (the web page) /metrics /api/status /api/alerts /api/docs"
    return lambda: f"{schedule.line(clock.now())}\n{served}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command(
    "demo",
    epilog=examples(
        "loglens demo",
        "loglens demo --listen :9911 --headless",
        "loglens demo --plain --duration 60",
    ),
)
@listen_option(default="127.0.0.1:9911", note="; port 0: any free port")
@click.option("--headless", is_flag=True, help="No console: serve the metrics and API only.")
@click.option("--plain", is_flag=True, help="Print a plain-text report every refresh instead of the console.")
@click.option("--duration", type=click.FloatRange(min=1), help="Stop by itself after this many seconds.")
@click.option("--keep", is_flag=True, help="Keep the generated logs and checkpoint when the demo ends.")
def demo(listen: str, headless: bool, plain: bool, duration: float | None, keep: bool) -> None:
    """Run loglens on generated traffic (spike, error burst, rotation) with no external service.

    q or Ctrl-C quits the console; the incident schedule is printed again on exit.
    """
    work = Path(tempfile.mkdtemp(prefix="loglens-demo-"))
    logs = work / "logs"
    logs.mkdir()
    clock = SystemClock()
    generator = start_generator(logs)
    schedule = Schedule.of(SCENARIOS, clock.now())
    agent = Agent(demo_settings(work, listen))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a closed terminal or a kill cleans up like Ctrl-C
        signal.signal(sig, _interrupt)
    if duration is not None:
        threading.Timer(duration, stop.set).start()
    try:
        agent.start()
        warn_if_exposed(agent.settings)
        click.echo(banner(agent, logs, schedule, clock.now()), err=headless or plain)
        if headless:
            stop.wait()
            return
        monitor = Monitor(agent.runtime, ALERT)
        if plain or not sys.stdout.isatty():
            refreshes = None if duration is None else max(1, int(duration / 2))
            run_plain(monitor, 2.0, clock, sys.stdout, iterations=refreshes)
        else:
            from loglens.ui.console.app import WatchApp

            app = WatchApp(monitor, 2.0, f"(demo, {agent.url})", notes(agent, schedule, clock))
            if duration is not None:
                threading.Timer(duration, app.exit).start()
            app.run()
    except KeyboardInterrupt:
        pass
    except LoglensError:
        raise
    finally:
        stop.set()
        generator.terminate()
        generator.wait(10)
        agent.stop()
        click.echo(schedule.summary(clock.now()), err=True)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        elif headless or plain:
            click.echo(f"kept {work}", err=True)
