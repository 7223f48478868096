"""The longest literal text that every match of a regex contains, to skip most lines before the regex.

polars' regex engine finds a pattern's leading literal by itself, but not one inside it (``/api/`` in
``"[A-Z]+ /api/``): a plain substring search (``str.contains(..., literal=True)``) over the batch
first, then the regex over the lines that have it, costs less than the regex over every line
(bench/README.md, "user metrics"). No library exposes the literals of a regex from Python, so
Python's own parser of regex syntax reads the pattern; where that parser and polars' (Rust's) could
read it differently, there is no literal and every line gets the regex.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python's regex parser: ``re._parser`` since 3.11
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a Python without it: no prefilter
    sre_parse = None

#: Shorter literals are in too many lines to be worth a pass of their own.
MIN_LENGTH = 3
#: What may follow a backslash: escapes that mean the same to Python and to Rust (character classes,
#: assertions, escaped punctuation, ``\n \t \r``). Others (``\x \u \p \A \z \Z \1``, and ``\< \>``,
#: word boundaries to Rust) differ.
_SAME_ESCAPES = frozenset("dDwWsSbBntr" + ".\\\"'/-[](){}*+?|^$#&~ :,=!@%;`")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
#: A counted repetition both read alike; any other brace Python takes as a literal, and Rust refuses.
_COUNTED = re.compile(r"\{\d+(?:,\d*)?\}")
_LITERAL = getattr(sre_parse, "LITERAL", None)
_SUBPATTERN = getattr(sre_parse, "SUBPATTERN", None)


def required_literal(pattern: str) -> str | None:
    """The longest run of literal characters outside any repetition, alternation or flag group of
    ``pattern`` (so in every match), when it is at least :data:`MIN_LENGTH` long; else None."""
    if sre_parse is None or not _same_in_both(pattern):
        return None
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    if parsed.state.flags & ~re.UNICODE:
        return None
    runs: list[str] = [""]
    _collect(list(parsed), runs)
    best = max(runs, key=len)
    return best if len(best) >= MIN_LENGTH else None


def _same_in_both(pattern: str) -> bool:
    """Whether Python and Rust read the escapes and braces of ``pattern`` alike."""
    if any(char not in _SAME_ESCAPES for char in _ESCAPE.findall(pattern)):
        return False
    rest = _COUNTED.sub("", _ESCAPE.sub("", pattern))
    return "{" not in rest and "}" not in rest


def _collect(items: list[tuple[Any, Any]], runs: list[str]) -> None:
    """Append ``items``' literal characters to the last run; anything else ends it."""
    for op, value in items:
        if op is _LITERAL:
            runs[-1] += chr(value)
        elif op is _SUBPATTERN and not value[1] and not value[2]:  # a group without flags: its content
            _collect(list(value[3]), runs)
        elif runs[-1]:
            runs.append("")
