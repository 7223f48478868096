"""The ``loglens`` command group.

Each command lives in the module that owns its capability; this group only names them and imports a
command when it is called, so ``loglens --help`` stays fast and one broken command cannot hide the others.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from loglens import __version__
from loglens.errors import LoglensError

# pydantic looks up plugins in the entry points of every installed package when it builds its first model;
# loglens uses none, and the look-up is a measurable share of a command's start-up (bench/README.md).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

#: command name -> "module:attribute" of its click command. One line per command.
COMMANDS: dict[str, str] = {
    "alerts": "loglens.alerts.command:alerts",
    "archive": "loglens.archive.command:archive",
    "demo": "loglens.demo:demo",
    "replay": "loglens.replay:replay_command",
    "run": "loglens.run:run_command",
    "stack": "loglens.stack.command:stack",
    "check": "loglens.check:check_command",
    "completion": "loglens.completion:completion_command",
    "generate": "loglens.generate.command:generate",
    "patterns": "loglens.patterns.command:patterns_command",
    "metrics": "loglens.metrics.command:metrics",
    "push": "loglens.push.command:push",
    "watch": "loglens.ui.console.command:watch",
}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LoglensError as exc:
            click.echo(f"loglens: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="\b\nExamples:\n  loglens demo\n  loglens run /var/log/nginx/access.log\n"
    "  loglens replay access.log.gz\n\n\b\nExit status: 0 success, 1 runtime failure, 2 usage or "
    "configuration error, 3 replay parsed no line.",
)
@click.version_option(__version__, prog_name="loglens")
def main() -> None:
    """loglens: log monitoring and metrics for access and application logs."""
