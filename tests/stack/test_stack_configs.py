"""The shipped configurations with addresses, paths and intervals substituted (``loglens stack`` and the
stack's integration test run them so), and the address ``loglens stack up`` scrapes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from loglens.errors import ConfigError
from loglens.stack.command import _loglens_target
from loglens.stack.configs import DEPLOY, Addresses, alertmanager_config, deploy_folder, prometheus_config

ADDRESSES = Addresses(loglens="127.0.0.1:7001", prometheus="127.0.0.1:7002", alertmanager="127.0.0.1:7003")


def test_prometheus_config_substitutes_every_address_and_names_the_rules_by_absolute_path() -> None:
    shipped = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load(prometheus_config(DEPLOY, ADDRESSES))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["loglens"]["static_configs"] == [{"targets": ["127.0.0.1:7001"]}]
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["127.0.0.1:7002"]}]
    assert config["alerting"]["alertmanagers"] == [{"static_configs": [{"targets": ["127.0.0.1:7003"]}]}]
    assert config["rule_files"] == [str((DEPLOY / name).resolve()) for name in shipped["rule_files"]]
    assert config["global"] == shipped["global"]  # intervals as shipped unless given
    assert jobs["loglens"]["scrape_interval"] == "5s"


def test_given_intervals_replace_the_global_ones_and_every_jobs() -> None:
    text = prometheus_config(DEPLOY, ADDRESSES, scrape_interval="1s", evaluation_interval="2s")
    config = yaml.safe_load(text)
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "2s"}
    assert {job["scrape_interval"] for job in config["scrape_configs"]} == {"1s"}


def test_alertmanager_config_points_its_webhooks_and_keeps_the_rest() -> None:
    shipped = yaml.safe_load((DEPLOY / "alertmanager.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load(alertmanager_config(DEPLOY, webhook="http://127.0.0.1:7004/x", group_wait="1s"))
    hooks = [hook for receiver in config["receivers"] for hook in receiver.get("webhook_configs", [])]
    assert [hook["url"] for hook in hooks] == ["http://127.0.0.1:7004/x"]
    assert config["route"] == {**shipped["route"], "group_wait": "1s"}
    assert yaml.safe_load(alertmanager_config(DEPLOY)) == shipped


def test_a_folder_without_the_configs_or_with_a_broken_one_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^no prometheus\.yml and alertmanager\.yml in "):
        deploy_folder(tmp_path)
    shutil.copy(DEPLOY / "alertmanager.yml", tmp_path)
    (tmp_path / "prometheus.yml").write_text("scrape_configs: [\n", encoding="utf-8")
    assert deploy_folder(tmp_path) == tmp_path
    with pytest.raises(ConfigError, match=r"^cannot read .*prometheus\.yml: "):
        prometheus_config(tmp_path, ADDRESSES)
    (tmp_path / "prometheus.yml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"prometheus\.yml is not a YAML mapping$"):
        prometheus_config(tmp_path, ADDRESSES)


@pytest.mark.parametrize(
    ("listen", "scraped"),
    [("127.0.0.1:9911", "127.0.0.1:9911"), (":9912", "127.0.0.1:9912"), ("10.1.2.3:80", "10.1.2.3:80"),
     ("[::1]:9913", "[::1]:9913"), ("9914", "127.0.0.1:9914")],
)  # fmt: skip
def test_the_scraped_address_is_the_settings_listen(tmp_path: Path, listen: str, scraped: str) -> None:
    config = tmp_path / "loglens.yaml"
    config.write_text(yaml.safe_dump({"server": {"listen": listen}}), encoding="utf-8")
    assert _loglens_target(config, None) == scraped
    assert _loglens_target(config, "127.0.0.1:1") == "127.0.0.1:1"
