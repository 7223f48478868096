"""The web page's document: the static report agrees with ``replay --output json``, and the live page's
merge patches rebuild each document exactly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from loglens import report
from loglens.replay import replay
from loglens.ui.web.document import merge_patch
from loglens.ui.web.page import live_page, report_document, report_page
from support import REAL

APACHE = REAL / "apache_combined_10k.log"


def apply_patch(target: Any, patch: Any) -> Any:
    """RFC 7386's algorithm, as the page's script applies a patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = apply_patch(out.get(key), value)
    return out


# Documents as the page's: nested objects of numbers, strings and lists (nulls only inside lists).
leaves = st.one_of(
    st.integers(), st.text(max_size=5), st.lists(st.one_of(st.integers(), st.none()), max_size=3)
)
documents = st.recursive(
    leaves, lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=4), max_leaves=20
)


@given(st.dictionaries(st.text(max_size=3), documents), st.dictionaries(st.text(max_size=3), documents))
def test_a_patch_turns_the_old_document_into_the_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    patch = merge_patch(old, new)
    assert apply_patch(json.loads(json.dumps(old)), json.loads(json.dumps(patch))) == new
    assert merge_patch(new, new) == {}


def test_a_patch_carries_only_what_changed() -> None:
    old = {"charts": {"5m": {"points": {"1": [1, 0, 0], "2": [2, 0, 0]}}}, "meta": {"rows": 10, "now": "a"}}
    new = {"charts": {"5m": {"points": {"2": [2, 0, 0], "3": [5, 1, 0]}}}, "meta": {"rows": 10, "now": "b"}}
    assert merge_patch(old, new) == {
        "charts": {"5m": {"points": {"1": None, "3": [5, 1, 0]}}},
        "meta": {"now": "b"},
    }


def test_the_report_shows_the_numbers_of_the_json_report() -> None:
    web = replay([str(APACHE)], web=True)
    assert web.query is not None
    doc = report_document(web.query, web.files, web.elapsed, 10)
    expected = report.summarize(replay([str(APACHE)]), 10, 10)
    summary = doc["summary_by_source"][""]
    for key in ("lines", "parsed", "hits", "bytes", "status", "status_classes", "methods", "levels"):
        assert summary[key] == expected[key], key
    assert [[s, hits] for s, (hits, _e, _share) in summary["sections"].items()][:10] == expected["sections"]
    panels = doc["panels"]
    for name in ("clients", "not_found", "referrers"):
        assert [[key, row[0]] for key, row in panels[name].items()] == expected[name], name
    for name in ("browsers", "bots"):
        assert {key: row[0] for key, row in panels[name].items()} == expected[name], name
    assert {key: row[0] for key, row in panels["hours"].items()} == {
        h: n for h, n in expected["hours"].items() if n
    }
    assert doc["summary_by_source"][str(APACHE)]["hits"] == expected["hits"]
    assert doc["charts"] is None and doc["alerts"] is None  # a report keeps no windows


def test_the_report_is_one_file_that_loads_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loglens", "replay", "--output", "html", str(APACHE)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>")
    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", page)
    data = re.search(r'<script type="application/json" id="loglens-data">(.*?)</script>', page, re.S)
    assert data
    assert json.loads(data[1])["summary_by_source"][""]["lines"] == 10_000
    assert "EventSource" in page  # the same script as the live page's


def test_text_from_the_logs_cannot_close_the_data_element(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text(
        '1.2.3.4 - - [09/May/2018:16:00:39 +0000] "GET /</script><b>x HTTP/1.1" 404 5 "-" "</script>"\n'
    )
    result = replay([str(log)], web=True)
    assert result.query is not None
    page = report_page(result.query, result.files, 0.0, 10)
    data = re.search(r'id="loglens-data">(.*?)</script>', page, re.S)
    assert data
    assert "/</script><b>x" in json.loads(data[1])["panels"]["not_found"]


def test_the_live_page_references_only_its_own_assets() -> None:
    page = live_page()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    assert refs and all(ref.startswith("ui/") or ref.startswith("data:") for ref in refs), refs
    assert "loglens-data" not in page


def test_every_file_of_the_page_is_package_data() -> None:
    root = Path(__file__).resolve().parents[2]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = setuptools["package-data"]["loglens.ui.web"]
    package = root / "src" / "loglens" / "ui" / "web"
    files = [p.relative_to(package).as_posix() for p in (package / "assets").rglob("*") if p.is_file()]
    assert files and all(any(fnmatch(name, glob) for glob in globs) for name in files), (files, globs)
