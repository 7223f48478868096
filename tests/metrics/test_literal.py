"""The literal a rule's lines must contain: in every line polars' regex matches, or none is claimed."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loglens.metrics.literal import required_literal

ATOMS = st.sampled_from(
    ["a", "b", "c", " ", "/", '"', "5", "ab", "abc", r"\.", r"\d", r"\w", r"\s", r"\b", ".", "[ab]", "[^a]",
     r"\<", r"\x41", "{", "}", r"\{", "$", "^"]
)  # fmt: skip
QUANTIFIERS = st.sampled_from(["", "", "", "*", "+", "?", "{2}", "{0}", "{1,}", "{ 2}", "{,2}"])


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    """Small regexes of literals, classes, groups (named, unnamed, with flags), repetitions and
    alternations: what users write, and where Python's and Rust's syntax differ."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            inner = draw(patterns(depth + 1))
            opener = draw(st.sampled_from(["(", "(?:", f"(?P<g{depth}{len(parts)}>", "(?i:"]))
            atom = f"{opener}{inner})"
        else:
            atom = draw(ATOMS)
        parts.append(atom + draw(QUANTIFIERS))
    pattern = "".join(parts)
    if draw(st.integers(0, 5)) == 0:
        pattern += "|" + draw(ATOMS)
    return draw(st.sampled_from(["", "", "(?i)"])) + pattern


LINES = st.lists(st.text(alphabet='abcAB /"5.{}x_<>', max_size=24), min_size=1, max_size=60)


def echoes(pattern: str) -> list[str]:
    """Lines near what ``pattern`` matches: its text without the syntax, in both cases, and doubled."""
    bare = "".join(char for char in pattern if char not in "\\()[]?*+|^$:")
    return [bare, bare.upper(), bare.swapcase(), bare.replace("{2}", ""), "".join(c * 2 for c in bare)]


@settings(max_examples=400, deadline=None)
@given(pattern=patterns(), random_lines=LINES)
@example(pattern="(?i)abc", random_lines=[])
@example(pattern="x(?i:abc)", random_lines=["xABC"])
@example(pattern="(?:abcd)?x", random_lines=[])
@example(pattern="ab{ 2}c", random_lines=[])
@example(pattern="abc|d", random_lines=[])
def test_every_matched_line_holds_the_literal(pattern: str, random_lines: list[str]) -> None:
    lines = random_lines + echoes(pattern)
    try:
        matched = pl.Series(lines).str.contains(pattern)
    except pl.exceptions.ComputeError:  # refused by polars: refused at load too
        return
    literal = required_literal(pattern)
    if literal is None:
        return
    assert len(literal) >= 3
    for line, hit in zip(lines, matched, strict=True):
        if hit:
            assert literal in line, (pattern, literal, line)


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r'"(?P<method>[A-Z]+) /api/[^"]*" (?P<code>\d{3}) ', " /api/"),
        (r"payment failed .* service=(?P<service>\w+)", "payment failed "),
        (r"queue depth (?P<depth>\d+) on (?P<queue>\S+)", "queue depth "),
        (r"a\.bcd", "a.bcd"),
        (r"x\{ab\}", "x{ab}"),
        (r"(?i)payment", None),  # case-insensitive: any case matches
        (r"abc|def", None),  # either branch
        (r"(?:abcd)?x", None),  # optional
        (r"\x41bcd", None),  # an escape Python and Rust may read apart
        (r"\<word\>", None),  # word boundaries to Rust, literal angle brackets to Python
        (r"ab{ 2}cde", None),  # a brace Python reads literally
        (r"ab", None),  # too short to pay for a pass
    ],
)
def test_literals_of_known_patterns(pattern: str, literal: str | None) -> None:
    assert required_literal(pattern) == literal
