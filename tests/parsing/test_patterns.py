"""Custom patterns are checked by the engine that runs them (polars), when the parser is built."""

from __future__ import annotations

import pytest

from loglens.errors import FormatError
from loglens.parsing import build_parser, parse_lines


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(?=x)(?P<status>\d+)", "look-around, including look-ahead and look-behind, is not supported"),
        (r"(?P<status>\d+)(?<!5)", "look-around"),
        (r"(?P<status>\d)\1", "backreferences are not supported"),
        (r"(?P<status>a{1000}){1000}", "exceeds size limit"),
    ],
)
def test_a_pattern_python_accepts_but_polars_refuses_is_a_format_error(pattern: str, reason: str) -> None:
    with pytest.raises(FormatError) as caught:
        build_parser(pattern=pattern)
    message = str(caught.value)
    assert reason in message
    assert repr(pattern) in message
    assert "\n" not in message


def test_a_pattern_polars_runs_parses() -> None:
    result = parse_lines(["x 200"], pattern=r"^x (?P<status>\d{3})$")
    assert result.records["status"].to_list() == [200]
