"""Apache's ``vhost_combined`` format and the virtual host of custom formats (``%v``, ``$host``)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from loglens.parsing import build_parser
from loglens.parsing.base import parse_batch

_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_hosts = st.lists(_label, min_size=1, max_size=4).map(".".join)
_paths = st.text("abcdefghijklmnopqrstuvwxyz0123456789/._-?=&", max_size=30).map(lambda p: "/" + p)


@settings(max_examples=60, deadline=None)
@given(_hosts, st.integers(1, 65535), _paths, st.integers(100, 599), st.integers(0, 10**9), st.booleans())
def test_each_field_of_a_vhost_combined_line_is_read(
    host: str, port: int, path: str, status: int, size: int, named: bool
) -> None:
    user = "ann" if named else "-"
    text = (
        f'{host}:{port} 10.1.2.3 - {user} [09/May/2018:16:00:39 +0000] "GET {path} HTTP/1.1" {status} {size} '
        '"https://ref.example/x" "Mozilla/5.0 (X11)"'
    )
    result = parse_batch(build_parser("vhost_combined"), pl.Series([text]))
    assert result.rejected.is_empty(), text
    row = result.records.row(0, named=True)
    assert (row["vhost"], row["client"], row["path"], row["status"], row["bytes"]) == (
        host, "10.1.2.3", path, status, size,
    )  # fmt: skip
    assert row["user"] == ("ann" if named else None)
    assert row["referer"] == "https://ref.example/x" and row["agent"] == "Mozilla/5.0 (X11)"


def test_a_line_without_the_virtual_host_is_not_a_vhost_combined_line() -> None:
    text = '10.1.2.3 - - [09/May/2018:16:00:39 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"'
    result = parse_batch(build_parser("vhost_combined"), pl.Series([text]))
    assert result.records.is_empty() and result.rejected["reason"].to_list() == ["no_match"]


def test_apache_and_nginx_patterns_read_the_virtual_host() -> None:
    apache = build_parser(pattern='%v %h %l %u %t "%r" %>s %b')
    nginx = build_parser(
        pattern='$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'
    )
    line = 'www.example.com 10.0.0.1 - - [09/May/2018:16:00:39 +0000] "GET /a HTTP/1.1" 200 5'
    for parser in (apache, nginx):
        records = parse_batch(parser, pl.Series([line])).records
        assert records["vhost"].to_list() == ["www.example.com"]
    combined = line.split(" ", 1)[1] + ' "-" "curl/8"'
    plain = parse_batch(build_parser("combined"), pl.Series([combined])).records
    assert plain["vhost"].to_list() == [None]
