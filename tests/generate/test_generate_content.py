"""The traffic looks like a real site's: heavy-tailed clients and sections, weighted methods, a status mix."""

from __future__ import annotations

import ipaddress
from collections import Counter

import polars as pl
import pytest

from generate.generate_helpers import make
from loglens.parsing import parse_lines


@pytest.fixture(scope="module")
def records() -> pl.DataFrame:
    """100,000 parsed combined lines."""
    return parse_lines(make(100_000, 21, fmt="combined", durations=True), format="combined").records


def test_hundreds_of_clients_with_heavy_tailed_activity_some_ipv6(records: pl.DataFrame) -> None:
    counts = records["client"].value_counts(sort=True)["count"].to_list()
    assert 250 <= len(counts) <= 400
    assert sum(counts[: len(counts) // 10]) > 0.5 * sum(counts)  # top tenth of clients: most of the hits
    versions = Counter(ipaddress.ip_address(c).version for c in records["client"].unique())
    assert versions[6] >= 10 and versions[4] > 200


def test_about_twenty_sections_with_heavy_tailed_popularity(records: pl.DataFrame) -> None:
    sections = records["section"].value_counts(sort=True)
    assert 18 <= sections.height <= 26
    shares = (sections["count"] / records.height).to_list()
    assert shares[0] > 0.2 and shares[0] > 10 * shares[-1]
    for expected in ("/api", "/static", "/blog", "/products", "/login"):
        assert expected in sections["section"].to_list()
    paths = records["path"]
    assert paths.str.contains(r"\?").any() and paths.str.contains(r"/api/v[12]/\w+/[0-9]+").any()
    assert paths.str.contains(r"\.(js|css|woff2|svg|jpg|webp)$").any()
    assert paths.n_unique() > 500


def test_methods_are_weighted_get_post_put_delete_head(records: pl.DataFrame) -> None:
    share = {m: n / records.height for m, n in Counter(records["method"].to_list()).items()}
    assert share["GET"] > 0.8
    assert share["GET"] > share["POST"] > share["PUT"] > share["DELETE"] > share["HEAD"] > 0


def test_status_mix_covers_the_usual_codes(records: pl.DataFrame) -> None:
    status = Counter(records["status"].to_list())
    assert set(status) == {200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 503}
    assert status[200] / records.height > 0.7
    assert sum(n for code, n in status.items() if code >= 500) / records.height < 0.01


def test_agents_referrers_users_sizes_and_durations(records: pl.DataFrame) -> None:
    agents = records["agent"]
    for name in ("Chrome/", "Firefox/", "Safari/", "Edg/", "curl/", "Googlebot", "bingbot"):
        assert agents.str.contains(name, literal=True).any(), name
    assert records["referer"].null_count() > 0
    assert records["referer"].str.starts_with("https://www.google.com").any()
    assert records["referer"].str.starts_with("https://www.example.com/").mean() > 0.3  # type: ignore[operator]
    users = records["user"].drop_nulls()
    assert 0.02 < users.len() / records.height < 0.5 and users.n_unique() > 10
    static = records.filter(
        pl.col("path").str.ends_with(".js") & (pl.col("status") == 200) & (pl.col("method") == "GET")
    )
    per_path = static.group_by("path").agg(pl.col("bytes").n_unique())
    assert (per_path["bytes"] == 1).all()  # a static file always has the same size
    assert records["duration"].min() >= 0  # type: ignore[operator]
    assert 0.005 < records["duration"].median() < 0.2  # type: ignore[operator]


def test_application_levels_are_about_70_20_10_with_varied_messages() -> None:
    records = parse_lines(make(50_000, 4, fmt="json", app=True), format="json").records
    share = {lv: n / records.height for lv, n in Counter(records["level"].to_list()).items()}
    assert share == pytest.approx({"INFO": 0.7, "WARNING": 0.2, "ERROR": 0.1}, abs=0.01)
    assert records["service"].n_unique() >= 10
    for level in ("INFO", "WARNING", "ERROR"):
        messages = records.filter(pl.col("level") == level)["message"]
        assert messages.str.replace_all(r"[0-9]+", "N").n_unique() >= 8


def test_generated_text_is_ascii_without_quotes_in_paths_or_agents(records: pl.DataFrame) -> None:
    lines = make(20_000, 22, fmt="combined")
    assert all(line.isascii() for line in lines)
    assert not records["path"].str.contains(r'[ "]').any()
    assert not records["agent"].str.contains('"', literal=True).any()
