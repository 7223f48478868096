"""Segment names: path-safe sources that read back, keys that parse back, names that never collide."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loglens.archive.names import (
    MAX_SAFE,
    SegmentName,
    new_uid,
    safe_source,
    source_of,
    start_text,
    start_time,
)

# Labels as loglens gets them: any text, and file names that are not UTF-8 (surrogate escapes).
LABELS = st.text(min_size=1) | st.binary(min_size=1).map(lambda raw: raw.decode("utf-8", "surrogateescape"))


@given(LABELS)
def test_a_source_label_becomes_one_safe_folder_name_that_reads_back(label: str) -> None:
    safe = safe_source(label)
    assert "/" not in safe and safe not in (".", "..") and not safe.startswith(".")
    assert safe.isascii() and len(safe) <= MAX_SAFE + 17
    if "~" not in safe:
        assert source_of(safe) == label


@given(LABELS, LABELS)
def test_different_labels_get_different_folders(one: str, other: str) -> None:
    if one != other:
        assert safe_source(one) != safe_source(other)


def test_path_labels_keep_their_readable_parts() -> None:
    assert safe_source("/var/log/nginx/access.log") == "%2Fvar%2Flog%2Fnginx%2Faccess.log"
    assert safe_source("ingest:web") == "ingest%3Aweb"
    assert safe_source(".hidden") == "%2Ehidden"
    long = "x" * 300
    assert safe_source(long).startswith("x" * 150 + "~") and source_of(safe_source(long)) == safe_source(long)


@given(st.integers(min_value=0, max_value=253402300799))  # up to 9999-12-31T23:59:59Z
def test_a_key_parses_back_into_its_name(second: int) -> None:
    name = SegmentName(safe_source("ingest:web"), start_text(second), new_uid())
    assert SegmentName.parse(name.key) == name
    assert name.started == start_time(name.start) == second
    y, m, d, h = name.start[:4], name.start[4:6], name.start[6:8], name.start[9:11]
    assert name.key == f"ingest%3Aweb/{y}/{m}/{d}/{h}/{name.start}-{name.uid}.log.gz"


def test_the_example_name() -> None:
    name = SegmentName("api", start_text(1796111803), "0" * 32)
    assert name.key == "api/2026/12/01/07/20261201T075643Z-00000000000000000000000000000000.log.gz"


def test_names_made_in_the_same_second_never_collide_and_sort_in_creation_order() -> None:
    uids = [new_uid() for _ in range(20_000)]
    assert len(set(uids)) == len(uids)
    assert sorted(uids, key=lambda uid: uid[:16]) == uids


def test_other_paths_are_not_segments() -> None:
    for key in ("api/2026/12/01/07/x.log.gz", "api/20261201T075643Z-" + "0" * 32 + ".log.gz", "a/b"):
        assert SegmentName.parse(key) is None
