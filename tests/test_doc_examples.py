"""Every example in README.md and docs/*.md, run as written against generated logs.

Shell blocks run line by line (a line continued with ``\\`` or an open quote is one command), in the order the
document gives them, in the document's own copy of a sandbox holding the files the examples name. Paths under
/var/log, /var/lib/loglens and /tmp/demo point into the sandbox, and the documented addresses (port 9911)
point to a ``loglens run`` the test starts on a free port. A command that serves or follows until stopped
(``run``, ``watch``, a paced ``generate``) is stopped with Ctrl-C (SIGINT) once it shows that it works, and
must then exit 0. YAML blocks must pass ``loglens check``; Python blocks must run.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
#: Programs an example line may start with; other lines of a shell block are output shown to the reader.
PROGRAMS = ("loglens", "curl", "zcat", "tail", "jq", "make", ".venv/bin/python")
#: Examples that cannot run here, and why: each reason names what is missing or where it is run instead.
WAITING = {
    "make ": "make demo and make test are what CI and tests/test_demo.py run",
    "bench/": "a benchmark (bench/README.md), not a usage example",
    "nats://10.0.0.5": "needs a NATS server there; tests/jetstream runs the same commands on a real one",
}
LONG_RUNNING = re.compile(r"\bloglens (run|watch|demo)\b")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Example:
    """One command (or block) of a document."""

    doc: str
    line: int
    kind: str  # sh, yaml or python
    text: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text.splitlines()[0]}"


def _commands(block: str, first_line: int) -> Iterator[tuple[int, str]]:
    """The block's command lines, continuations joined; output and comment lines left out.

    A line ending in ``\\`` goes on with a space; a line inside an open quote goes on with its newline.
    """
    text, start = "", first_line
    for number, line in enumerate(block.splitlines(), first_line):
        if not text:
            if not line.strip().startswith(PROGRAMS) and not re.match(r"^[A-Z_]+=\S+ loglens ", line):
                continue
            start = number
        if line.endswith("\\"):
            text += line[:-1]
            continue
        text += line
        try:
            shlex.split(text, comments=True)
        except ValueError:  # an open quote: the command goes on
            text += "\n"
            continue
        yield start, text
        text = ""


def examples(doc: Path) -> list[Example]:
    """Every example of ``doc``, in order."""
    text = doc.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        lang, body = match.group(1), match.group(2)
        first = text.count("\n", 0, match.start(2)) + 1
        if lang in ("sh", "bash"):
            found += [Example(doc.name, n, "sh", command) for n, command in _commands(body, first)]
        elif lang in ("yaml", "python"):
            found.append(Example(doc.name, first, lang, body))
    return found


def _waiting(example: Example) -> str | None:
    return next((why for needle, why in WAITING.items() if needle in example.text), None)


ALL = [example for doc in DOCS for example in examples(doc)]


def _template(root: Path) -> Path:
    """The files the examples name: generated access and application logs, archives, a push batch, a
    settings file with an alert rule."""
    base = root / "template"
    base.mkdir()
    loglens = str(BIN / "loglens")
    access, app = base / "access.log", base / "app.log"
    common = ["--start", "2026-12-01T07:00:00Z", "--seed", "7"]
    subprocess.run([loglens, "generate", "-n", "3000", "--format", "combined", *common, "-o", str(access)],
                   check=True)  # fmt: skip
    subprocess.run(
        [loglens, "generate", "-n", "500", "--format", "level", *common, "-o", str(app)], check=True
    )
    for gz in ("access.log.1.gz", "access.log.2.gz", "old.log.gz"):
        with gzip.open(base / gz, "wb") as out:
            out.write(access.read_bytes())
    shutil.copy(access, base / "old-access.log")
    for folder, source in (("var/log/nginx", access), ("var/log/app", app), ("var/log/apps", app)):
        (base / folder).mkdir(parents=True)
        shutil.copy(source, base / folder / ("access.log" if source == access else "app.log"))
    (base / "var/log/demo").mkdir()
    (base / "loglens.yaml").write_text(
        "alerts:\n  - {name: error_burst, count: {level: ERROR}, window: 60s, threshold: 11}\n",
        encoding="utf-8",
    )
    (base / "batch.json").write_text(
        '{"source": "my_app", "metrics": [{"name": "jobs_done", "metric_type": "counter", '
        '"help": "Jobs done", "labels": {}, "value": {"value": 3}}]}',
        encoding="utf-8",
    )
    return base


@dataclass
class Sandbox:
    """A copy of the template per document, and the documented server."""

    template: Path
    root: Path
    port: int

    def folder(self, doc: str) -> Path:
        """The document's copy of the template: its examples run in order and may use each other's files."""
        folder = self.root / doc
        if not folder.exists():
            shutil.copytree(self.template, folder)
        return folder

    def rewrite(self, text: str, folder: Path) -> str:
        for path in ("/var/log/", "/var/lib/loglens", "/tmp/demo"):
            text = text.replace(path, f"{folder}{path}")
        return re.sub(r"(127\.0\.0\.1|localhost|10\.0\.0\.5):9911", f"127.0.0.1:{self.port}", text)

    def env(self, folder: Path) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "HOME": str(folder),
            "XDG_STATE_HOME": str(folder / "state"),
            "LOGLENS__STATE__DIR": str(folder / "state"),
            "LOGLENS__SERVER__LISTEN": "127.0.0.1:0",  # a documented `loglens run` serves on a free port
            "LOGLENS_PUSH_URL": f"http://127.0.0.1:{self.port}/api/metrics",  # push's default server
            "TOKEN": "s3cret",
            "COLUMNS": "120",
        }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("doc-examples")
    template = _template(root)
    port = free_port()
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(
        [BIN / "loglens", "run", str(template / "access.log"), "--from-start",
         "--listen", f"127.0.0.1:{port}", "--state-dir", str(root / "server-state")],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait(lambda: _healthy(f"http://127.0.0.1:{port}"), f"the documented server on port {port}")
        yield Sandbox(template, root, port)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _group(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, _ppid, group = stat.rpartition(")")[2].split()[:3]
        if int(group) == pgid and state != "Z":  # an exited child not yet waited for is gone
            found.append((int(entry.name), cmdline))
    return found


def _ingested(url: str) -> float:
    """Lines the server at ``url`` took over HTTP so far."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return sum(float(v) for v in re.findall(r"^loglens_ingest_lines_total\{[^}]*\} (\S+)$", text, re.M))


