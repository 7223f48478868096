"""Requests by create, read, update and delete, derived from their counts by HTTP method.

Derived where it is read (insights, replay's report), never folded: the method counts already hold it.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The operation of each method. Methods are case-sensitive (RFC 9110), so ``get`` is not ``GET``.
OPERATIONS: dict[str, str] = {
    "POST": "create",
    "GET": "read",
    "HEAD": "read",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}

#: The keys of :func:`crud`, in order. ``other``: every other method (OPTIONS, CONNECT, ...), a request
#: without one (``-``), and methods pooled as ``__other__`` past a cap.
KEYS: tuple[str, ...] = ("create", "read", "update", "delete", "other")


def crud(methods: Mapping[str, float]) -> dict[str, int]:
    """Every key of :data:`KEYS` with the requests whose method maps to it (0 when none)."""
    counts = dict.fromkeys(KEYS, 0)
    for method, count in methods.items():
        counts[OPERATIONS.get(method, "other")] += int(count)
    return counts


def shown(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """The rows a view shows: the four operations always, ``other`` only when it counted a request."""
    return [(key, counts[key]) for key in KEYS if key != "other" or counts[key]]
