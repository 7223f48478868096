"""The streaming template miner.

Drain's shape (messages of one length and first token share a leaf; a message joins the template it
differs least from), with changes that measured better and faster on the loghub samples than Drain and
drain3 (bench/README.md), so this is loglens's own rather than drain3:

- a message is masked whole before mining (masking.py), and a masked message seen before is found by a
  dict lookup, without comparing tokens, so most messages cost a mask and a lookup;
- a masked token covers the words it could stand for (``rhost=<*>`` covers ``rhost=example.org``): where
  a message has a masked value and a template a word, the position is variable at once;
- a word that differs from a template does not make that position a wildcard at once: the message makes
  a sibling template, and only once ``variants`` values were seen at each differing position are the
  siblings merged into one template with wildcards there. Drain generalizes on the first difference,
  which merges constants such as ``startup``/``shutdown`` or ``bytes``/``values``; user and host names,
  which take many values, still become wildcards. A merged template keeps the oldest sibling's id, and
  :meth:`TemplateMiner.resolve` maps the others' ids to it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from loglens.patterns.masking import WILDCARD, covers, mask, mask_many
from loglens.patterns.templates import Match, Template, TemplateInfo

#: The version of :meth:`TemplateMiner.to_state`'s dict.
STATE_VERSION = 1
#: Masked messages remembered for the lookup (the cache is emptied when it fills).
EXACT_CACHE = 65_536


class TemplateMiner:
    """Groups messages into at most ``max_templates`` templates; the least recently seen is evicted.

    Args:
        max_templates: templates kept.
        similarity: a message is a sibling of a template when at least this share of its tokens equal
            the template's (wildcards equal anything); else it makes a template of its own.
        variants: values seen at each position where siblings differ before they are merged.
        on_forget: called with each template evicted to make room (not with those merged).
        on_merge: called with the old and the new id of each template merged into another.

    :meth:`add` and :meth:`add_many` are called from one thread; :meth:`templates` may be called from
    any (it returns copies, under the lock).
    """

    def __init__(
        self,
        max_templates: int = 1000,
        similarity: float = 0.5,
        variants: int = 4,
        on_forget: Callable[[TemplateInfo], None] | None = None,
        on_merge: Callable[[int, int], None] | None = None,
    ) -> None:
        if max_templates < 1 or variants < 2 or not 0 < similarity <= 1:
            raise ValueError("max_templates >= 1, variants >= 2 and 0 < similarity <= 1")
        self.max_templates = max_templates
        self.similarity = similarity
        self.variants = variants
        self.on_forget = on_forget
        self.on_merge = on_merge
        self.merges = 0
        self.seen = 0
        self._next_id = 1
        self._templates: OrderedDict[int, Template] = OrderedDict()  # least recently seen first
        self._leaves: dict[tuple[int, str], list[int]] = {}
        self._exact: dict[str, int] = {}
        # merged id -> id it went to, for the lookup's ids: emptied with the lookup, which bounds it
        self._merged: dict[int, int] = {}
        self._lock = threading.Lock()

    def add(self, message: str) -> Match:
        """Put ``message`` in its template."""
        return self._add_all([message], [mask(message)])[0]

    def add_many(self, messages: Sequence[str]) -> list[Match]:
        """:meth:`add` each of ``messages``, masking them in one batch."""
        return self._add_all(messages, mask_many(messages))

    def resolve(self, template_id: int) -> int:
        """The id that ``template_id`` goes by now (another once its template was merged), for ids
        handed out since the lookup was last emptied; :attr:`on_merge` sees every merge."""
        merged = self._merged
        while template_id in merged:
            template_id = merged[template_id]
        return template_id

    @property
    def distinct(self) -> int:
        """Templates made and not merged into another: those kept and those forgotten."""
        return self._next_id - 1 - self.merges

    def kept(self) -> set[int]:
        """The ids of the templates kept."""
        with self._lock:
            return set(self._templates)

    def templates(self) -> list[TemplateInfo]:
        """The templates kept, most seen first."""
        with self._lock:
            infos = [template.info() for template in self._templates.values()]
        return sorted(infos, key=lambda info: (-info.count, info.id))

    def _add_all(self, messages: Sequence[str], masked: list[str]) -> list[Match]:
        """Place each message; one seen before in the same masked form is found with a lookup (this
        loop is most of the miner's time after masking, so it keeps to locals)."""
        matches: list[Match] = []
        append = matches.append
        exact, templates, merged = self._exact, self._templates, self._merged
        with self._lock:
            for message, key in zip(messages, masked, strict=True):
                self.seen += 1
                template_id = exact.get(key)
                if template_id is not None and template_id in merged:
                    template_id = self.resolve(template_id)
                template = None if template_id is None else templates.get(template_id)
                if template is None:
                    template, new = self._place(message, key.split())
                    if len(exact) >= EXACT_CACHE:
                        exact.clear()
                        merged.clear()  # no id in the lookup refers to them now
                    exact[key] = template.id
                    if new:
                        append(Match(template.id, template.text, True))
                        continue
                template.count += 1
                template.last_seen = self.seen
                templates.move_to_end(template.id)
                append(Match(template.id, template.text, False))
        return matches

    def _place(self, message: str, tokens: list[str]) -> tuple[Template, bool]:
        """The template ``tokens`` belong to, made or generalized when needed; whether it is new.

        A leaf lists its templates oldest first, so that of two as close the oldest is taken, and a
        restored miner places messages as the miner it was saved from.
        """
        leaf = self._leaves.get(_leaf_key(tokens), [])
        best: Template | None = None
        best_diff: list[int] = []
        for template_id in leaf:
            candidate = self._templates[template_id]
            pairs = enumerate(zip(candidate.tokens, tokens, strict=True))
            diff = [i for i, (a, b) in pairs if a != b and not covers(a, b)]
            if best is None or len(diff) < len(best_diff):
                best, best_diff = candidate, diff
                if not diff:
                    return best, False
        if best is not None and len(tokens) - len(best_diff) >= self.similarity * len(tokens):
            merged = self._merge_siblings(leaf, best, best_diff, tokens)
            if merged is not None:
                return merged, False
        return self._make(message, tokens), True

    def _merge_siblings(
        self, leaf: list[int], best: Template, diff: list[int], tokens: list[str]
    ) -> Template | None:
        """Generalize ``best`` at ``diff`` and merge into it its siblings there, or return None.

        Where the message's tokens at ``diff`` cover ``best``'s (a masked ``rhost=<*>`` where the template
        has ``rhost=example.org``), the position is variable and they become the template's tokens at
        once. Else the tokens there become wildcards once ``variants`` values were seen at each of them:
        those of the templates equal to ``best`` elsewhere (its siblings) and the message's.
        """
        same = [i for i in range(len(tokens)) if i not in diff]
        masked = all(covers(tokens[i], best.tokens[i]) for i in diff)
        general = {i: tokens[i] if masked else _keyed(tokens[i], best.tokens[i]) for i in diff}
        family = [
            member
            for member in (self._templates[template_id] for template_id in leaf)
            if all(member.tokens[i] == best.tokens[i] for i in same)
            and all(covers(general[i], member.tokens[i]) for i in diff)
        ]
        if not masked:
            for i in diff:
                if len({tokens[i], *(member.tokens[i] for member in family)}) < self.variants:
                    return None
        keep = min(family, key=lambda member: member.id)
        keep.generalize(general)
        for member in family:
            if member is not keep:
                keep.count += member.count
                keep.first_seen = min(keep.first_seen, member.first_seen)
                keep.last_seen = max(keep.last_seen, member.last_seen)
                self._drop(member)
                self._merged[member.id] = keep.id
                self.merges += 1
                if self.on_merge is not None:
                    self.on_merge(member.id, keep.id)
        return keep

    def _make(self, message: str, tokens: list[str]) -> Template:
        if len(self._templates) >= self.max_templates:
            oldest = next(iter(self._templates.values()))
            self._drop(oldest)
            if self.on_forget is not None:
                self.on_forget(oldest.info())
        template = Template(self._next_id, tokens, 1, self.seen, self.seen, message)
        self._next_id += 1
        self._templates[template.id] = template
        self._leaves.setdefault(_leaf_key(tokens), []).append(template.id)
        return template

    def _drop(self, template: Template) -> None:
        del self._templates[template.id]
        key = _leaf_key(template.tokens)
        leaf = self._leaves[key]
        leaf.remove(template.id)
        if not leaf:
            del self._leaves[key]

    def to_state(self) -> dict[str, Any]:
        """The miner as a JSON-ready dict (templates least recently seen first)."""
        with self._lock:
            rows = [[t.id, t.text, t.count, t.first_seen, t.last_seen, t.example]
                    for t in self._templates.values()]  # fmt: skip
            return {"version": STATE_VERSION, "seen": self.seen, "next_id": self._next_id,
                    "merges": self.merges, "templates": rows}  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, Any], max_templates: int = 1000) -> TemplateMiner:
        """A miner with the templates of :meth:`to_state`'s dict."""
        miner = cls(max_templates)
        miner.restore(state)
        return miner

    def restore(self, state: dict[str, Any]) -> None:
        """Take the templates and counters of :meth:`to_state`'s dict (of another version: none)."""
        with self._lock:
            self._templates.clear()
            self._leaves.clear()
            self._exact.clear()
            self._merged.clear()
            self.merges = 0
            if state.get("version") != STATE_VERSION:
                return
            self.seen = int(state["seen"])
            self._next_id = int(state["next_id"])
            # the lookup starts empty, so no merged id is looked up again (older states listed them)
            self.merges = int(state.get("merges", len(state.get("merged", []))))
            for template_id, text, count, first, last, example in state["templates"][-self.max_templates :]:
                template = Template(
                    int(template_id), text.split(), int(count), int(first), int(last), example
                )
                self._templates[template.id] = template
            for template in sorted(self._templates.values(), key=lambda template: template.id):
                self._leaves.setdefault(_leaf_key(template.tokens), []).append(template.id)


def _leaf_key(tokens: list[str]) -> tuple[int, str]:
    """Templates of one length and first token share a leaf."""
    return len(tokens), tokens[0] if tokens else ""


def _keyed(token: str, other: str) -> str:
    """The wildcard of two words, keeping the key they share: ``user=<*>`` of ``user=root`` and
    ``user=git``."""
    key, sep, _ = token.partition("=")
    return f"{key}={WILDCARD}" if sep and other.startswith(key + "=") else WILDCARD
