"""Browser and OS shares of the generated traffic follow the published market-share table."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from ua_parser import parse

from generate.generate_helpers import make
from loglens.generate.content import KIND_SHARES, allot
from loglens.generate.vocabulary import BOT_AGENTS, BROWSER_AGENTS, BROWSER_SHARES, OS_SHARES
from loglens.parsing import parse_lines

# ua-parser's names (the oracle of what an agent string says) for the table's browsers and systems.
_BROWSER = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Mobile Safari": "Safari",
    "Firefox Mobile": "Firefox",
    "Opera Mobile": "Opera",
}
_OS = {"Mac OS X": "macOS", "Ubuntu": "Linux"}


def _normalized(shares: dict[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    return {name: share / total for name, share in shares.items()}


def test_each_agent_string_is_the_browser_and_os_its_row_says() -> None:
    for agent, browser, os, _ in BROWSER_AGENTS:
        parsed = parse(agent)
        assert parsed.user_agent is not None and parsed.os is not None, agent
        assert _BROWSER.get(parsed.user_agent.family, parsed.user_agent.family) == browser, agent
        assert _OS.get(parsed.os.family, parsed.os.family) == os, agent


def test_agent_rows_add_up_to_the_browser_and_os_tables() -> None:
    by_browser: Counter[str] = Counter()
    by_os: Counter[str] = Counter()
    for _, browser, os, share in BROWSER_AGENTS:
        by_browser[browser] += share
        by_os[os] += share
    assert by_browser == pytest.approx(BROWSER_SHARES)
    assert by_os == pytest.approx(OS_SHARES)


@pytest.mark.parametrize("seed", [3, 21, 4242])
def test_browser_and_os_shares_of_a_large_sample_follow_the_table(seed: int) -> None:
    agents = parse_lines(make(100_000, seed, fmt="combined"), format="combined").records["agent"]
    browsers: Counter[str] = Counter()
    systems: Counter[str] = Counter()
    people = {agent for agent, *_ in BROWSER_AGENTS}
    for agent, n in Counter(agents.to_list()).items():
        if agent not in people:
            continue
        parsed = parse(agent)
        assert parsed.user_agent is not None and parsed.os is not None
        browsers[_BROWSER.get(parsed.user_agent.family, parsed.user_agent.family)] += n
        systems[_OS.get(parsed.os.family, parsed.os.family)] += n
    total = sum(browsers.values())
    crawlers = agents.is_in([agent for agent, _ in BOT_AGENTS]).mean()
    assert total / len(agents) == pytest.approx(KIND_SHARES[0], abs=0.01)
    assert crawlers == pytest.approx(KIND_SHARES[1], abs=0.01)  # bots stay apart, and few
    assert {k: n / total for k, n in browsers.items()} == pytest.approx(_normalized(BROWSER_SHARES), abs=0.01)
    assert {k: n / total for k, n in systems.items()} == pytest.approx(_normalized(OS_SHARES), abs=0.01)


def test_allot_meets_shares_by_weight_with_heavy_tailed_items() -> None:
    weights = 1.0 / np.arange(1, 301) ** 1.15
    shares = np.array([66.0, 18, 5, 3, 2, 2, 0.5])
    pools = allot(np.random.default_rng(5).permutation(weights), shares)
    got = np.bincount(pools, weights=np.random.default_rng(5).permutation(weights)) / weights.sum()
    assert got == pytest.approx(shares / shares.sum(), abs=0.005)
