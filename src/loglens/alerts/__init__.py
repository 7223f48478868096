"""Alerts shared by ``loglens watch`` and ``loglens run``.

:mod:`~loglens.alerts.rules` says what is alarming (one class per rule), :mod:`~loglens.alerts.engine`
evaluates the rules every second and keeps incidents, :mod:`~loglens.alerts.notify` delivers events.
"""