def _is_loglens(cmdline: str) -> bool:
    """Whether a process runs the loglens command (its interpreter's first arguments)."""
    return any(arg == "loglens" or arg.endswith("/loglens") for arg in cmdline.split(" ")[:2])


def _shows_it_works(out: Path, err: Path, folder: Path, command: str) -> Callable[[], bool]:
    """The sign that a long-running example is up: a served URL answers, a report or new lines appear."""
    target = re.search(r"(?:-o|--output) (\S+)", command)
    if target and target[1].startswith("http://"):
        base = target[1].split("/api/")[0]
        sent = _ingested(base)
        return lambda: _ingested(base) > sent
    written = Path(target[1]) if target else out
    written = written if written.is_absolute() else folder / written
    before = written.stat().st_size if written.exists() else 0

    def check() -> bool:
        stderr = err.read_text(errors="replace")
        served = re.search(r"metrics on (http://\S+)/metrics", stderr)
        if served:
            return _healthy(served[1])
        if " watch " in f" {command} ":
            return "== loglens watch" in out.read_text(errors="replace")
        return written.exists() and written.stat().st_size > before

    return check


def _run_sh(example: Example, sandbox: Sandbox) -> str | None:
    """Run one shell example; None when it worked, else what went wrong."""
    folder = sandbox.folder(example.doc)
    command = sandbox.rewrite(example.text, folder)
    out, err = folder / "example.out", folder / "example.err"
    paced = "loglens generate" in command and ("--start" not in command or "--speed" in command)
    long_running = LONG_RUNNING.search(command) or paced
    ready = _shows_it_works(out, err, folder, command)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            ["bash", "-c", command], cwd=folder, env=sandbox.env(folder), stdout=stdout, stderr=stderr,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            if long_running:
                _wait(ready, f"{example} to show it works")
                loglens = [pid for pid, cmdline in _group(process.pid) if _is_loglens(cmdline)]
                for pid in loglens:
                    os.kill(pid, signal.SIGINT)
                _wait(
                    lambda: not any(pid in dict(_group(process.pid)) for pid in loglens),
                    "loglens to quit",
                    30,
                )
                for pid, _ in _group(process.pid):  # what fed it (tail -F) would run on
                    if pid != process.pid:
                        os.kill(pid, signal.SIGTERM)
            code = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    stderr_text = err.read_text(errors="replace")
    if code != 0 or "Traceback" in stderr_text:
        return f"{example}\n  exit {code}; stderr: {stderr_text[-4000:]}"
    return None


def _run_block(example: Example, sandbox: Sandbox) -> str | None:
    folder = sandbox.folder(example.doc)
    text = sandbox.rewrite(example.text, folder)
    if example.kind == "yaml":
        (folder / "loglens.yaml").write_text(text, encoding="utf-8")
        args = [str(BIN / "loglens"), "check", "--config", "loglens.yaml"]
    else:
        args = [sys.executable, "-c", text]
    done = subprocess.run(
        args, cwd=folder, env=sandbox.env(folder), capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        return f"{example}\n  exit {done.returncode}; stderr: {done.stderr[-600:]}"
    return None


@pytest.mark.parametrize("doc", [doc.name for doc in DOCS])
def test_every_example_of_the_document_runs(doc: str, sandbox: Sandbox) -> None:
    ran, failed = 0, []
    for example in (e for e in ALL if e.doc == doc and _waiting(e) is None):
        run = _run_sh if example.kind == "sh" else _run_block
        problem = run(example, sandbox)
        ran += 1
        if problem is not None:
            failed.append(problem)
    assert not failed, "\n".join(failed)
    if not ran:
        pytest.skip(f"{doc} has no runnable example")


@pytest.mark.parametrize("example", [e for e in ALL if _waiting(e) is not None], ids=str)
def test_an_example_that_cannot_run_here_says_why(example: Example) -> None:
    pytest.skip(f"{example}: {_waiting(example)}")


def test_the_examples_are_found() -> None:
    """The extraction itself: a continued command is one example, output lines are not examples."""
    generate = [e.text for e in ALL if e.doc == "generate.md" and "spike@12h+15m" in e.text]
    assert len(generate) == 1 and "--timeline day.timeline.json" in generate[0]
    push = [e.text for e in ALL if e.doc == "push.md" and e.text.startswith("curl -X POST")]
    assert push and push[0].rstrip().endswith("}]}'")
    assert not [e for e in ALL if e.text.startswith(("# ", "app_request_count_total"))]
