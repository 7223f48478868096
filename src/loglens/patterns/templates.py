"""A template and what the miner reports of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(slots=True)
class Template:
    """A mined template: its tokens (masked parts and generalized words are :data:`WILDCARD`).

    ``first_seen`` and ``last_seen`` are the miner's message counters (1 for the first message it read).
    """

    id: int
    tokens: list[str]
    count: int
    first_seen: int
    last_seen: int
    example: str
    text: str = ""

    def __post_init__(self) -> None:
        self.text = " ".join(self.tokens)

    def generalize(self, tokens: dict[int, str]) -> None:
        """Put ``tokens`` (position: token) in place of those there."""
        for i, token in tokens.items():
            self.tokens[i] = token
        self.text = " ".join(self.tokens)

    def info(self) -> TemplateInfo:
        """A copy to hand to another thread."""
        return TemplateInfo(self.id, self.text, self.count, self.first_seen, self.last_seen, self.example)


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One line of :meth:`TemplateMiner.templates`."""

    id: int
    template: str
    count: int
    first_seen: int
    last_seen: int
    example: str


class Match(NamedTuple):
    """The template a message was put in; ``new`` when the message made it (a tuple: one is made per
    message, and a frozen dataclass costs several times as much to make)."""

    template_id: int
    template: str
    new: bool
