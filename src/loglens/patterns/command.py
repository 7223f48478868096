"""``loglens patterns``: the log templates of files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loglens.config import load_settings
from loglens.options import config_option, examples, parse_options, parse_overrides
from loglens.patterns import output as printed
from loglens.patterns.reading import mine_files, write_line_templates


@click.command(
    "patterns",
    epilog=examples(
        "loglens patterns app.log",
        "loglens patterns --top 5 --output json app.log",
        "loglens patterns --output csv app.log > lines.csv",
    ),
)
@click.argument("files", nargs=-1, required=True)
@parse_options
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table and json list the templates; csv gives each line's template.",
)
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Templates listed (table and json), most lines first; 0 lists all.")  # fmt: skip
@click.option("--max-templates", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Templates kept; beyond, the least recently seen is forgotten.")  # fmt: skip
@config_option()
def patterns_command(
    files: tuple[str, ...],
    format_: str,
    pattern: str | None,
    timezone: str | None,
    max_line_bytes: int | None,
    output: str,
    top: int,
    max_templates: int,
    config: Path | None,
) -> None:
    """Group the lines of log FILES (plain, .gz, or - for stdin) into templates, their variable parts
    (numbers, IDs, addresses, paths, dates) masked as <*>.

    A line's template is made of its message where the format has one, else of the whole line.
    """
    settings = load_settings(config, parse=parse_overrides(timezone, max_line_bytes))
    reading = (list(files), format_, pattern, settings.parse.timezone, settings.parse.max_line_bytes,
               max_templates)  # fmt: skip
    if output == "csv":
        write_line_templates(sys.stdout.write, *reading)
        return
    mined = mine_files(*reading)
    if output == "json":
        sys.stdout.write(printed.to_json(mined, top or None) + "\n")
    else:
        printed.print_table(mined, top or None)
