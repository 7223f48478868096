"""The ``alerts:`` and ``notify:`` sections: alert rules and where their events go.

A rule measures one kind of value over an event-time window (``rate``, ``count``, ``ratio`` or
``quantile``), or reads a rate detector's score (``anomaly``, docs/anomaly.md), exactly one per rule,
and compares it with ``threshold`` through ``op``; ``for`` and ``keep_firing_for`` delay firing and
recovery as in Prometheus. A notifier is one key (``file``, ``webhook``, ``slack``, ``email`` or
``alertmanager``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loglens.errors import ConfigError
from loglens.metric_names import NAME
from loglens.records import LEVELS

RULE_KINDS = ("rate", "count", "ratio", "quantile", "anomaly")
#: Rule names and label names, as Prometheus has them.
Op = Literal[">", ">=", "<", "<=", "==", "!="]
#: The record fields a rule may group by (``by:``); ``source`` is the line's source label.
GROUP_FIELDS = ("source", "section", "status", "method", "level", "service")
#: A status, or a class of them: ``404``, ``5xx``.
_STATUS = re.compile(r"[1-5](?:\d\d|xx)")
#: The series of the rate detectors besides the levels and ``source:NAME``.
RATE_SERIES = ("hits", "4xx", "5xx")


def seconds_of(value: object) -> object:
    """A settings value as seconds: ``120s``, ``5m``, ``1h``, ``7d`` parsed, anything else as given (for
    pydantic to check)."""
    if not isinstance(value, str):
        return value
    from loglens.generate.scenarios import parse_seconds

    try:
        return parse_seconds(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Match(_Strict):
    """Which records a rule looks at. Empty: every request (access record). Naming ``level`` or
    ``message`` looks at every record, log lines included."""

    level: str | None = Field(default=None, description="a severity: DEBUG, INFO, NOTICE, WARNING, ERROR...")
    message: str | None = Field(default=None, description="a regular expression searched in the message")
    source: str | None = Field(default=None, description="the source label, exactly")
    section: str | None = Field(default=None, description="the path's first segment, e.g. /api")
    status: str | None = Field(default=None, description="a status (404) or a class (5xx)")
    method: str | None = Field(default=None, description="a request method, e.g. POST")
    service: str | None = Field(default=None, description="the service of a log line")

    @field_validator("level")
    @classmethod
    def _level(cls, level: str | None) -> str | None:
        if level is None:
            return None
        if level.upper() not in LEVELS:
            raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
        return level.upper()

    @field_validator("message")
    @classmethod
    def _regex(cls, message: str | None) -> str | None:
        if message is not None:
            import polars as pl  # rules search messages with polars, whose regexes have no look-around

            try:
                pl.Series([""]).str.contains(message)
            except pl.exceptions.ComputeError as exc:
                why = next((line for line in str(exc).splitlines() if line.startswith("error:")), "")
                why = why.removeprefix("error: ") or "it does not parse"
                raise ValueError(f"message {message!r} is not a regular expression: {why}") from None
        return message

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, status: object) -> object:
        text = str(status).lower() if isinstance(status, int | str) else status
        if isinstance(text, str) and not _STATUS.fullmatch(text):
            raise ValueError(f"status {status!r} is not a status (404) or a class (5xx)")
        return text

    @property
    def all_records(self) -> bool:
        """Whether log lines count too (``level`` or ``message`` named), not only requests."""
        return self.level is not None or self.message is not None


class Ratio(_Strict):
    """``numerator`` matches over ``denominator`` matches; no value while the denominator is 0."""

    numerator: Match
    denominator: Match = Field(default_factory=Match)


class Quantile(Match):
    """The ``q`` quantile of a numeric field of the matching requests."""

    q: float = Field(gt=0, lt=1, description="0.99 for the 99th percentile")
    of: Literal["duration", "bytes"] = "duration"


class Anomaly(_Strict):
    """A detector's score: a rate detector's of one series, ``up`` (a rise), ``down`` (a drop) or
    ``both`` (its size); ``new_pattern``: the new templates (of ``source``) in the detectors' window;
    ``pattern_rate``: the highest score of a template's rate. ``threshold`` is the score."""

    detector: Literal["zscore", "seasonal", "new_pattern", "pattern_rate"]
    series: str = Field(default="hits", description="hits, 4xx, 5xx, a level (ERROR...) or source:NAME")
    source: str | None = Field(default=None, description="new_pattern: only this source's new templates")
    direction: Literal["up", "down", "both"] = "both"

    @field_validator("series")
    @classmethod
    def _series(cls, series: str) -> str:
        if series in RATE_SERIES or series.upper() in LEVELS:
            return series if series in RATE_SERIES else series.upper()
        if series.startswith("source:") and len(series) > len("source:"):
            return series
        raise ValueError(f"series {series!r} is not one of {', '.join(RATE_SERIES)}, a level or source:NAME")

    @model_validator(mode="after")
    def _source(self) -> Anomaly:
        if self.source is not None and self.detector != "new_pattern":
            raise ValueError(
                "source: is for detector new_pattern (a rate detector names its series: source:NAME)"
            )
        return self

    @property
    def key(self) -> str:
        """What the detectors' score is asked for: the series, or for ``new_pattern`` ``source:NAME`` ("":
        any source)."""
        if self.detector == "new_pattern":
            return f"source:{self.source}" if self.source else ""
        return self.series


