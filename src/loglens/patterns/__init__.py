"""Log templates: messages grouped by shape, with their variable parts masked (``loglens patterns``)."""

from loglens.patterns.masking import WILDCARD, mask, mask_many
from loglens.patterns.miner import TemplateMiner
from loglens.patterns.templates import Match, TemplateInfo

__all__ = ["WILDCARD", "Match", "TemplateInfo", "TemplateMiner", "mask", "mask_many"]
