"""Format names and the one function that builds a parser for a name or a custom pattern."""

from __future__ import annotations

from collections.abc import Callable

from loglens.errors import FormatError
from loglens.parsing import access, custom, level
from loglens.parsing.base import Parser
from loglens.parsing.detect import AutoParser
from loglens.parsing.json_lines import JsonParser

FORMATS: tuple[str, ...] = ("auto", "common", "combined", "iso", "json", "level", "vhost_combined")


def build_parser(format: str = "auto", pattern: str | None = None, timezone: str = "UTC") -> Parser:
    """Return a fresh parser (``auto`` keeps per-source state, so build one per source).

    Raises:
        FormatError: unknown format name or unusable pattern.
    """
    if pattern:
        return custom.custom(pattern, timezone)
    if format == "auto":
        return AutoParser(
            [access.combined(timezone), access.iso(timezone), JsonParser(timezone), level.level(timezone)]
        )
    builders: dict[str, Callable[[str], Parser]] = {
        "common": access.common,
        "combined": access.combined,
        "iso": access.iso,
        "json": JsonParser,
        "level": level.level,
        "vhost_combined": custom.vhost_combined,
    }
    if format not in builders:
        raise FormatError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    return builders[format](timezone)
