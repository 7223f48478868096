"""Start, inspect and stop the stack's programs, recorded in ``{state.dir}/stack/stack.json``.

The programs run in their own session, so they outlive ``loglens stack up`` and a Ctrl-C in its
terminal. The record keeps each one's pid and binary: a pid is taken for the program only while the
process of that pid still runs that binary, so a reused pid is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import httpx
import orjson

from loglens.errors import LoglensError
from loglens.stack.components import COMPONENTS, Component, Layout
from loglens.stack.configs import Addresses
from loglens.stack.ports import HOST, any_port, port_free

RECORD = "stack.json"


@dataclass(frozen=True)
class Running:
    """A started program, as the record keeps it."""

    name: str
    pid: int
    binary: str
    url: str
    log: str
    ready_path: str


def choose_port(component: Component, given: int | None) -> int:
    """``given`` (0: any free port), else the component's default port when free, else any free port.

    Raises:
        LoglensError: ``given`` is in use.
    """
    if given == 0:
        return any_port()
    if given is not None:
        if not port_free(given):
            raise LoglensError(f"{component.name}: port {given} is in use; give another, or 0 for any")
        return given
    return component.default_port if port_free(component.default_port) else any_port()


def alive(pid: int, binary: str) -> bool:
    """The process ``pid`` runs and is ``binary`` (not a zombie, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no /proc: the signal check is all there is
    try:
        state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return False  # it exited meanwhile
    return state not in ("Z", "X") and os.path.realpath(argv0) == os.path.realpath(binary)


def ready(item: Running) -> bool:
    """It answers 200 on its readiness path."""
    try:
        return httpx.get(item.url + item.ready_path, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def read_record(folder: Path) -> list[Running]:
    """The programs the record names (none without a record).

    Raises:
        LoglensError: the record cannot be read.
    """
    path = folder / RECORD
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise LoglensError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return [Running(**item) for item in orjson.loads(raw)["running"]]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise LoglensError(f"{path} is not a stack record ({exc}): remove it") from None


def _write_record(folder: Path, running: Sequence[Running]) -> None:
    path = folder / RECORD
    partial = path.with_suffix(".tmp")
    record = {"running": [asdict(item) for item in running]}
    partial.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2))
    partial.replace(path)


def _wait(probe: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _tail(path: str, lines: int = 3) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:])


def up(
    folder: Path,
    deploy: Path,
    loglens: str,
    ports: Mapping[str, int | None],
    timeout: float = 60.0,
    components: Sequence[Component] = COMPONENTS,
) -> list[Running]:
    """Start every component with the shipped configurations, scraping ``loglens`` (``HOST:PORT``), and
    wait until each is ready.

    Raises:
        LoglensError: a binary is missing, a port is taken, the stack already runs there, or a program
            exits or is not ready within ``timeout`` (what was started is stopped again).
    """
    folder.mkdir(parents=True, exist_ok=True)
    still = [item for item in read_record(folder) if alive(item.pid, item.binary)]
    if still:
        names = ", ".join(f"{item.name} (pid {item.pid})" for item in still)
        raise LoglensError(f"the stack already runs in {folder}: {names}; stop it with loglens stack down")
    binaries = {component.name: component.binary() for component in components}
    chosen = {component.name: choose_port(component, ports.get(component.name)) for component in components}
    addresses = Addresses(
        loglens=loglens,
        prometheus=f"{HOST}:{chosen.get('prometheus', 9090)}",
        alertmanager=f"{HOST}:{chosen.get('alertmanager', 9093)}",
    )
    layout = Layout(folder, deploy, addresses)
    running: list[Running] = []
    try:
        for component in components:
            running.append(_start(component, binaries[component.name], layout, chosen[component.name]))
            _write_record(folder, running)
        for item in running:
            if not _wait(partial(_started, item), timeout):
                raise LoglensError(f"{item.name} was not ready within {timeout:g} s: {_tail(item.log)}")
    except BaseException:
        stop(running)
        (folder / RECORD).unlink(missing_ok=True)
        raise
    return running


def _start(component: Component, binary: str, layout: Layout, port: int) -> Running:
    listen = f"{HOST}:{port}"
    args = component.arguments(layout, listen)
    log = layout.folder / f"{component.name}.log"
    with open(log, "ab") as out:
        try:
            process = subprocess.Popen(
                [binary, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=layout.folder,
            )  # fmt: skip
        except OSError as exc:
            raise LoglensError(f"cannot start {binary}: {exc.strerror}") from None
    return Running(component.name, process.pid, binary, f"http://{listen}", str(log), component.ready_path)


def _started(item: Running) -> bool:
    if not alive(item.pid, item.binary):
        raise LoglensError(f"{item.name} exited at start-up: {_tail(item.log)}")
    return ready(item)


def stop(running: Sequence[Running], timeout: float = 30.0) -> list[Running]:
    """SIGTERM each program that still runs (in reverse order), SIGKILL any still running after
    ``timeout``; the ones that were running."""
    stopped = []
    for item in reversed(running):
        if not alive(item.pid, item.binary):
            continue
        _signal(item.pid, signal.SIGTERM)
        if not _wait(partial(_gone, item), timeout):
            _signal(item.pid, signal.SIGKILL)
            _wait(partial(_gone, item), timeout)
        _reap(item.pid)
        stopped.append(item)
    return stopped


def _gone(item: Running) -> bool:
    return not alive(item.pid, item.binary)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Collect the exit status when the program is this process's child (``up`` failing midway)."""
    with contextlib.suppress(ChildProcessError):  # not a child: whoever adopted it collects it
        os.waitpid(pid, os.WNOHANG)


def down(folder: Path, timeout: float = 30.0) -> list[Running]:
    """Stop what the record names and remove the record; the programs that were running."""
    stopped = stop(read_record(folder), timeout)
    (folder / RECORD).unlink(missing_ok=True)
    return stopped
