"""Prometheus's rules for metric and label names, and the names loglens keeps for itself.

A module of its own, without pydantic, so that the settings can check names without loading the
push API's models.
"""

from __future__ import annotations

import re

#: Prometheus metric and label name rules (colons are left to recording rules).
NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
NAME = re.compile(NAME_PATTERN)
#: labels loglens or the exposition format set itself; names starting with ``__`` are reserved too.
RESERVED_LABELS = frozenset({"le", "quantile", "source"})
#: Name prefixes of the metrics the agent exposes itself: loglens's own and those of prometheus_client's
#: process, platform and GC collectors (``process_*``, ``python_info``, ``python_gc_*``).
RESERVED_PREFIXES = ("loglens_", "process_", "python_")


def reserved_prefix(name: str) -> str | None:
    """The reserved prefix ``name`` starts with, if any."""
    return next((prefix for prefix in RESERVED_PREFIXES if name.startswith(prefix)), None)
