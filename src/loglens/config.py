"""One settings model for every command.

Precedence, lowest to highest: the YAML file (``--config``) < ``LOGLENS__SECTION__KEY`` environment
variables < command-line flags. An unknown key anywhere is an error that names it.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from loglens.errors import ConfigError

FormatName = Literal["auto", "common", "combined", "iso", "json", "level"]


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class SourceConfig(Section):
    """One log input of ``loglens run``."""

    path: str = Field(description="file, glob or folder to follow")
    format: FormatName = "auto"
    pattern: str | None = Field(default=None, description="custom regex or LogFormat string")
    name: str | None = Field(default=None, description="value of the `source` label; default: the path")
    labels: dict[str, str] = Field(default_factory=dict, description="extra labels on this source's metrics")


class ServerConfig(Section):
    """The HTTP server of ``loglens run``."""

    listen: str = "127.0.0.1:9911"
    max_connections: int = Field(default=100, ge=1, description="connections held; more drop the oldest idle")
    request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="a request must arrive whole within this, or it is dropped"
    )

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"expected HOST:PORT, got {value!r}")
        return value

    @property
    def host(self) -> str:
        """Host part of ``listen``, brackets of IPv6 literals removed."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """Port part of ``listen``."""
        return int(self.listen.rpartition(":")[2])


class ParseConfig(Section):
    """How lines become records."""

    format: FormatName = "auto"
    pattern: str | None = None
    timezone: str = Field(default="UTC", description="zone assumed for timestamps that carry none")
    max_line_bytes: int = Field(default=64 * 1024, ge=256)


class StateConfig(Section):
    """Where checkpoints live."""

    dir: Path = Path(".loglens")
    checkpoint_interval_seconds: float = Field(default=1.0, gt=0)


class TailConfig(Section):
    """File following."""

    poll_interval_seconds: float = Field(default=0.25, gt=0)
    from_start: bool = False
    rotate_wait_seconds: float = Field(
        default=5.0, ge=0, description="a rotated or deleted file is read until idle this long, then closed"
    )


class LimitsConfig(Section):
    """Bounds that keep memory flat whatever the input."""

    max_label_values: int = Field(default=1000, ge=1, description="distinct values per input-derived label")
    section_limit: int = Field(default=100, ge=1, description="top-K sections exposed as their own series")
    series_ttl_seconds: float = Field(
        default=600.0, gt=0, description="idle series leave /metrics after this"
    )
    lateness_seconds: float = Field(default=120.0, ge=0, description="how late a line may arrive for windows")


class AlertConfig(Section):
    """The built-in high-traffic alert, evaluated in every mode (``run``, ``watch``, ``demo``)."""

    threshold: float = Field(default=10.0, gt=0, description="hits/s, averaged over the window, that fire it")
    window_seconds: int = Field(default=120, ge=1, description="seconds the rate is averaged over")
    incident_limit: int = Field(default=3, ge=1, description="past incidents kept")


class PushConfig(Section):
    """``POST /api/metrics``."""

    prefix: str = "app"
    namespace: str = ""
    token: str | None = None
    max_series_per_metric: int = Field(default=1000, ge=1)
    max_series: int = Field(default=10000, ge=1)
    ttl_seconds: float = Field(default=600.0, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    summary_window_seconds: float = Field(
        default=600.0, gt=0, description="observed summaries report quantiles over this sliding window"
    )
    summary_max_observations: int = Field(
        default=500, ge=1, description="most recent observations kept per observed summary series"
    )


class Settings(BaseSettings):
    """Every setting of loglens."""

    model_config = SettingsConfigDict(
        env_prefix="LOGLENS__",
        env_nested_delimiter="__",
        extra="forbid",
        nested_model_default_partial_update=True,
    )

    sources: list[SourceConfig] = Field(default_factory=list)
    server: ServerConfig = Field(default_factory=ServerConfig)
    parse: ParseConfig = Field(default_factory=ParseConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    tail: TailConfig = Field(default_factory=TailConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    push: PushConfig = Field(default_factory=PushConfig)
    alert: AlertConfig = Field(default_factory=AlertConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init arguments) over environment over the YAML file."""
        return (init_settings, env_settings, _YamlSource(settings_cls))


_yaml_data: ContextVar[dict[str, Any] | None] = ContextVar("loglens_yaml_data", default=None)


class _YamlSource(PydanticBaseSettingsSource):
    """The parsed ``--config`` file, lowest precedence."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_yaml_data.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_data.get() or {})


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, or raise :class:`ConfigError`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path}{where} is not valid YAML") from None
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
    token = _yaml_data.set(read_yaml(config) if config is not None else {})
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, config)) from None
    finally:
        _yaml_data.reset(token)


def describe_validation_error(exc: ValidationError, config: Path | None = None) -> str:
    """Render a pydantic error as one line: ``config: unknown key 'server.lisen'; ...``."""
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            problems.append(f"'{key}': {err['msg']}")
    origin = str(config) if config is not None else "configuration"
    return f"{origin}: " + "; ".join(problems)
