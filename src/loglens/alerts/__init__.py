"""Alerts in every mode: ``loglens run``, ``watch`` and ``demo``.

:mod:`~loglens.alerts.config` reads the ``alerts:`` and ``notify:`` settings, :mod:`~loglens.alerts.rules`
says what each rule measures (over :mod:`~loglens.alerts.series`), :mod:`~loglens.alerts.engine`
evaluates them every second into pending, firing and resolved alerts, and the notifiers
(:mod:`~loglens.alerts.notifiers`) deliver the events, each from its own queue.
"""
