"""The shipped stack (deploy/) checked as files: promtool and amtool accept the configurations, the
alerting rules are what ``loglens alerts export`` prints now, the dashboards are valid Grafana dashboard
JSON, and the compose file and Dockerfile say what they must.

Docker runs on no machine of this project, so docker-compose.yml and the Dockerfile are only read here,
never run.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.agent_helpers import LOGLENS
from support import require_tool

DEPLOY = Path(__file__).parents[2] / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
#: Panel types of Grafana's core (10 and 11).
PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "piechart", "heatmap", "text", "row",
               "barchart", "histogram", "state-timeline", "status-history", "logs"}  # fmt: skip
TITLES = {"loglens overview", "HTTP traffic", "Application logs", "Pushed and user metrics"}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _datasource_uid() -> str:
    datasources = _yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "loglens.yml")["datasources"]
    assert [source["type"] for source in datasources] == ["prometheus"]
    uid: str = datasources[0]["uid"]
    return uid


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_promtool_accepts_the_prometheus_config_and_its_rules() -> None:
    promtool = require_tool("promtool", "prometheus")
    config = subprocess.run([promtool, "check", "config", "prometheus.yml"], cwd=DEPLOY,
                            capture_output=True, text=True)  # fmt: skip
    assert config.returncode == 0, config.stdout + config.stderr
    assert "SUCCESS: 2 rule files found" in config.stdout
    rules = sorted(str(path) for path in (DEPLOY / "rules").glob("*.yml"))
    checked = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("SUCCESS: 4 rules found") == 1  # the alerting rules
    assert checked.stdout.count("SUCCESS: 6 rules found") == 1  # the recording rules


def test_amtool_accepts_the_alertmanager_config() -> None:
    amtool = require_tool("amtool", "prometheus-alertmanager")
    checked = subprocess.run([amtool, "check-config", str(DEPLOY / "alertmanager.yml")],
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    receivers = _yaml(DEPLOY / "alertmanager.yml")["receivers"]
    assert [receiver["name"] for receiver in receivers] == ["webhook"]
    text = (DEPLOY / "alertmanager.yml").read_text(encoding="utf-8")
    assert "#   email_configs:" in text and "#   slack_configs:" in text  # shown, commented out


def test_the_shipped_alerting_rules_are_what_alerts_export_prints_now() -> None:
    exported = subprocess.run(
        [LOGLENS, "alerts", "export", "--config", str(DEPLOY / "loglens.yaml")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    shipped = (DEPLOY / "rules" / "loglens-alerts.yml").read_text(encoding="utf-8")
    regenerate = "loglens alerts export --config deploy/loglens.yaml -o deploy/rules/loglens-alerts.yml"
    assert shipped == exported, f"regenerate it: {regenerate}"
    names = [rule["alert"] for rule in _yaml(DEPLOY / "rules" / "loglens-alerts.yml")["groups"][0]["rules"]]
    assert names == ["high_traffic", "error_burst", "server_errors", "slow_requests"]


def test_the_prometheus_config_scrapes_loglens_and_itself_and_alerts_to_alertmanager() -> None:
    config = _yaml(DEPLOY / "prometheus.yml")
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {"loglens": ["127.0.0.1:9911"], "prometheus": ["127.0.0.1:9090"]}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    assert all((DEPLOY / name).is_file() for name in config["rule_files"])
    recorded = [rule["record"] for group in _yaml(DEPLOY / "rules" / "loglens-recording.yml")["groups"]
                for rule in group["rules"]]  # fmt: skip
    assert recorded == ["loglens:http_requests:rate1m", "loglens:http_error_ratio:rate1m",
                        "loglens:lines:rate1m", "loglens:parse_error_ratio:rate5m",
                        "loglens:fleet_lines:rate1m", "loglens:fleet_http_requests:rate1m"]  # fmt: skip
    assert all(job.get("honor_labels") for job in config["scrape_configs"] if job["job_name"] == "loglens")


def test_the_stack_settings_pass_loglens_check() -> None:
    checked = subprocess.run([LOGLENS, "check", "--config", str(DEPLOY / "loglens.yaml")],
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_there_are_the_four_dashboards() -> None:
    titles = {json.loads(path.read_text(encoding="utf-8"))["title"] for path in DASHBOARDS}
    assert titles == TITLES


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_a_dashboard_is_valid_grafana_dashboard_json(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    uid = _datasource_uid()
    source = {"type": "prometheus", "uid": uid}
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", dashboard["uid"])
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert {"instance", "source"} <= set(variables)
    for variable in variables.values():
        assert variable["datasource"] == source, variable["name"]
        assert variable["type"] == "query" and variable["definition"] == variable["query"]["query"]
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), f"panel ids repeat: {ids}"
    for panel in panels(dashboard):
        assert panel["type"] in PANEL_TYPES, panel["type"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == source, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == source and target["expr"].strip(), panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        if "repeat" in panel:
            assert panel["repeat"] in variables, panel["title"]
    uids = [json.loads(other.read_text(encoding="utf-8"))["uid"] for other in DASHBOARDS]
    assert len(uids) == len(set(uids))


def test_grafana_provisioning_loads_the_dashboards_folder_compose_mounts() -> None:
    provider = _yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "loglens.yml")["providers"][0]
    grafana = _yaml(DEPLOY / "docker-compose.yml")["services"]["grafana"]
    mounts = dict(volume.removesuffix(":ro").split(":", 1)[::-1] for volume in grafana["volumes"])
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"


def test_the_compose_file_brings_up_the_whole_stack() -> None:
    compose = _yaml(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"loglens", "generator", "prometheus", "alertmanager", "grafana"}
    assert services["loglens"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    published = {port.rsplit(":", 1)[1] for port in services["loglens"]["ports"]}
    assert published == {"9911", "9090", "9093", "3000"}
    for name in ("prometheus", "alertmanager", "grafana"):
        assert services[name]["network_mode"] == "service:loglens"  # the configs' 127.0.0.1 is loglens
    for service in services.values():
        for volume in service.get("volumes", []):
            origin = volume.split(":", 1)[0]
            if origin.startswith("."):
                assert (DEPLOY / origin).exists(), volume
            else:
                assert origin in compose["volumes"], volume
    generator = " ".join(services["generator"]["command"])
    assert "spike@" in generator and "error-burst@" in generator


def test_the_dockerfile_is_slim_non_root_and_checks_api_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert stages and all(image.endswith("-slim") for image in stages)
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    healthcheck = re.search(r"^HEALTHCHECK (?:.*\\\n)*.*", text, flags=re.MULTILINE)
    assert healthcheck and "/api/health" in healthcheck.group(0)
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, flags=re.MULTILINE):
        for origin in line.split()[:-1]:
            assert (DEPLOY.parent / origin).exists(), origin
