"""Benchmark loglens's template miner against drain3 on the raw lines of the seven loghub samples, in one run.

    POLARS_MAX_THREADS=1 python bench/patterns_peers.py [--repeat 25]

On each sample of tests/data/real/loghub (raw ``*_2k.log`` lines, scored against ``*_structured.csv``):

- ``loglens patterns``: the lines read as ``loglens patterns`` reads them (the ``level`` format's
  ``message``, else the whole line), then mined;
- loglens's miner alone on the whole raw lines (no parser: how it copes with headers);
- drain3 with its defaults, and with the masks and settings of its example ``drain3.ini``.

Prints grouping accuracy (GA) per sample and the mean, then lines/s of each on the seven samples
repeated ``--repeat`` times: the miner's ``add_many`` on the messages, ``loglens patterns``'s reading and
mining of that input written to a file, and drain3 line by line, with loglens's ratio to each. Run with
``POLARS_MAX_THREADS=1`` for one core.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from drain3 import TemplateMiner as Drain3Miner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from loglens.patterns import TemplateMiner  # noqa: E402
from loglens.patterns.reading import messages, mine_files  # noqa: E402
from loglens.sources.replay_reader import ReplayReader  # noqa: E402
from patterns.loghub import LOGHUB, SYSTEMS, grouping_accuracy, truth  # noqa: E402

#: drain3's examples/drain3.ini: its masks (IDs, IPs, hex sequences, numbers) and settings.
EXAMPLE_MASKS = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]


def drain3_miner(masked: bool) -> Drain3Miner:
    """drain3 with its defaults, or with its example's masks and settings."""
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if masked:
        config.masking_instructions = [MaskingInstruction(regex, name) for regex, name in EXAMPLE_MASKS]
        config.mask_prefix, config.mask_suffix = "<:", ":>"
        config.drain_sim_th, config.drain_depth, config.drain_max_children = 0.4, 4, 100
        config.drain_max_clusters, config.drain_extra_delimiters = 1024, ["_"]
    return Drain3Miner(config=config)


def drain3_ids(lines: Sequence[str], masked: bool) -> list[int]:
    miner = drain3_miner(masked)
    return [miner.add_log_message(line)["cluster_id"] for line in lines]


def loglens_ids(lines: Sequence[str]) -> list[int]:
    miner = TemplateMiner()
    return [miner.resolve(match.template_id) for match in miner.add_many(lines)]


def read_messages(path: Path) -> list[str]:
    """The lines of ``path`` as ``loglens patterns`` mines them."""
    return [text for batch in ReplayReader([str(path)]).poll(0.0) for text in messages(batch)[0]]


def patterns_ids(path: Path) -> list[int]:
    return mine_files([str(path)]).lines["template_id"].to_list()


def rate(lines: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return lines / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25, help="copies of the seven samples timed")
    args = parser.parse_args()
    tools: dict[str, Callable[[str], list[int]]] = {
        "loglens patterns": lambda system: patterns_ids(LOGHUB / f"{system}_2k.log"),
        "loglens miner, raw lines": lambda system: loglens_ids(raw[system]),
        "drain3 defaults": lambda system: drain3_ids(raw[system], masked=False),
        "drain3 example masks": lambda system: drain3_ids(raw[system], masked=True),
    }
    raw = {system: (LOGHUB / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()
           for system in SYSTEMS}  # fmt: skip
    print(f"{'GA':<26}" + "".join(f"{system:>10}" for system in SYSTEMS) + f"{'mean':>8}")
    for name, ids in tools.items():
        scores = [grouping_accuracy(ids(system), [row["EventId"] for row in truth(system)])
                  for system in SYSTEMS]  # fmt: skip
        print(f"{name:<26}" + "".join(f"{score:>10.4f}" for score in scores) + f"{sum(scores) / 7:>8.4f}")

    lines = [line for system in SYSTEMS for line in raw[system]] * args.repeat
    texts = [text for system in SYSTEMS for text in read_messages(LOGHUB / f"{system}_2k.log")] * args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "seven.log"
        big.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rates = {
            "loglens miner add_many": rate(len(texts), lambda: loglens_ids(texts)),
            "loglens patterns (read+mine)": rate(len(lines), lambda: patterns_ids(big)),
            "drain3 defaults": rate(len(lines), lambda: drain3_ids(lines, masked=False)),
            "drain3 example masks": rate(len(lines), lambda: drain3_ids(lines, masked=True)),
        }
    print(f"\nlines/s on {len(lines):,} lines (the seven samples x {args.repeat})")
    for name, per_second in rates.items():
        print(f"{name:<30}{per_second:>12,.0f}")
    for peer in ("drain3 defaults", "drain3 example masks"):
        print(f"miner / {peer}: {rates['loglens miner add_many'] / rates[peer]:.1f}x, "
              f"patterns / {peer}: {rates['loglens patterns (read+mine)'] / rates[peer]:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
