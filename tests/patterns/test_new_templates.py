"""On each loghub sample, a message whose words change makes a new template; one whose numbers change
does not (what the ``new_pattern`` detector relies on)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patterns.loghub import LOGHUB, SYSTEMS, commonest_numbered, patterns_csv, reworded, truth


def _renumbered(content: str) -> str:
    """Every digit moved by 3 (mod 10), words kept."""
    return re.sub(r"[0-9]", lambda digit: str((int(digit.group()) + 3) % 10), content)


@pytest.mark.parametrize("system", SYSTEMS)
def test_changed_words_make_a_new_template_and_changed_numbers_do_not(system: str, tmp_path: Path) -> None:
    rows = truth(system)
    raw = (LOGHUB / f"{system}_2k.log").read_text(encoding="utf-8").splitlines()
    index = commonest_numbered(system)
    content = rows[index]["Content"]
    line = raw[index]
    assert content in line
    changed_words, renumbered = (
        line.replace(content, reworded(content)),
        line.replace(content, _renumbered(content)),
    )
    assert renumbered != line
    sample = tmp_path / "sample.log"
    sample.write_text("\n".join([*raw, changed_words, renumbered]) + "\n", encoding="utf-8")
    mined = patterns_csv(sample)
    before = {row["template_id"] for row in mined[: len(raw)]}
    assert mined[-2]["template_id"] not in before, (changed_words, mined[-2])
    assert mined[-1]["template_id"] == mined[index]["template_id"], (renumbered, mined[-1])
