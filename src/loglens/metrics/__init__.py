"""User metrics: the ``metrics:`` section's counters, gauges and histograms, counted from any line.

:mod:`.config` validates the rules, :mod:`.compile` turns each into polars expressions evaluated once
per batch, :mod:`.state` holds the series (bounded, expiring, checkpointed), :mod:`.exposition`
exposes them and :mod:`.command` is ``loglens metrics test``.
"""
