"""``loglens replay`` end to end: outputs, compressed and piped input, and bad input of every kind."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from loglens.cli import main
from loglens.parsing.lines import MAX_CHUNK_LINES, LineSplitter
from loglens.sources.replay_reader import read_ahead
from support import REAL

APACHE = REAL / "apache_combined_10k.log"


def _replay_json(*args: str, stdin: bytes | None = None, exit_code: int = 0) -> dict:
    result = CliRunner().invoke(main, ["replay", "--output", "json", *args], input=stdin)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def _independent_counts(path: Path) -> tuple[Counter[str], int]:
    status: Counter[str] = Counter()
    size = 0
    for line in path.read_text().splitlines():
        match = re.search(r'" (\d{3}) (\d+|-) "', line)
        assert match
        status[match[1]] += 1
        size += 0 if match[2] == "-" else int(match[2])
    return status, size


def test_json_report_of_the_real_sample() -> None:
    doc = _replay_json(str(APACHE))
    status, size = _independent_counts(APACHE)
    assert (doc["lines"], doc["parsed"], doc["parse_errors"], doc["hits"]) == (10_000, 10_000, {}, 10_000)
    assert doc["status"] == dict(status)
    assert doc["bytes"] == size
    assert sum(doc["methods"].values()) == 10_000
    assert len(doc["sections"]) == 10
    assert doc["sections"][0] == ["/presentations", 2305]
    assert doc["first_ts"] == "2015-05-17T10:05:00Z"
    assert doc["last_ts"] == "2015-05-20T21:05:59Z"
    assert sum(doc["hours"].values()) == 10_000
    assert doc["clients"][0][1] >= doc["clients"][-1][1]
    assert "Googlebot" in doc["bots"]
    assert sum(n for _, n in doc["not_found"]) <= status["404"]


def test_section_limit_and_top() -> None:
    doc = _replay_json("--section-limit", "3", "--top", "2", str(APACHE))
    assert len(doc["sections"]) == 3
    assert len(doc["clients"]) == 2


def test_gzip_and_stdin_read_like_the_plain_file(tmp_path: Path) -> None:
    packed = tmp_path / "access.log.1.gz"
    packed.write_bytes(gzip.compress(APACHE.read_bytes()))
    plain = _replay_json(str(APACHE))
    for doc in (_replay_json(str(packed)), _replay_json("-", stdin=APACHE.read_bytes())):
        assert {k: doc[k] for k in ("lines", "status", "bytes", "sections")} == {
            k: plain[k] for k in ("lines", "status", "bytes", "sections")
        }


def test_several_files_add_up(tmp_path: Path) -> None:
    doc = _replay_json(str(APACHE), str(APACHE))
    assert doc["lines"] == 20_000


def test_missing_file_exits_nonzero_with_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loglens", "replay", "/nonexistent/access.log"], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["loglens: /nonexistent/access.log: no such file"]


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    doc = _replay_json(str(empty))
    assert (doc["lines"], doc["hits"], doc["first_ts"]) == (0, 0, None)


def test_a_file_of_blank_lines_is_empty_not_unparsed(tmp_path: Path) -> None:
    blank = tmp_path / "blank.log"
    blank.write_bytes(b"\n\n\n")
    doc = _replay_json(str(blank))
    assert (doc["lines"], doc["parsed"], doc["parse_errors"]) == (3, 0, {"empty": 3})


@pytest.mark.parametrize(
    ("args", "tried"),
    [
        ((), ", and --format auto detected no format"),
        (("--format", "combined"), " as combined"),
        (("--format", "json"), " as json"),
        (("--pattern", '%h %t "%r" %>s %b'), " with the --pattern given"),
    ],
)
def test_nothing_parsed_prints_the_report_then_exits_3_with_a_hint(
    tmp_path: Path, args: tuple[str, ...], tried: str
) -> None:
    path = tmp_path / "app.txt"
    path.write_text("starting up\nlistening on 8080\n\n")
    result = CliRunner().invoke(main, ["replay", "--output", "json", *args, str(path)])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert (doc["lines"], doc["parsed"]) == (3, 0)
    [hint] = result.stderr.splitlines()
    assert hint.startswith(f"loglens: no line parsed{tried} (")
    assert "--format" in hint.partition(";")[2] and "--pattern" in hint
    assert "3 read, rejected as empty 1, no_match 2" in hint


def test_one_parsed_line_is_enough_for_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "mostly-junk.log"
    path.write_bytes(b"junk\n" * 500 + APACHE.read_bytes().splitlines(keepends=True)[0])
    doc = _replay_json(str(path))
    assert (doc["lines"], doc["parsed"]) == (501, 1)


def test_exit_codes_of_the_installed_command(tmp_path: Path) -> None:
    """0 on a good file, 1 on a missing one, 2 on a bad flag, 3 when nothing parsed (the table printed)."""
    junk = tmp_path / "junk.log"
    junk.write_text("not a log line\n")
    loglens = str(Path(sys.executable).with_name("loglens"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([loglens, "replay", *args], capture_output=True, text=True, timeout=60)

    assert run(str(APACHE)).returncode == 0
    assert run(str(tmp_path / "missing.log")).returncode == 1
    bad_format = run("--format", "apache", str(APACHE))
    assert bad_format.returncode == 2
    assert "--format" in bad_format.stderr
    nothing = run(str(junk))
    assert nothing.returncode == 3
    assert "parse errors" in nothing.stdout
    assert nothing.stderr.splitlines() == [
        "loglens: no line parsed, and --format auto detected no format (1 read, rejected as no_match 1); "
        "name one with --format, or give --pattern"
    ]


def test_binary_garbage_and_invalid_utf8_are_counted_not_fatal(tmp_path: Path) -> None:
    good = APACHE.read_bytes().splitlines(keepends=True)[:100]
    junk = [
        bytes(b for b in range(256) if b != 10) + b"\n",
        b"\xff\xfe\xfd not utf8\n",
        b"\x00" * 100 + b"\n",
    ]
    path = tmp_path / "mixed.log"
    path.write_bytes(b"".join(good[:50] + junk + good[50:]))
    doc = _replay_json(str(path))
    assert doc["lines"] == 103
    assert doc["parsed"] == 100
    assert doc["parse_errors"] == {"no_match": 3}


def test_fifty_megabyte_line_without_newline_is_too_long(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    with path.open("wb") as out:
        out.write(APACHE.read_bytes().splitlines(keepends=True)[0])
        for _ in range(50):
            out.write(b"z" * (1024 * 1024))
    doc = _replay_json(str(path))
    assert (doc["lines"], doc["parsed"], doc["parse_errors"]) == (2, 1, {"too_long": 1})


def test_max_line_bytes_is_configurable(tmp_path: Path) -> None:
    doc = _replay_json("--max-line-bytes", "256", str(APACHE))
    longer = sum(1 for line in APACHE.read_bytes().splitlines() if len(line) > 256)
    assert longer > 0
    assert doc["parse_errors"] == {"too_long": longer}


def test_bad_format_and_pattern_are_clear_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["replay", "--pattern", "(?P<nope>x)", str(APACHE)])
    assert result.exit_code == 2
    assert "nope" in result.stderr


def test_table_report_shows_the_panels() -> None:
    result = CliRunner().invoke(main, ["replay", str(APACHE)])
    assert result.exit_code == 0
    for heading in ("status codes", "top sections", "methods", "top clients", "hits per hour"):
        assert heading in result.stdout
    assert "10,000" in result.stdout


def test_prometheus_output_counts_every_line() -> None:
    result = CliRunner().invoke(main, ["replay", "--output", "prometheus", str(APACHE)])
    assert result.exit_code == 0
    match = re.search(r'^loglens_lines_total\{source="[^"]+"\} (\S+)$', result.stdout, re.M)
    assert match and float(match[1]) == 10_000
    requests = re.findall(r"^loglens_http_requests_total\{.*\} (\S+)$", result.stdout, re.M)
    assert sum(float(v) for v in requests) == 10_000


def test_the_method_mix_keeps_the_standard_methods_and_pools_the_rest(tmp_path: Path) -> None:
    stamp = "[09/May/2018:16:00:39 +0000]"
    methods = ["GET", "GET", "DELETE", "PROPFIND", "get", "M-SEARCH", "SPAM"]
    lines = [f'10.0.0.1 - - {stamp} "{method} /a HTTP/1.1" 200 12' for method in methods]
    lines.append(f'10.0.0.1 - - {stamp} "-" 400 0')  # no method at all
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n")
    doc = _replay_json(str(path))
    assert doc["hits"] == len(lines)
    assert doc["methods"] == {"OTHER": 5, "GET": 2, "DELETE": 1}
    result = CliRunner().invoke(main, ["replay", "--output", "prometheus", str(path)])
    labels = set(re.findall(r'^loglens_http_requests_total\{.*method="([^"]*)"', result.stdout, re.M))
    assert labels == {"GET", "DELETE", "OTHER"}


def test_custom_logformat_pattern(tmp_path: Path) -> None:
    path = tmp_path / "custom.log"
    path.write_text('10.0.0.1 [09/May/2018:16:00:39 +0000] "GET /shop/cart HTTP/1.1" 200 12 5300\n')
    doc = _replay_json("--pattern", '%h %t "%r" %>s %b %D', str(path))
    assert (doc["parsed"], doc["sections"], doc["bytes"]) == (1, [["/shop", 1]], 12)


def test_a_file_of_very_short_lines_is_read_in_chunks_of_bounded_lines(tmp_path: Path) -> None:
    """A million lines fit in 2 MiB; replay reads them in chunks of about MAX_CHUNK_LINES lines, so its
    memory does not grow with the lines per byte, and counts them all."""
    path = tmp_path / "short.log"
    path.write_bytes(b"a\n" * 1_000_000)
    splitter = LineSplitter()
    with path.open("rb") as handle:
        sizes = [len(chunk.lines) for chunk in read_ahead(handle, splitter)]
    assert sum(sizes) == 1_000_000
    assert max(sizes) <= MAX_CHUNK_LINES * 1.4  # the first read, 256 KiB, holds 131,072
    report = _replay_json(str(path), exit_code=3)  # not one line parsed
    assert (report["lines"], report["parse_errors"]) == (1_000_000, {"no_match": 1_000_000})
