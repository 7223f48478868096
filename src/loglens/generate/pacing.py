"""Rate control: when to emit which lines, using an injected clock.

Paced output never trusts sleep accuracy: every time it wakes it asks the clock how far the run has
got and emits every line due by then (``RateProfile.due``), in small slices, so the rate stays exact
on average and smooth within a second however late the sleeps return.
"""

from __future__ import annotations

from collections.abc import Callable

from loglens.clock import Clock
from loglens.generate.profile import RateProfile

#: Shortest sleep between two slices (seconds): at high rates, lines go out in ~100 slices a second.
SLICE = 0.01
#: Longest sleep, so that a stop request is noticed quickly even at very low rates.
MAX_WAIT = 0.25
#: Outputs are flushed at least this often (seconds) while lines flow.
FLUSH_EVERY = 0.1
#: Lines per step when not paced.
STEP = 8192

Emit = Callable[[int, int], None]


def run_paced(
    profile: RateProfile,
    total: int | None,
    speed: float,
    clock: Clock,
    emit: Emit,
    flush: Callable[[], None],
    should_stop: Callable[[], bool],
) -> int:
    """Emit lines ``0 .. total-1`` as their event offsets come due, ``speed`` times faster than real time.

    Args:
        profile: line rate over event-time offsets.
        total: number of lines, or None for no end.
        speed: event seconds per wall second.
        clock: time source; its ``sleep`` may return late (or, frozen, just advance).
        emit: called with ``(first, end)`` to write lines ``first .. end-1``.
        flush: makes written lines visible to readers.
        should_stop: polled between slices; True ends the run early.

    Returns:
        The number of lines emitted.
    """
    wall0 = clock.now()
    done = 0
    last_flush = wall0
    while (total is None or done < total) and not should_stop():
        due = profile.due((clock.now() - wall0) * speed)
        if total is not None:
            due = min(due, total)
        behind = due > done
        if behind:
            emit(done, due)
            done = due
        if total is not None and done >= total:
            break
        now = clock.now()
        gap = (profile.offset(done) - (now - wall0) * speed) / speed
        if now - last_flush >= FLUSH_EVERY or gap >= FLUSH_EVERY:
            flush()
            last_flush = now
        if gap > 0 or not behind:  # when behind, catch up at once
            clock.sleep(min(max(gap, SLICE), MAX_WAIT))
    flush()
    return done


def run_unpaced(
    total: int | None, emit: Emit, flush: Callable[[], None], should_stop: Callable[[], bool]
) -> int:
    """Emit lines ``0 .. total-1`` (or without end) as fast as possible, in steps of ``STEP`` lines."""
    done = 0
    while (total is None or done < total) and not should_stop():
        end = done + STEP if total is None else min(done + STEP, total)
        emit(done, end)
        done = end
    flush()
    return done
