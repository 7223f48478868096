"""The miner's invariants: a message fits its template, masking is stable, batches and single messages
agree, templates are bounded, and a saved miner goes on as the one it was saved from."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest import MonkeyPatch

from loglens.patterns import WILDCARD, TemplateMiner, mask, mask_many
from loglens.patterns import miner as miner_module
from loglens.patterns.masking import covers

#: Text like log messages: words, numbers, addresses and the punctuation masking splits on.
WORDS = st.sampled_from(
    ["user", "root", "admin", "failed", "from", "port", "ok", "KB", "B", "Jun", "Mon", "=", "rhost=",
     "/var/log", "x:", "(", ")", "[", "]", "<*>", "-", ",", "0x1f", "ssh2"]
)  # fmt: skip
TOKENS = st.one_of(WORDS, st.integers(0, 10**6).map(str), st.from_regex(r"[a-z]{1,6}[0-9]?", fullmatch=True))
MESSAGES = st.lists(TOKENS, max_size=8).map(" ".join)
TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@given(st.one_of(MESSAGES, TEXT))
def test_masking_is_idempotent(message: str) -> None:
    once = mask(message)
    assert mask(once) == once


@given(st.lists(st.one_of(MESSAGES, TEXT), max_size=20))
def test_polars_masks_as_python_does(messages: list[str]) -> None:
    assert mask_many(messages) == [mask(message) for message in messages]


def test_masking_keeps_words_and_masks_what_varies() -> None:
    assert mask("Failed password for root from 10.0.0.1 port 22 ssh2") == (
        "Failed password for root from <*> port <*> <*>"
    )
    assert (
        mask("rhost=h1.example.org sshd[4521]: at Fri Jun 17 07:07:00 2005") == "rhost=<*> sshd[<*>]: at <*>"
    )
    assert mask("stored 5.2 KB, free 384 B at 2015-10-18 18:01:47,978 in /tmp/a/b") == (
        "stored <*>, free <*> at <*> in <*>"
    )


@settings(max_examples=50)
@given(st.lists(MESSAGES, min_size=1, max_size=60))
def test_every_message_fits_the_template_it_is_put_in(messages: list[str]) -> None:
    miner = TemplateMiner()
    for message in messages:
        match = miner.add(message)
        template, tokens = match.template.split(), mask(message).split()
        assert len(template) == len(tokens)
        assert all(covers(a, b) for a, b in zip(template, tokens, strict=True)), (template, tokens)


@settings(max_examples=50)
@given(st.lists(MESSAGES, max_size=60))
def test_add_many_places_messages_as_add_does(messages: list[str]) -> None:
    one, batch = TemplateMiner(), TemplateMiner()
    assert [one.add(message) for message in messages] == batch.add_many(messages)


@settings(max_examples=50)
@given(st.lists(MESSAGES, max_size=40), st.lists(MESSAGES, max_size=40), st.integers(1, 30))
def test_a_restored_miner_places_messages_as_the_saved_one(
    first: list[str], then: list[str], bound: int
) -> None:
    saved = TemplateMiner(max_templates=bound)
    saved.add_many(first)
    state = orjson.loads(orjson.dumps(saved.to_state()))
    restored = TemplateMiner.from_state(state, max_templates=bound)
    assert restored.templates() == saved.templates()
    assert restored.add_many(then) == saved.add_many(then)
    assert restored.templates() == saved.templates()


def test_templates_are_bounded_and_the_least_recently_seen_goes() -> None:
    miner = TemplateMiner(max_templates=3)
    words = ["alpha", "bravo", "charlie", "delta"]
    for word in words[:3]:
        miner.add(f"{word} started")
    miner.add("alpha started")  # bravo is now the least recently seen
    match = miner.add("delta started")
    assert match.new
    assert sorted(info.template for info in miner.templates()) == ["alpha started", "charlie started",
                                                                   "delta started"]  # fmt: skip
    assert miner.add("bravo started").new


def test_a_template_made_where_the_only_one_of_its_leaf_was_evicted_is_found_again() -> None:
    miner = TemplateMiner(max_templates=1)
    miner.add("user ann")
    assert miner.add("user bob").new
    assert not miner.add("user bob").new


def test_a_word_seen_in_many_values_becomes_a_wildcard_and_the_siblings_merge() -> None:
    miner = TemplateMiner(variants=4)
    ids = [miner.add(f"session opened for user {user}").template_id for user in ("ann", "bob", "cy")]
    assert len(set(ids)) == 3
    match = miner.add("session opened for user dee")
    assert not match.new
    assert match.template == f"session opened for user {WILDCARD}"
    assert {miner.resolve(template_id) for template_id in ids} == {match.template_id}
    assert [(info.count, info.example) for info in miner.templates()] == [(4, "session opened for user ann")]


def test_a_masked_value_makes_the_position_variable_at_once() -> None:
    miner = TemplateMiner()
    first = miner.add("Invalid user webmaster from 10.0.0.1")
    second = miner.add("Invalid user test9 from 10.0.0.2")
    assert (second.template_id, second.new) == (first.template_id, False)
    assert second.template == "Invalid user <*> from <*>"


def test_the_state_is_json_and_a_state_of_another_version_restores_nothing() -> None:
    miner = TemplateMiner()
    miner.add("disk 1 full")
    state = miner.to_state()
    assert orjson.loads(orjson.dumps(state)) == state
    assert TemplateMiner.from_state({**state, "version": 0}).templates() == []


def _families(miner: TemplateMiner, first: int, count: int) -> None:
    """``count`` families of four siblings each, which the fourth merges into one template."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in range(first, first + count):
        name = "".join(letters[int(digit)] for digit in str(n))  # a word: masking keeps it
        miner.add_many([f"{name} says {word}" for word in ("alpha", "beta", "gamma", "delta")])


def test_what_a_miner_saves_stays_bounded_however_many_templates_merge(monkeypatch: MonkeyPatch) -> None:
    monkeypatch.setattr(miner_module, "EXACT_CACHE", 64)
    miner = TemplateMiner(max_templates=10)
    _families(miner, 0, 500)
    assert miner.merges == 500 * 2  # the second and third siblings, into the first
    size = len(orjson.dumps(miner.to_state()))
    _families(miner, 500, 2000)
    assert miner.merges == 2500 * 2
    assert len(orjson.dumps(miner.to_state())) < 1.2 * size
    restored = TemplateMiner.from_state(miner.to_state(), max_templates=10)
    assert restored.merges == miner.merges
    assert restored.distinct == miner.distinct == 2500
