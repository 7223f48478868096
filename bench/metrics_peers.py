"""User metrics against mtail: the rule set of bench/metrics_rules on the same mixed lines, in one run.

    .venv/bin/python bench/metrics_peers.py [--lines 1000000] [--repeat 2]

Writes ``--lines`` lines (half access lines with durations, half application lines, alternating, from
``loglens generate --seed``), then times, best of ``--repeat`` each and interleaved: ``mtail --one_shot``
with rules.mtail, ``loglens replay --output prometheus`` with rules.yaml, and ``loglens replay`` without
rules. Prints the seconds, the ratios (targets, issue 17: loglens at least 3x mtail; with the rules at
least 60% of its speed without), and whether every value is the same (mtail's two known differences
aside: it leaves an observation of 0 out of every bucket and rounds a histogram's sum its own way).
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

HERE = Path(__file__).parent
RULES = HERE / "metrics_rules"
LOGLENS = str(Path(sys.executable).parent / "loglens")


def mixed(folder: Path, lines: int) -> Path:
    """Access lines (combined, with durations) and application lines, alternating."""
    start = "--start=2025-03-01T00:00:00Z"
    for name, extra in (("a.log", ["--durations"]), ("b.log", ["--format", "level"])):
        command = [LOGLENS, "generate", "--count", str(lines // 2), "--seed", "11", start, *extra]
        subprocess.run([*command, "-o", str(folder / name)], check=True, capture_output=True)
    access = (folder / "a.log").read_text().splitlines()
    app = (folder / "b.log").read_text().splitlines()
    path = folder / "in.log"
    path.write_text("".join(f"{a}\n{b}\n" for a, b in zip(access, app, strict=True)))
    return path


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - started, out


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The user metrics' samples (the names of rules.yaml), ``prog`` left out, ``le`` as a number."""
    names = [line.split(":", 1)[1].strip() for line in (RULES / "rules.yaml").read_text().splitlines()
             if line.strip().startswith("- name:")]  # fmt: skip
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if any(sample.name == name or sample.name.startswith(name + "_") for name in names):
                labels = {k: str(float(v)) if k == "le" and v != "+Inf" else v
                          for k, v in sample.labels.items() if k != "prog"}  # fmt: skip
                out[(sample.name, tuple(sorted(labels.items())))] = sample.value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("mtail") is None:
        raise SystemExit("mtail is not installed: apt-get install mtail (make bench does)")
    with tempfile.TemporaryDirectory(prefix="loglens-metrics-bench-") as work:
        folder = Path(work)
        path = mixed(folder, args.lines)
        progs = folder / "progs"
        progs.mkdir()
        shutil.copy(RULES / "rules.mtail", progs)
        commands = {
            "mtail": ["mtail", "--progs", str(progs), "--logs", str(path), "--one_shot",
                      "--one_shot_format=prometheus"],
            "loglens replay, 10 rules": [LOGLENS, "replay", "--config", str(RULES / "rules.yaml"),
                                         "--output", "prometheus", str(path)],
            "loglens replay, no rule": [LOGLENS, "replay", "--output", "prometheus", str(path)],
        }  # fmt: skip
        best = dict.fromkeys(commands, math.inf)
        outputs: dict[str, str] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():
                seconds, outputs[name] = timed(command)
                best[name] = min(best[name], seconds)
        for name, seconds in best.items():
            print(f"{name:<26} {seconds:7.2f} s  {args.lines / seconds:>10,.0f} lines/s")
        mtail, rules, bare = best.values()
        print(f"loglens with the rules is {mtail / rules:.2f}x mtail (target >= 3x); "
              f"{bare / rules:.0%} of its speed without them (target >= 60%)")  # fmt: skip
        theirs, mine = samples(outputs["mtail"]), samples(outputs["loglens replay, 10 rules"])
        differ = sorted(key for key in theirs.keys() | mine.keys() if theirs.get(key) != mine.get(key))
        kinds = {key[0].rsplit("_", 1)[-1] for key in differ}
        print(f"{len(mine)} samples; {len(differ)} differ" + (f" (in {', '.join(sorted(kinds))}: mtail's "
              "bucket of 0 and its rounding of sums)" if differ else ""))  # fmt: skip


if __name__ == "__main__":
    main()
