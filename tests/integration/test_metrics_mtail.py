"""The real mtail (``--one_shot``) and ``loglens replay`` on the same generated lines, with the rule set and
mtail program of bench/metrics_rules: every value compared.

Two differences are mtail's and are checked as such: mtail puts an observation of exactly 0 in no
bucket (Prometheus's ``le`` counts it in every one, as loglens does), and a histogram's ``_sum`` is
summed in floating point by both (mtail one value at a time, loglens a batch at a time), so the two
agree with the exact sum to the last digits only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from server.agent_helpers import LOGLENS
from support import require_tool

pytestmark = pytest.mark.integration

RULES = Path(__file__).parents[2] / "bench" / "metrics_rules"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str, names: list[str]) -> Samples:
    """The samples of the metrics ``names``, by name and labels (mtail's ``prog`` left out, ``le`` as a
    number)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not any(sample.name == name or sample.name.startswith(name + "_") for name in names):
                continue
            labels = {
                key: str(float(value)) if key == "le" and value != "+Inf" else value
                for key, value in sample.labels.items()
                if key != "prog"
            }
            out[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Access lines (combined, with durations) and application lines, alternating."""
    folder = tmp_path_factory.mktemp("mixed")
    start = "--start=2025-03-01T00:00:00Z"
    for name, extra in (("a.log", ["--durations"]), ("b.log", ["--format", "level"])):
        command = [LOGLENS, "generate", "--count", "30000", "--seed", "11", start, *extra]
        subprocess.run([*command, "-o", str(folder / name)], check=True, capture_output=True)
    access = (folder / "a.log").read_text().splitlines()
    app = (folder / "b.log").read_text().splitlines()
    mixed = folder / "in.log"
    mixed.write_text("".join(f"{a}\n{b}\n" for a, b in zip(access, app, strict=True)))
    return mixed


def test_every_value_is_mtails(mixed: Path, tmp_path: Path) -> None:
    progs = tmp_path / "progs"
    progs.mkdir()
    shutil.copy(RULES / "rules.mtail", progs)
    names = [rule["name"] for rule in yaml.safe_load((RULES / "rules.yaml").read_text())["metrics"]]
    mtail = require_tool("mtail", "mtail")
    peer = subprocess.run(
        [mtail, "--progs", str(progs), "--logs", str(mixed), "--one_shot", "--one_shot_format=prometheus"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    ours = subprocess.run(
        [LOGLENS, "replay", "--config", str(RULES / "rules.yaml"), "--output", "prometheus", str(mixed)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    theirs, mine = samples(peer.stdout, names), samples(ours.stdout, names)
    assert {"request_ms_bucket", "http_request_seconds_sum", "cache_entries"} <= {name for name, _ in theirs}

    durations = (re.search(r" (\d+\.\d+)$", line) for line in mixed.read_text().splitlines())
    seconds = [Decimal(found[1]) for found in durations if found]
    zeros = sum(1 for value in seconds if value == 0)
    assert zeros > 0, "the input should hold durations of 0, where mtail and Prometheus differ"
    for key, value in theirs.items():
        name = key[0]
        if name == "http_request_seconds_bucket":
            assert mine[key] - value == zeros, key  # mtail leaves 0 out of every bucket
        elif name == "http_request_seconds_sum":
            # Both sum floats (loglens per batch, mtail one by one): each within rounding of the exact sum.
            assert mine[key] == pytest.approx(float(sum(seconds)), rel=1e-12)
            assert value == pytest.approx(float(sum(seconds)), rel=1e-12)
        else:
            assert mine.get(key) == value, key
    assert set(mine) == set(theirs)
