"""The command line as a user meets it: flags, --listen forms, help, exit codes and completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from loglens.cli import COMMANDS, main
from server.agent_helpers import wait_for
from support import free_port

LOGLENS = str(Path(sys.executable).parent / "loglens")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LOGLENS, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_help_ends_with_examples_and_shows_kebab_case_flags_only(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    tail = [line.strip() for line in result.output.rstrip().splitlines()]
    examples = tail[tail.index("Examples:") + 1 :]
    assert 2 <= len(examples) <= 3
    assert all("loglens " in line for line in examples), examples
    flags = [word for word in result.output.split() if word.startswith("--")]
    assert all(flag.rstrip(",.;)]").islower() and "_" not in flag for flag in flags), flags
    assert "--timewindow" not in flags and "--alertwindow" not in flags


def test_old_flag_spellings_still_work_as_hidden_aliases() -> None:
    from loglens.ui.console.command import watch

    old = watch.make_context("watch", ["a.log", "--timewindow", "7", "--alertwindow", "9"])
    new = watch.make_context("watch", ["a.log", "--time-window", "7", "--alert-window", "9"])
    assert (old.params["time_window"], old.params["alert_window"]) == (7, 9)
    assert old.params == new.params


@pytest.mark.parametrize(("form", "host"), [(":{port}", "127.0.0.1"), ("{port}", "127.0.0.1")])
def test_listen_takes_colon_port_and_a_bare_port(tmp_path: Path, form: str, host: str) -> None:
    port = free_port()
    listen = form.format(port=port)
    with open(tmp_path / "out", "wb") as out:
        process = subprocess.Popen(
            [LOGLENS, "run", "--listen", listen, "--state-dir", str(tmp_path / "state")],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://{host}:{port}"
        wait_for(lambda: _answers(f"{url}/api/health"), what=f"{url} to answer")
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
    output = (tmp_path / "out").read_text(encoding="utf-8")
    warned = "beyond this machine, with no token" in output
    assert warned == listen.startswith(":"), output
    assert f"state folder {tmp_path / 'state'}" in output


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_an_environment_variable_error_names_the_variable() -> None:
    result = _run("check", env={"LOGLENS__SERVER__LISTEN": "garbage"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "loglens: environment variable LOGLENS__SERVER__LISTEN: 'server.listen': "
        "expected HOST:PORT, :PORT or PORT (0-65535), got 'garbage'"
    ]


def test_a_flag_error_names_the_flag(tmp_path: Path) -> None:
    result = _run("run", "--listen", "nowhere:port", "--state-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("loglens: --listen: 'server.listen': expected HOST:PORT")


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("loglens, version ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_name_loglens(shell: str) -> None:
    result = _run("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_LOGLENS_COMPLETE" in result.stdout


def test_the_bash_completion_script_loads_and_completes_commands_and_flags() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    script = _run("completion", "bash").stdout
    loaded = subprocess.run([bash, "-c", f"{script}\ncomplete -p loglens"], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert "-F _loglens_completion loglens" in loaded.stdout
    words = _run(
        "", env={"_LOGLENS_COMPLETE": "bash_complete", "COMP_WORDS": "loglens re", "COMP_CWORD": "1"}
    )
    assert words.stdout.split() == ["plain,replay"]
    flags = _run("", env={"_LOGLENS_COMPLETE": "bash_complete", "COMP_WORDS": "loglens watch --alert-w",
                          "COMP_CWORD": "2"})  # fmt: skip
    assert flags.stdout.split() == ["plain,--alert-window"]


def test_a_usage_error_exits_2() -> None:
    assert _run("watch", "--no-such-flag").returncode == 2
    assert _run("completion", "tcsh").returncode == 2
