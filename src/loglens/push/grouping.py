"""Pushgateway grouping keys: ``/metrics/job/{job}{/label/value}*``, as the Pushgateway reads them.

Each segment is percent-decoded on its own (so ``%2F`` inside a value is not a separator). A label name
ending in ``@base64`` carries its value in URL-safe base64, padding optional, ``=`` alone being the empty
value: the only way to send a value holding ``/``, or an empty one, which prometheus_client uses for
values with slashes or spaces.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

#: The path every grouping key is under.
PREFIX = "/metrics/"
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
BASE64_SUFFIX = "@base64"
#: Labels in one grouping key, job included.
MAX_LABELS = 32
MAX_VALUE_LENGTH = 1024


class GroupingError(ValueError):
    """A path that is no grouping key (HTTP 400)."""


def grouping_key(raw_path: bytes) -> dict[str, str]:
    """The grouping key of a request's raw (still percent-encoded) path, ``job`` first.

    Raises:
        GroupingError: not under ``/metrics/job/``, an odd number of segments, an empty or badly
            encoded value, a label name that is not one, or a label named twice.
    """
    path = raw_path.decode("latin-1")
    segments = path.removeprefix(PREFIX).split("/")
    if not path.startswith(PREFIX) or segments[0] not in ("job", "job" + BASE64_SUFFIX):
        raise GroupingError(f"a grouping key starts with /metrics/job/, not {path[:60]!r}")
    if len(segments) % 2:
        raise GroupingError(
            "a grouping key is /metrics/job/<job> then /<label>/<value> pairs: a label has no value"
        )
    if len(segments) // 2 > MAX_LABELS:
        raise GroupingError(f"a grouping key has at most {MAX_LABELS} labels, job included")
    key: dict[str, str] = {}
    for at in range(0, len(segments), 2):
        name, value = _label(segments[at], segments[at + 1])
        if name in key:
            raise GroupingError(f"label {name!r} appears twice in the grouping key")
        key[name] = value
    return key


def _label(raw_name: str, raw_value: str) -> tuple[str, str]:
    name = _unquote(raw_name, "label name")
    encoded = name.endswith(BASE64_SUFFIX)
    name = name.removesuffix(BASE64_SUFFIX)
    if not LABEL_NAME.fullmatch(name) or name.startswith("__"):
        raise GroupingError(f"{name[:60]!r} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)")
    value = _base64(raw_value, name) if encoded else _unquote(raw_value, f"value of {name}")
    if name == "job" and not value:
        raise GroupingError("the job name must not be empty")
    if not value and not encoded:
        raise GroupingError(f"the value of {name} is empty: an empty value is sent as {name}@base64/=")
    if len(value) > MAX_VALUE_LENGTH:
        raise GroupingError(f"the value of {name} is longer than {MAX_VALUE_LENGTH} characters")
    return name, value


def _unquote(segment: str, what: str) -> str:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise GroupingError(f"the {what} is not UTF-8 once percent-decoded") from None


def _base64(raw: str, name: str) -> str:
    text = _unquote(raw, f"value of {name}").rstrip("=")
    if not text:
        return ""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if base64.urlsafe_b64encode(data).rstrip(b"=") != text.encode():
            raise ValueError("not canonical")
        return data.decode("utf-8")
    except (binascii.Error, ValueError):
        raise GroupingError(f"the value of {name}@base64 is not URL-safe base64 of UTF-8 text") from None
