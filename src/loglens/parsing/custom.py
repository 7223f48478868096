"""Site-specific formats: a regex with named groups, an Apache ``LogFormat`` or an nginx ``log_format``.

--pattern '^(?P<client>\\S+) (?P<status>\\d{3}) (?P<path>\\S+)$'
--pattern '%h %l %u %t "%r" %>s %b %D'
--pattern '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent $request_time'

``vhost_combined`` is Apache's format of that name: the virtual host and port, then a combined line.
"""

from __future__ import annotations

import re

from loglens.errors import FormatError
from loglens.parsing.regex import RegexParser, check_engine

# directive -> group name (None: match but do not keep)
_APACHE: dict[str, str | None] = {
    "h": "client",
    "a": "client",
    "l": "ident",
    "u": "user",
    "t": "ts",
    "r": "request",
    "s": "status",
    ">s": "status",
    "<s": "status",
    "b": "bytes",
    "B": "bytes",
    "O": "bytes",
    "v": "vhost",
    "V": "vhost",
    "p": None,
    "D": "duration_us",
    "T": "duration",
    "m": "method",
    "U": "path",
    "H": "protocol",
    "{Referer}i": "referer",
    "{User-agent}i": "agent",
    "{User-Agent}i": "agent",
    "{ms}T": "duration_ms",
    "{us}T": "duration_us",
    "{s}T": "duration",
}
_NGINX: dict[str, str | None] = {
    "remote_addr": "client",
    "remote_user": "user",
    "time_local": "ts",
    "time_iso8601": "ts",
    "request": "request",
    "status": "status",
    "body_bytes_sent": "bytes",
    "bytes_sent": "bytes",
    "http_referer": "referer",
    "http_user_agent": "agent",
    "request_time": "duration",
    "request_method": "method",
    "request_uri": "path",
    "uri": "path",
    "server_protocol": "protocol",
    "host": "vhost",
    "server_name": "vhost",
}
_APACHE_TOKEN = re.compile(r"%(?:\{[^}]*\}[a-zA-Z]|[<>]?[a-zA-Z%])")
_NGINX_TOKEN = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _group(name: str | None, inside_quotes: bool, used: set[str], bracketed: bool = False) -> str:
    body = r"[^\]]+" if bracketed else (r'[^"]*' if inside_quotes else r"\S+")
    if name is None or name in used:
        return f"(?:{body})"
    used.add(name)
    return f"(?P<{name}>{body})"


def _convert(fmt: str, tokens: re.Pattern[str], lookup: dict[str, str | None], apache: bool) -> str:
    parts: list[str] = []
    used: set[str] = set()
    position = 0
    for match in tokens.finditer(fmt):
        literal = fmt[position : match.start()]
        parts.append(re.escape(literal))
        inside = fmt[: match.start()].count('"') % 2 == 1
        if apache:
            key = match.group(0)[1:]
            if key == "%":
                parts.append("%")
            elif key == "t":  # Apache's %t carries its own brackets
                parts.append(r"\[" + _group("ts", False, used, bracketed=True) + r"\]")
            else:
                parts.append(_group(lookup.get(key), inside, used))
        else:
            key = match.group(1) or match.group(2)
            bracketed = fmt[: match.start()].endswith("[") and lookup.get(key) == "ts"
            parts.append(_group(lookup.get(key), inside, used, bracketed=bracketed))
        position = match.end()
    parts.append(re.escape(fmt[position:]))
    return "^" + "".join(parts) + "$"


def pattern_to_regex(pattern: str) -> str:
    """Translate a custom pattern to a regex with named groups (regexes pass through)."""
    if "(?P<" in pattern:
        return pattern
    if _APACHE_TOKEN.search(pattern):
        return _convert(pattern, _APACHE_TOKEN, _APACHE, apache=True)
    if _NGINX_TOKEN.search(pattern):
        return _convert(pattern, _NGINX_TOKEN, _NGINX, apache=False)
    raise FormatError(
        "pattern is neither a regex with named groups (?P<name>...), an Apache LogFormat (%h %t ...) "
        "nor an nginx log_format ($remote_addr ...)"
    )


#: Apache's ``vhost_combined`` LogFormat (its default configuration's).
VHOST_COMBINED = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'


def vhost_combined(timezone: str = "UTC") -> RegexParser:
    """Apache's ``vhost_combined``: ``host:port`` then a combined line."""
    return custom(VHOST_COMBINED, timezone, "vhost_combined")


def custom(pattern: str, timezone: str = "UTC", name: str = "custom") -> RegexParser:
    """A parser for a site's own format."""
    regex = pattern_to_regex(pattern)
    parser = RegexParser(name, [regex], timezone)
    check_engine(regex)
    return parser
