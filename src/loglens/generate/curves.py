"""Traffic curves over the day and the week: what ``--profile`` multiplies the base rate by.

A curve is periodic and piecewise constant (one value per minute; ``flat`` has a single value), with mean
exactly 1, so ``--rate`` is the mean over each whole day (``diurnal``) or week (``weekly``), and the rate
profile still integrates it exactly (see :class:`loglens.generate.profile.RateProfile`). Curves are
placed by the lines' event time in UTC: a run that starts at 16:00 starts at the afternoon peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86400.0
WEEK = 7 * DAY
#: Seconds per step of a curve.
STEP = 60.0
#: A Monday 00:00 UTC (1970-01-05), where weekly curves start; also a midnight, where daily ones start.
_MONDAY = 4 * DAY


@dataclass(frozen=True)
class Curve:
    """Rate multiplier ``values[k]`` over ``[k*step, (k+1)*step)`` of each period, from ``_MONDAY`` on."""

    step: float
    values: np.ndarray

    @property
    def period(self) -> float:
        """Length of the period (seconds)."""
        return self.step * len(self.values)

    def phase(self, origin: float) -> float:
        """Where in the period the epoch time ``origin`` falls (seconds since the period's start)."""
        return (origin - _MONDAY) % self.period


def diurnal_shape(hours: np.ndarray) -> np.ndarray:
    """The day's traffic at each hour of day (UTC): low at night, high from noon to evening, mean 1.

    A sum of two cosines, chosen because it is smooth (no edge at any hour), has an exact mean of 1 over
    the day, and takes two numbers to tune: the daily one (amplitude 0.6) is lowest at 04:00 and highest
    at 16:00; the half-daily one (0.15) is lowest at 04:00 and 16:00, which deepens the night and
    flattens the top into a plateau from about 12:00 to 20:00. The result runs from 0.25 at 04:00 to
    1.45 at 16:00, with 1.15 at 10:00 and 22:00.
    """
    daily = 0.6 * np.cos(2 * np.pi * (hours - 16.0) / 24.0)
    half_daily = 0.15 * np.cos(2 * np.pi * (hours - 10.0) / 12.0)
    return 1.0 + daily + half_daily


#: Weekend days (Saturday and Sunday, UTC) carry this share of a weekday's traffic, all day long.
WEEKEND = 0.7


def _curve(values: np.ndarray) -> Curve:
    return Curve(STEP, values / values.mean())


def _diurnal() -> Curve:
    hours = (np.arange(DAY / STEP) + 0.5) * STEP / 3600.0
    return _curve(diurnal_shape(hours))


def _weekly() -> Curve:
    day = _diurnal().values
    days = np.array([1.0] * 5 + [WEEKEND] * 2)  # from Monday
    return _curve(np.concatenate([day * factor for factor in days]))


#: ``--profile`` names. ``flat`` is the steady rate (one step as long as a day).
PROFILES: dict[str, Curve] = {
    "flat": Curve(DAY, np.ones(1)),
    "diurnal": _diurnal(),
    "weekly": _weekly(),
}
