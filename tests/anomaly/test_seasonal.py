"""The seasonal detector with stepped seconds: warm-up over the first day, a daily peak is no anomaly,
a spike at a time of day that is usually quiet is."""

from __future__ import annotations

from anomaly.anomaly_helpers import DAY, DAY0, detectors, diurnal, poisson, step
from loglens.anomaly.config import AnomalyConfig
from loglens.anomaly.history import SLOT_SECONDS
from loglens.anomaly.series import Tracked

NOON = 12 * 3600


def peak(second: int) -> float:
    """10 lines/s, and 40 from 12:00 to 12:30 every day."""
    return 40.0 if NOON <= second % DAY < NOON + 1800 else 10.0


def test_a_daily_peak_is_an_anomaly_to_zscore_only_and_only_from_the_second_day() -> None:
    found = detectors()
    step(found, DAY0, DAY0 + NOON + 60, poisson(peak))
    assert ("seasonal", "hits") not in found.scores  # no earlier day yet
    assert [(a.detector, a.at - DAY0 - NOON <= 2) for a in found.anomalies()] == [("zscore", True)]
    step(found, DAY0 + NOON + 60, DAY0 + 2 * DAY, poisson(peak, 1))
    assert ("seasonal", "hits") in found.scores
    assert found.totals == {"zscore": 2, "seasonal": 0, "new_pattern": 0, "pattern_rate": 0}


def test_diurnal_traffic_raises_no_anomaly_and_a_spike_at_night_does() -> None:
    found = detectors()
    step(found, DAY0, DAY0 + DAY, poisson(diurnal(20)), poisson(diurnal(0.2), 1))
    night = DAY0 + DAY + 4 * 3600
    step(found, DAY0 + DAY, night, poisson(diurnal(20), 2), poisson(diurnal(0.2), 3))
    assert found.anomalies() == []
    step(found, night, night + 5, poisson(lambda s: 60, 4))
    assert {(a.detector, a.series) for a in found.anomalies()} == {("zscore", "hits"), ("seasonal", "hits")}
    seasonal = next(a for a in found.anomalies() if a.detector == "seasonal")
    assert seasonal.at - night <= 2 and 15 < seasonal.baseline < 40  # 0.25 of 20/s over 5 s at 04:00


def test_weeks_take_over_from_days_once_three_are_kept() -> None:
    """Weekdays at 100 a slot, weekends at 30: a Saturday is compared with the week before it until
    three Saturdays are kept, then with them."""
    tracked = Tracked(AnomalyConfig(history_days=28))
    for slot in range(DAY0 // SLOT_SECONDS, (DAY0 + 26 * DAY) // SLOT_SECONDS):
        start = slot * SLOT_SECONDS
        tracked.slots.fill(start, start + SLOT_SECONDS - 2, seen=True)
        tracked.slots.add(start + SLOT_SECONDS - 1, 30 if (start - DAY0) // DAY % 7 >= 5 else 100)
        if start == DAY0 + 19 * DAY + NOON:  # the third Saturday: two earlier ones
            assert [round(b.rate * SLOT_SECONDS) for b in tracked.seasonal(start + 60)] == [100] * 3
    saturday = DAY0 + 26 * DAY
    tracked.slots.add(saturday, 0)
    rates = [round(b.rate * SLOT_SECONDS) for b in tracked.seasonal(saturday + 60)]
    assert rates == [100, 30, 30]  # Friday's last slot, then Saturday's, each from three weeks
