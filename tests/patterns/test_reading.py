"""Mining whole inputs keeps what the templates need, not what the lines were: memory stays flat however
many lines are read, and the per-line output still names every line's template after merges."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from loglens.patterns import miner
from loglens.patterns.reading import mine_files, write_line_templates
from loglens.sources.file_read import CHUNK_BYTES
from patterns.loghub import LOGHUB, LOGLENS, SYSTEMS

PADDING = "the same words at the end of every line, so that fewer lines fill a read chunk: " * 2


def _word(n: int) -> str:
    """A word of letters only (masking keeps words), different for each ``n``."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters += chr(ord("a") + digit)
        if n == 0:
            return letters


def _unique_lines(path: Path, count: int) -> None:
    """``count`` lines, each of a shape of its own: none shares a template with another."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            out.write(f"{_word(n)} {_word(n * 7 + 3)} {_word(n * 13 + 5)} {_word(n)}q {PADDING}\n")


def _peak_mining(path: Path) -> int:
    tracemalloc.start()
    try:
        mined = mine_files([str(path)], format="level", max_templates=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert mined.templates_total == mined.lines
    assert mined.stats.height == 100
    return peak


def test_memory_stays_flat_when_every_line_makes_a_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The miner's lookup of masked messages is bounded by a size of its own; made small, it is full in
    # both runs, and what is left to grow is what mining keeps of the lines.
    monkeypatch.setattr(miner, "EXACT_CACHE", 1_000)
    small, large = tmp_path / "small.log", tmp_path / "large.log"
    _unique_lines(small, 30_000)
    _unique_lines(large, 120_000)
    assert small.stat().st_size > 2 * CHUNK_BYTES  # read in several batches
    peak_small = _peak_mining(small)
    peak_large = _peak_mining(large)
    assert peak_large < 1.5 * peak_small


def test_the_per_line_output_names_forgotten_templates_by_their_text(tmp_path: Path) -> None:
    lines = ["alpha beta gamma", *(f"{_word(n)} only {_word(n)}x" for n in range(5)), "alpha beta gamma"]
    log = tmp_path / "app.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written: list[str] = []
    write_line_templates(written.append, [str(log)], format="level", max_templates=2)
    rows = list(csv.DictReader(io.StringIO("".join(written))))
    assert [row["line"] for row in rows] == [str(n) for n in range(1, len(lines) + 1)]
    assert [row["template"] for row in rows] == lines  # no variable part: each template is its line
    assert rows[0]["template_id"] != rows[-1]["template_id"]  # forgotten, then made again


def test_an_empty_input_gives_the_header_alone(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    written: list[str] = []
    write_line_templates(written.append, [str(tmp_path / "empty.log")])
    assert "".join(written) == "line,template_id,template\n"


def test_csv_and_json_count_the_same_lines_per_template_of_the_loghub_samples(tmp_path: Path) -> None:
    both = tmp_path / "all.log"
    with both.open("wb") as out:
        for _ in range(3):
            for system in SYSTEMS:
                out.write((LOGHUB / f"{system}_2k.log").read_bytes())
    assert both.stat().st_size > 2 * CHUNK_BYTES  # read in several batches

    def run(*args: str) -> str:
        return subprocess.run([LOGLENS, "patterns", *args, str(both)], capture_output=True, text=True,
                              timeout=300, check=True).stdout  # fmt: skip

    report = json.loads(run("-o", "json", "--top", "0"))
    rows = list(csv.DictReader(io.StringIO(run("-o", "csv"))))
    assert len(rows) == report["lines"]
    by_id = Counter(row["template_id"] for row in rows)
    assert len(by_id) == report["templates_total"]
    for template in report["templates"]:
        assert by_id[str(template["id"])] == template["count"]
    texts = {row["template_id"]: row["template"] for row in rows}
    assert all(texts[str(t["id"])] == t["template"] for t in report["templates"])
