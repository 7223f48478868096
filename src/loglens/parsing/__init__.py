"""Turn raw lines into records: one module per format, plus detection, timestamps and levels.

Entry points: :func:`build_parser` (a parser for a format name or custom pattern) and
:class:`~loglens.parsing.lines.LineSplitter` (bytes to complete lines, bounded memory).
"""

from loglens.parsing.base import Parser, ParseResult, parse_lines
from loglens.parsing.registry import FORMATS, build_parser

__all__ = ["FORMATS", "ParseResult", "Parser", "build_parser", "parse_lines"]