class RuleConfig(_Strict):
    """One alert rule."""

    name: str
    rate: Match | None = Field(default=None, description="matching records per second")
    count: Match | None = Field(default=None, description="matching records in the window")
    ratio: Ratio | None = None
    quantile: Quantile | None = None
    anomaly: Anomaly | None = Field(default=None, description="a rate detector's score (docs/anomaly.md)")
    window: float = Field(default=60.0, ge=1, description="seconds looked back (120s, 5m)")
    op: Op = ">="
    threshold: float
    for_: float = Field(default=0.0, ge=0, alias="for", description="breached this long before it fires")
    keep_firing_for: float = Field(default=0.0, ge=0, description="fires on this long after it stops")
    by: list[str] = Field(default_factory=list, description="one alert per value of these fields")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict, description="{{ source }}, {{ value }}...")

    _window = field_validator("window", "for_", "keep_firing_for", mode="before")(seconds_of)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not NAME.fullmatch(name):
            raise ValueError(f"rule name {name!r} is not a name ([a-zA-Z_][a-zA-Z0-9_]*)")
        return name

    @field_validator("by")
    @classmethod
    def _by(cls, by: list[str]) -> list[str]:
        for field in by:
            if field not in GROUP_FIELDS:
                raise ValueError(f"by: {field!r} is not one of {', '.join(GROUP_FIELDS)}")
        return by

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not NAME.fullmatch(name) or name.startswith("__"):
                raise ValueError(f"label {name!r} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)")
        return labels

    @model_validator(mode="after")
    def _one_kind(self) -> RuleConfig:
        kinds = [kind for kind in RULE_KINDS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"rule {self.name!r} needs exactly one of rate, count, ratio, quantile, anomaly"
                + (f" (has {', '.join(kinds)})" if kinds else "")
            )
        if self.anomaly is not None and self.by:
            raise ValueError(f"rule {self.name!r}: an anomaly rule scores one series and takes no by:")
        return self

    @property
    def kind(self) -> str:
        """``rate``, ``count``, ``ratio``, ``quantile`` or ``anomaly``."""
        return next(kind for kind in RULE_KINDS if getattr(self, kind) is not None)


class EmailConfig(_Strict):
    """E-mail over SMTP (STARTTLS when the server offers it)."""

    smtp: str = Field(description="HOST:PORT of the SMTP server")
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password: str | None = None
    starttls: bool = Field(default=True, description="upgrade to TLS when offered")

    @field_validator("smtp")
    @classmethod
    def _address(cls, smtp: str) -> str:
        host, _, port = smtp.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"smtp {smtp!r} is not HOST:PORT")
        return smtp


class NotifierConfig(_Strict):
    """One destination of alert events: exactly one of its keys."""

    file: Path | None = Field(default=None, description="a JSON-lines file, appended to")
    webhook: str | None = Field(default=None, description="a URL that takes loglens's JSON")
    slack: str | None = Field(default=None, description='a Slack-compatible webhook URL ({"text": ...})')
    email: EmailConfig | None = None
    alertmanager: str | None = Field(default=None, description="Alertmanager's base URL")

    @field_validator("webhook", "slack", "alertmanager")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return url

    @model_validator(mode="after")
    def _one(self) -> NotifierConfig:
        kinds = [kind for kind in NOTIFIERS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a notifier is exactly one of {', '.join(NOTIFIERS)}")
        return self

    @property
    def kind(self) -> str:
        """``file``, ``webhook``, ``slack``, ``email`` or ``alertmanager``."""
        return next(kind for kind in NOTIFIERS if getattr(self, kind) is not None)

    def describe(self) -> str:
        """One line naming the destination (its ``notifier`` label is its kind)."""
        target: Any = getattr(self, self.kind)
        if isinstance(target, EmailConfig):
            target = f"{', '.join(target.to)} via {target.smtp}"
        return f"{self.kind} {target}"


NOTIFIERS = ("file", "webhook", "slack", "email", "alertmanager")
