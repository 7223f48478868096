"""One settings model for every command.

Precedence, lowest to highest: the YAML file (``--config``) < ``LOGLENS__SECTION__KEY`` environment
variables < command-line flags. An unknown key anywhere is an error that names it.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from loglens.alerts.config import NotifierConfig, RuleConfig
from loglens.anomaly.config import AnomalyConfig
from loglens.config_env import ENV_PREFIX, environment_values, merge
from loglens.config_sections import (
    AlertConfig,
    ArchiveConfig,
    IngestConfig,
    LimitsConfig,
    ParseConfig,
    PushConfig,
    ServerConfig,
    SourceConfig,
    StateConfig,
    SyslogConfig,
    TailConfig,
    WebConfig,
)
from loglens.errors import ConfigError
from loglens.jetstream.config import NatsConfig
from loglens.metrics.config import MetricConfig, check_metrics


class Settings(BaseModel):
    """Every setting of loglens."""

    model_config = ConfigDict(extra="forbid")

    sources: list[SourceConfig] = Field(default_factory=list)
    server: ServerConfig = Field(default_factory=ServerConfig)
    parse: ParseConfig = Field(default_factory=ParseConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    tail: TailConfig = Field(default_factory=TailConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    push: PushConfig = Field(default_factory=PushConfig)
    alert: AlertConfig = Field(default_factory=AlertConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    alerts: list[RuleConfig] = Field(default_factory=list, description="alert rules (docs/alerts.md)")
    notify: list[NotifierConfig] = Field(default_factory=list, description="where alert events go")
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig, description="rate detectors")
    metrics: list[MetricConfig] = Field(default_factory=list, description="user metrics (docs/metrics.md)")
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    syslog: SyslogConfig = Field(default_factory=SyslogConfig)
    archive: ArchiveConfig = Field(default_factory=ArchiveConfig)
    nats: NatsConfig = Field(default_factory=NatsConfig)

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, metrics: list[MetricConfig], info: ValidationInfo) -> list[MetricConfig]:
        push = info.data.get("push")
        return check_metrics(metrics, push.metric_prefix if isinstance(push, PushConfig) else "app")


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in first:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {key!r} (first on line {first[key].line + 1})",
                    problem_mark=key_node.start_mark,
                )
            first[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, or raise :class:`ConfigError`."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        why = f": {problem}" if problem else ""
        raise ConfigError(f"config file {path}{where} is not valid YAML{why}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top, got {type(data).__name__}")
    return data


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from a YAML file, the environment and flag ``overrides`` (section -> values).

    Raises:
        ConfigError: one line naming every invalid or unknown key.
    """
    data = read_yaml(config) if config is not None else {}
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings.model_validate(merge(merge(data, environment_values(Settings)), given))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, config, data, given)) from None


def _env_variables() -> dict[str, str]:
    """``LOGLENS__*`` environment variables, by name upper-cased (names are read in any case)."""
    return {name.upper(): name for name in os.environ if name.upper().startswith(ENV_PREFIX)}


def _holds(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Whether nested ``data`` has a value at ``loc``."""
    try:
        for part in loc:
            data = data[part]
    except (KeyError, IndexError, TypeError):
        return False
    return True


#: Settings that command-line flags set, by dotted key (the flags share these names across commands).
FLAGS = {
    "server.listen": "--listen",
    "state.dir": "--state-dir",
    "parse.format": "--format",
    "parse.pattern": "--pattern",
    "parse.timezone": "--timezone",
    "parse.max_line_bytes": "--max-line-bytes",
    "tail.from_start": "--from-start",
    "syslog.listen": "--syslog",
    "alert.threshold": "--alert-threshold",
    "alert.window_seconds": "--alert-window",
    "alert.for_seconds": "--alert-for",
    "alert.incident_limit": "--incident-limit",
    "sources": "the FILE arguments",
}


def _origin(
    loc: tuple[int | str, ...], config: Path | None, data: dict[str, Any], given: dict[str, Any]
) -> str:
    """Where the value at ``loc`` came from: a flag over the environment over the YAML file."""
    names = list(itertools.takewhile(lambda part: isinstance(part, str), loc))
    if _holds(given, loc):
        for depth in range(len(names), 0, -1):
            flag = FLAGS.get(".".join(str(name) for name in names[:depth]))
            if flag is not None:
                return flag
        return "configuration"
    key = ENV_PREFIX + "__".join(str(name) for name in names).upper()
    for upper, name in _env_variables().items():
        if upper == key or key.startswith(upper + "__") or upper.startswith(key + "__"):
            return f"environment variable {name}"
    return str(config) if config is not None and _holds(data, loc) else "configuration"


def describe_validation_error(
    exc: ValidationError,
    config: Path | None = None,
    data: dict[str, Any] | None = None,
    given: dict[str, Any] | None = None,
) -> str:
    """Render a pydantic error as one line, each problem after where its value came from (the file,
    an environment variable, a flag): ``loglens.yaml: unknown key 'server.lisen'; ...``."""
    problems: dict[str, list[str]] = {}
    lines: list[str] = []  # problems of the metrics: section, one line each
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        origin = _origin(err["loc"], config, data or {}, given or {})
        if err["loc"][:1] == ("metrics",) and err["type"] != "extra_forbidden":
            lines += [f"{origin}: '{key}': {part}" for part in message.split("\n")]
            continue
        problem = f"unknown key '{key}'" if err["type"] == "extra_forbidden" else f"'{key}': {message}"
        problems.setdefault(origin, []).append(problem)
    if problems:
        lines.insert(0, "; ".join(f"{origin}: " + "; ".join(found) for origin, found in problems.items()))
    return "\n".join(lines)
