"""``loglens completion SHELL``: the shell completion script, from click's own completion support."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from loglens.options import examples

SHELLS = ("bash", "zsh", "fish")


@click.command(
    "completion",
    epilog=examples(
        'eval "$(loglens completion bash)"              # in ~/.bashrc',
        'eval "$(loglens completion zsh)"               # in ~/.zshrc',
        "loglens completion fish > ~/.config/fish/completions/loglens.fish",
    ),
)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the script that completes loglens's commands, flags and choices in SHELL."""
    root = ctx.find_root()
    assert root.command is not None
    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS has one
    click.echo(completer(root.command, {}, "loglens", "_LOGLENS_COMPLETE").source())
