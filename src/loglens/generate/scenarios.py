"""Incident scenarios: the ``NAME[@START[+DURATION]][:k=v,...]`` syntax, defaults and validation.

START and DURATION are event-time offsets from the start of generation, in seconds or with a unit
(``90``, ``90s``, ``15m``, ``2h``, ``1d``). What each scenario does to the lines is in
:mod:`loglens.generate.incidents`; how it changes the line rate is :meth:`Scenario.rate_effect`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field

from loglens.errors import ConfigError


@dataclass(frozen=True)
class Kind:
    """A scenario kind: its default window, parameters (with defaults) and one-line description."""

    start: float
    duration: float
    params: dict[str, float | int | str]
    about: str


#: Scenario kinds by name. A parameter whose default is ``""`` is chosen from the seed when not given.
KINDS: dict[str, Kind] = {
    "spike": Kind(30, 30, {"factor": 5.0}, "traffic multiplied by factor"),
    "error-burst": Kind(
        30, 10, {"count": 100, "service": ""}, "count extra errors (5xx or ERROR) in the window"
    ),
    "outage": Kind(30, 60, {"ratio": 0.9}, "that share of requests fail with 5xx (app: ERROR)"),
    "slow": Kind(30, 60, {"factor": 10.0}, "request durations multiplied by factor (app: slow warnings)"),
    "scan": Kind(30, 30, {"rate": 20.0, "client": ""}, "one client probes rate paths/s, mostly 404"),
}

_SPEC = re.compile(
    r"^(?P<name>[a-z-]+)(?:@(?P<start>[^+:]+)(?:\+(?P<duration>[^:]+))?)?(?::(?P<params>.*))?$"
)
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SECONDS = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)\s*$")


def parse_seconds(text: str) -> float:
    """Parse ``90``, ``1.5``, ``30s``, ``15m``, ``2h`` or ``1d`` into seconds.

    Raises:
        ConfigError: the text is not a non-negative number with an optional unit.
    """
    match = _SECONDS.match(text)
    if not match:
        raise ConfigError(f"{text!r} is not a time span (examples: 90, 1.5, 30s, 15m, 2h, 1d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Scenario:
    """One incident: kind name, window (event-time offsets in seconds) and parameters."""

    name: str
    start: float
    duration: float
    params: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def end(self) -> float:
        """Offset at which the incident ends (exclusive)."""
        return self.start + self.duration

    def rate_effect(self) -> tuple[float, float]:
        """Return ``(factor, extra)``: the base rate is multiplied by factor, then extra lines/s added."""
        if self.name == "spike":
            return float(self.params["factor"]), 0.0
        if self.name == "error-burst":
            return 1.0, int(self.params["count"]) / self.duration
        if self.name == "scan":
            return 1.0, float(self.params["rate"])
        return 1.0, 0.0

    def extra_lines(self) -> int:
        """Number of lines the incident adds on top of ordinary traffic."""
        return round(self.rate_effect()[1] * self.duration)


def _param(name: str, key: str, raw: str, default: float | int | str) -> float | int | str:
    try:
        value: float | int | str = type(default)(raw)
    except ValueError:
        raise ConfigError(f"scenario {name}: {key}={raw!r} is not a {type(default).__name__}") from None
    if key == "client":
        try:
            ipaddress.ip_address(raw)
        except ValueError:
            raise ConfigError(f"scenario {name}: client={raw!r} is not an IP address") from None
    elif isinstance(value, int | float) and not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"scenario {name}: {key} must be a finite number > 0, got {raw}")
    if key == "ratio" and float(value) > 1:
        raise ConfigError(f"scenario {name}: ratio must be within (0, 1], got {raw}")
    return value


def parse_scenario(spec: str) -> Scenario:
    """Parse ``NAME[@START[+DURATION]][:k=v,...]``, filling defaults.

    Raises:
        ConfigError: unknown scenario or parameter, bad number, or a non-positive duration.
    """
    match = _SPEC.match(spec.strip())
    if not match:
        raise ConfigError(f"scenario {spec!r}: expected NAME[@START[+DURATION]][:key=value,...]")
    name = match.group("name")
    kind = KINDS.get(name)
    if kind is None:
        raise ConfigError(f"unknown scenario {name!r} (known: {', '.join(KINDS)})")
    start = parse_seconds(match.group("start")) if match.group("start") else kind.start
    duration = parse_seconds(match.group("duration")) if match.group("duration") else kind.duration
    if duration <= 0:
        raise ConfigError(f"scenario {spec!r}: duration must be > 0")
    params = dict(kind.params)
    for item in filter(None, (match.group("params") or "").split(",")):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in kind.params:
            known = ", ".join(kind.params)
            raise ConfigError(f"scenario {name}: bad parameter {item!r} (known: {known})")
        params[key] = _param(name, key, raw.strip(), kind.params[key])
    return Scenario(name, start, duration, params)
