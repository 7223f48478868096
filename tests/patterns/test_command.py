"""``loglens patterns`` as a user runs it: inputs (plain, gzip, stdin) and the three outputs."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
from pathlib import Path

from patterns.loghub import LOGHUB, LOGLENS

APP = "\n".join([
    "ERROR 2025-06-15T04:00:32Z Disk 3 full on db-1",
    "INFO 2025-06-15T04:00:33Z User 17 logged in",
    "ERROR 2025-06-15T04:00:35Z Disk 4 full on db-2",
    "INFO 2025-06-15T04:00:36Z User 18 logged in",
    "ERROR 2025-06-15T04:00:39Z Disk 5 full on db-3",
]) + "\n"  # fmt: skip


def _patterns(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run([LOGLENS, "patterns", *args], input=stdin, capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    return result.stdout


def test_json_lists_templates_by_count_with_event_times_and_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text(APP, encoding="utf-8")
    report = json.loads(_patterns("--output", "json", str(tmp_path / "app.log")))
    assert (report["lines"], report["templates_total"]) == (5, 2)
    disk, user = report["templates"]
    assert disk == {"id": disk["id"], "template": "Disk <*> full on <*>", "count": 3, "share": 0.6,
                    "first_line": 1, "last_line": 5, "first_seen": "2025-06-15T04:00:32Z",
                    "last_seen": "2025-06-15T04:00:39Z", "example": APP.splitlines()[0]}  # fmt: skip
    assert (user["template"], user["count"]) == ("User <*> logged in", 2)


def test_the_table_shows_line_numbers_when_lines_have_no_time_and_top_cuts_it() -> None:
    table = _patterns("--top", "1", "-", stdin="job 1 done\njob 2 done\ncache cleared\n")
    lines = table.splitlines()
    assert lines[0] == "3 lines, 2 templates, top 1"
    assert lines[2].split() == ["2", "66.7", "line", "1", "line", "2", "job", "<*>", "done"]
    assert lines[3].split() == ["e.g.", "job", "1", "done"]
    assert len(lines) == 4


def test_csv_gives_every_line_its_template_across_plain_and_gzip_inputs(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(APP, encoding="utf-8")
    with gzip.open(tmp_path / "b.log.gz", "wt", encoding="utf-8") as out:
        out.write(APP)
    rows = list(csv.DictReader(io.StringIO(_patterns("-o", "csv", str(tmp_path / "a.log"),
                                                     str(tmp_path / "b.log.gz")))))  # fmt: skip
    assert [row["line"] for row in rows] == [str(n) for n in range(1, 11)]
    assert [row["template"] for row in rows[:2]] == ["Disk <*> full on <*>", "User <*> logged in"]
    assert [row["template_id"] for row in rows[5:]] == [row["template_id"] for row in rows[:5]]


def test_a_loghub_sample_reads_as_its_messages() -> None:
    report = json.loads(_patterns("-o", "json", "--top", "1", str(LOGHUB / "HDFS_2k.log")))
    top = report["templates"][0]
    assert (
        top["template"]
        == "BLOCK* NameSystem.addStoredBlock: blockMap updated: <*>:<*> is added to <*> size <*>"
    )
    assert top["example"].startswith(
        "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock"
    )
    assert top["first_seen"] == "2008-11-09T20:40:05Z"
