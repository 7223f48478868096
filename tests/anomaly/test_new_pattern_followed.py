"""A real ``loglens run`` follows the seven loghub samples; a line whose words changed, appended to each,
is a ``new_pattern`` anomaly with that line's message as its example, and fires a ``new_pattern`` rule;
a line whose numbers changed is not."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from patterns.loghub import LOGHUB, SYSTEMS, commonest_numbered, reworded, truth
from server.agent_helpers import AgentProcess, lines_total, wait_for

pytestmark = pytest.mark.integration


def new_patterns(url: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{url}/api/anomalies", timeout=5).json()
    return [a for a in answer["anomalies"] if a["detector"] == "new_pattern"]


def test_a_reworded_line_appended_to_each_sample_is_a_new_pattern(tmp_path: Path) -> None:
    sources = []
    for system in SYSTEMS:
        text = (LOGHUB / f"{system}_2k.log").read_text(encoding="utf-8")
        (tmp_path / f"{system}.log").write_text(
            text if text.endswith("\n") else text + "\n", encoding="utf-8"
        )
        sources.append(f"  - {{path: {tmp_path / system}.log, format: level, name: {system}}}")
    config = tmp_path / "loglens.yaml"
    config.write_text(
        "sources:\n" + "\n".join(sources) + "\n"
        "alerts:\n  - {name: new_kind, anomaly: {detector: new_pattern, source: Spark}, threshold: 1,"
        " keep_firing_for: 1h}\n",
        encoding="utf-8",
    )
    agent = AgentProcess(["--config", str(config), "--state-dir", str(tmp_path / "state"), "--from-start"],
                         tmp_path / "run.out")  # fmt: skip
    wait_for(
        lambda: lines_total(agent.url) == {s: 2000.0 for s in SYSTEMS}, timeout=60, what="every sample read"
    )
    before = {(a["series"], a["example"]) for a in new_patterns(agent.url)}
    expected = {}
    for system in SYSTEMS:
        index = commonest_numbered(system)
        content = truth(system)[index]["Content"]
        line = (LOGHUB / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()[index]
        renumbered = line.replace(
            content, re.sub(r"[0-9]", lambda d: str((int(d.group()) + 3) % 10), content)
        )
        with (tmp_path / f"{system}.log").open("a", encoding="utf-8") as out:
            out.write(f"{renumbered}\n{line.replace(content, reworded(content))}\n")
        expected[f"source:{system}"] = reworded(content)
    found = wait_for(
        lambda: (
            new := {(a["series"], a["example"]) for a in new_patterns(agent.url)} - before,
            len(new) >= len(SYSTEMS) and new,
        )[1],
        timeout=30,
        what="a new_pattern anomaly per sample",
    )
    by_source = {series: str(example) for series, example in found}
    assert set(by_source) == set(expected)  # one each: the renumbered lines made none
    for series, message in expected.items():
        assert message in by_source[series], (series, by_source[series])
    alerts = httpx.get(f"{agent.url}/api/alerts", timeout=5).json()
    assert [rule["firing"] for rule in alerts["rules"] if rule["name"] == "new_kind"] == [True]
    assert agent.stop() == 0


def test_lines_of_no_known_format_are_mined_whole(tmp_path: Path) -> None:
    log, config = tmp_path / "app.log", tmp_path / "loglens.yaml"
    log.write_text(
        "".join(f"job {n} finished in {n % 7} s on worker-{n % 3}\n" for n in range(50)), encoding="utf-8"
    )
    config.write_text(
        f"sources:\n  - {{path: {log}, format: combined, name: jobs}}\nanomaly:\n  pattern_warmup: 10\n",
        encoding="utf-8",
    )
    agent = AgentProcess(["--config", str(config), "--state-dir", str(tmp_path / "state"), "--from-start"],
                         tmp_path / "run.out")  # fmt: skip
    wait_for(lambda: lines_total(agent.url) == {"jobs": 50.0}, what="the 50 lines read")
    assert new_patterns(agent.url) == []  # one template: no line parsed, every one mined whole
    with log.open("a", encoding="utf-8") as out:
        out.write("job 51 finished in 2 s on worker-1\ndisk full on /dev/sda1, giving up\n")
    [found] = wait_for(lambda: new_patterns(agent.url), what="the new kind of line")
    assert (found["series"], found["example"]) == ("source:jobs", "disk full on /dev/sda1, giving up")
    templates = httpx.get(f"{agent.url}/api/patterns", timeout=5).json()["templates"]
    assert [t["count"] for t in templates] == [51, 1]
    assert agent.stop() == 0
