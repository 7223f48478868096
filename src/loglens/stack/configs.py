"""The shipped configurations of ``deploy/``, with their addresses, paths and intervals substituted.

``loglens stack up`` runs Prometheus and Alertmanager with these, and the stack's integration test runs
them the same way, so what is tested is what ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loglens.errors import ConfigError

#: The checkout's deploy/ folder (an editable install, or running from the source tree).
DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
PROMETHEUS_CONFIG = "prometheus.yml"
ALERTMANAGER_CONFIG = "alertmanager.yml"


@dataclass(frozen=True)
class Addresses:
    """``HOST:PORT`` of each part of the stack, as the configurations name them."""

    loglens: str
    prometheus: str
    alertmanager: str


def deploy_folder(folder: Path | None = None) -> Path:
    """The folder of the shipped configurations: ``folder``, or the checkout's ``deploy/``.

    Raises:
        ConfigError: no ``prometheus.yml`` and ``alertmanager.yml`` there.
    """
    found = folder if folder is not None else DEPLOY
    missing = [name for name in (PROMETHEUS_CONFIG, ALERTMANAGER_CONFIG) if not (found / name).is_file()]
    if missing:
        raise ConfigError(
            f"no {' and '.join(missing)} in {found}: give --deploy, the deploy/ folder of a loglens checkout"
        )
    return found


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path} is not a YAML mapping")
    return loaded


def prometheus_config(
    deploy: Path,
    addresses: Addresses,
    scrape_interval: str | None = None,
    evaluation_interval: str | None = None,
) -> str:
    """``deploy/prometheus.yml`` scraping ``addresses.loglens`` and itself, sending alerts to
    ``addresses.alertmanager``, its rule files named by absolute path; each given interval replaces the
    file's (the global one and every job's)."""
    config = _load(deploy / PROMETHEUS_CONFIG)
    config["rule_files"] = [str((deploy / name).resolve()) for name in config.get("rule_files", [])]
    targets = {"loglens": addresses.loglens, "prometheus": addresses.prometheus}
    for job in config.get("scrape_configs", []):
        if job["job_name"] in targets:
            job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        if scrape_interval is not None:
            job["scrape_interval"] = scrape_interval
    for manager in config.get("alerting", {}).get("alertmanagers", []):
        manager["static_configs"] = [{"targets": [addresses.alertmanager]}]
    settings = config.setdefault("global", {})
    if scrape_interval is not None:
        settings["scrape_interval"] = scrape_interval
    if evaluation_interval is not None:
        settings["evaluation_interval"] = evaluation_interval
    return yaml.safe_dump(config, sort_keys=False)


def alertmanager_config(
    deploy: Path, webhook: str | None = None, group_wait: str | None = None, group_interval: str | None = None
) -> str:
    """``deploy/alertmanager.yml``, its webhook receivers posting to ``webhook`` and its route's waits
    replaced, when given."""
    config = _load(deploy / ALERTMANAGER_CONFIG)
    if webhook is not None:
        for receiver in config.get("receivers", []):
            for hook in receiver.get("webhook_configs", []):
                hook["url"] = webhook
    route = config.setdefault("route", {})
    if group_wait is not None:
        route["group_wait"] = group_wait
    if group_interval is not None:
        route["group_interval"] = group_interval
    return yaml.safe_dump(config, sort_keys=False)
