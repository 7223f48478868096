"""Masking: the variable parts of a message (numbers, IDs, addresses, hex, paths, dates) become ``<*>``.

Regexes written for both of loglens's engines (no look-arounds, no ``\\d``/``\\w`` classes whose
Unicode meaning could differ): Python's ``re`` masks one message, polars (Rust's regex crate) masks a
batch. Both give the same result for every string (tests/patterns/test_miner.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

#: What a masked part reads as in a template.
WILDCARD = "<*>"

_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CLOCK = "[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
#: A date written with words: ``Sun Dec 04 04:47:44 2005``, ``Jun 14 15:16:01``.
_WORD_DATE = f"(?:{_DAY} +)?{_MONTH} +[0-9]{{1,2}} +{_CLOCK}(?: +[0-9]{{4}})?"
#: An ISO date and time, one part whether a ``T`` or a space joins them.
_ISO_DATE = f"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ]{_CLOCK}(?:[.,][0-9]+)?(?:Z|[+-][0-9]{{2}}:?[0-9]{{2}})?"
#: An absolute path of two segments or more: ``/etc/httpd/conf/workers2.properties``.
_PATH = "/[^ \t/'\"]+/[^ \t'\"]*"
#: Characters that end a part inside a token: a part with a digit in it is masked, its neighbours
#: kept, so ``rhost=10.0.0.1`` is ``rhost=<*>`` and ``sshd[4521]:`` is ``sshd[<*>]:``. The part's
#: letters before its first digit are matched without backtracking over them.
_DELIMITERS = " \t=:,;()\\[\\]{}<>\"'|/"
_PART = f"[^{_DELIMITERS}0-9]*[0-9][^{_DELIMITERS}]*"
#: A size with its unit, one part: ``5.2 KB`` and ``384 B`` (the character after the unit is kept).
_SIZE = "[0-9]+(?:[.][0-9]+)? ?(?:[KMGTP]i?B|B)(?P<end>[^A-Za-z0-9_]|$)"

#: The passes, in order: (regex, polars replacement, Python replacement). Three passes rather than one
#: alternation, which Rust's regex crate runs several times slower.
PASSES = (
    ("|".join((_WORD_DATE, _ISO_DATE, _PATH)), WILDCARD, WILDCARD),
    (_SIZE, WILDCARD + "${end}", WILDCARD + r"\g<end>"),
    (_PART, WILDCARD, WILDCARD),
)
_COMPILED = [(re.compile(regex), replacement) for regex, _, replacement in PASSES]


def mask(message: str) -> str:
    """``message`` with its variable parts replaced by :data:`WILDCARD`."""
    for regex, replacement in _COMPILED:
        message = regex.sub(replacement, message)
    return message


def mask_many(messages: Sequence[str] | pl.Series) -> list[str]:
    """:func:`mask` of each message, in one polars call per pass."""
    series = messages if isinstance(messages, pl.Series) else pl.Series(messages, dtype=pl.String)
    for regex, replacement, _ in PASSES:
        series = series.str.replace_all(regex, replacement)
    return series.to_list()


def covers(pattern: str, token: str) -> bool:
    """Whether ``pattern``, whose wildcards stand for any text (none included), matches ``token``."""
    if WILDCARD not in pattern:
        return pattern == token
    first, *middle, last = pattern.split(WILDCARD)
    end = len(token) - len(last)
    if end < len(first) or not token.startswith(first) or not token.endswith(last):
        return False
    at = len(first)
    for piece in middle:
        at = token.find(piece, at, end)
        if at < 0:
            return False
        at += len(piece)
    return True
