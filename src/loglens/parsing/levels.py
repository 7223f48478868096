"""Severity words, any case, normalized to DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL."""

from __future__ import annotations

import polars as pl

ALIASES: dict[str, str] = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "DBG": "DEBUG",
    "INFO": "INFO",
    "INFORMATION": "INFO",
    "NOTICE": "NOTICE",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERR": "ERROR",
    "ERROR": "ERROR",
    "SEVERE": "ERROR",
    "CRIT": "CRITICAL",
    "CRITICAL": "CRITICAL",
    "FATAL": "CRITICAL",
    "ALERT": "CRITICAL",
    "EMERG": "CRITICAL",
    "EMERGENCY": "CRITICAL",
    "PANIC": "CRITICAL",
}

#: Regex alternation matching any severity word (use with ``(?i)``), longest spellings first.
LEVEL_WORDS = "|".join(sorted(ALIASES, key=len, reverse=True))


def normalize_levels(words: pl.Series) -> pl.Series:
    """Map severity words to their normal names; unknown words become null."""
    return (
        words.str.to_uppercase().replace_strict(ALIASES, default=None, return_dtype=pl.String).alias("level")
    )
