"""The generator: settings, deterministic chunks of lines, and the run loop that paces them out.

Line ``i`` is fully determined by the seed, the settings and ``i``: lines are made in chunks of
``CHUNK`` lines, chunk ``c`` drawing from its own random stream ``(seed, c)``. Pacing only decides when
lines are written, never what they are, so a paced run and a fast one with the same ``--start`` write
the same bytes, and ``--count 10`` writes the first ten lines of ``--count 1000``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from loglens.clock import Clock
from loglens.generate.content import build_catalog
from loglens.generate.curves import PROFILES
from loglens.generate.formats import AccessRenderer, AppRenderer, iso_time
from loglens.generate.incidents import Incidents
from loglens.generate.messages import build_messages
from loglens.generate.outputs import Output
from loglens.generate.pacing import run_paced, run_unpaced
from loglens.generate.profile import RateProfile
from loglens.generate.sampling import AccessSampler, AppSampler
from loglens.generate.scenarios import Scenario

#: Lines per deterministic chunk.
CHUNK = 8192


@dataclass(frozen=True)
class Settings:
    """What to generate.

    Attributes:
        fmt: ``common``, ``combined``, ``iso``, ``json`` or ``level``.
        app: application records (``level``, or ``json`` with ``--kind app``) instead of access records.
        level_style: shape of ``level`` lines (see ``formats.LEVEL_STYLES``).
        durations: add request durations (``combined`` and access ``json``).
        rate: base lines per (event-time) second; with a profile, the mean over its day or week.
        profile: the traffic curve over the day (``curves.PROFILES``: flat, diurnal, weekly).
        count: stop after this many lines. duration: stop at this event-time offset (seconds).
        start: epoch seconds of the first line; None means now.
        speed: event seconds per wall second; None means real time without ``start``, and as fast as
            possible with it.
        seed: random seed.
        scenarios: incidents to stage.
    """

    fmt: str = "combined"
    app: bool = False
    level_style: str = "iso"
    durations: bool = False
    rate: float = 10.0
    profile: str = "flat"
    count: int | None = None
    duration: float | None = None
    start: float | None = None
    speed: float | None = None
    seed: int = 0
    scenarios: tuple[Scenario, ...] = ()

    @property
    def paced(self) -> bool:
        """Whether lines are written in (scaled) real time rather than as fast as possible."""
        return self.speed is not None or self.start is None


class Generator:
    """Makes the lines of one run and writes them out."""

    def __init__(self, settings: Settings, origin: float) -> None:
        """Plan the run; ``origin`` is the epoch time of line 0 (``settings.start`` or now)."""
        self.settings = settings
        self.origin = origin
        self._origin_ms = round(origin * 1000)
        curve = PROFILES[settings.profile]
        self.profile = RateProfile(
            settings.rate,
            [(s.start, s.end, *s.rate_effect()) for s in settings.scenarios],
            curve,
            curve.phase(origin),
        )
        self._access: tuple[AccessSampler, AccessRenderer] | None = None
        self._app: tuple[AppSampler, AppRenderer] | None = None
        if settings.app:
            book = build_messages(settings.seed)
            self.incidents = Incidents(settings.scenarios, self.profile, settings.seed, book=book)
            self._app = AppSampler(book), AppRenderer(book, settings.fmt, settings.level_style)
        else:
            catalog = build_catalog(settings.seed)
            self.incidents = Incidents(settings.scenarios, self.profile, settings.seed, catalog=catalog)
            self._access = AccessSampler(catalog), AccessRenderer(catalog, settings.fmt, settings.durations)
        self._chunk: tuple[int, list[str]] = (-1, [])

    @property
    def total(self) -> int | None:
        """Number of lines the run writes, or None when it runs until stopped."""
        limits = [self.settings.count] if self.settings.count is not None else []
        if self.settings.duration is not None:
            limits.append(self.profile.before(self.settings.duration))
        return min(limits) if limits else None

    def timeline(self) -> dict[str, object]:
        """Describe the run and the window of each scenario (for stderr or ``--timeline``)."""
        s = self.settings
        return {
            "origin": iso_time(self.origin),
            "format": s.fmt,
            "rate": s.rate,
            "profile": s.profile,
            "seed": s.seed,
            "lines": self.total,
            "end": None if s.duration is None else iso_time(self.origin + s.duration),
            "scenarios": self.incidents.timeline(self.origin),
        }

    def chunk(self, c: int) -> list[str]:
        """Return the lines of chunk ``c`` (line indices ``c*CHUNK`` .. ``(c+1)*CHUNK - 1``)."""
        if self._chunk[0] == c:
            return self._chunk[1]
        rng = np.random.default_rng([self.settings.seed, 1, c])
        first = c * CHUNK
        offsets = self.profile.offsets(np.arange(first, first + CHUNK, dtype=np.float64))
        times_ms = self._origin_ms + np.floor(offsets * 1000 + 1e-4).astype(np.int64)
        if self._access is not None:
            sampler, renderer = self._access
            fields = sampler.draw(rng, CHUNK)
            self.incidents.apply_access(fields, first, rng, sampler)
            lines = renderer.render(fields, times_ms)
        else:
            assert self._app is not None
            app_sampler, app_renderer = self._app
            app_fields = app_sampler.draw(rng, CHUNK)
            self.incidents.apply_app(app_fields, first, rng, app_sampler)
            lines = app_renderer.render(app_fields, times_ms)
        self._chunk = (c, lines)
        return lines

    def lines(self, first: int, end: int) -> list[str]:
        """Return lines ``first .. end-1``."""
        out: list[str] = []
        for c in range(first // CHUNK, math.ceil(end / CHUNK)):
            base = c * CHUNK
            out += self.chunk(c)[max(first - base, 0) : end - base]
        return out

    def run(self, output: Output, clock: Clock, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Write the run's lines to ``output``, paced by ``clock`` when the settings ask for it.

        Returns:
            The number of lines written.
        """

        def emit(first: int, end: int) -> None:
            output.write(first, self.lines(first, end))

        if self.settings.paced:
            speed = self.settings.speed or 1.0
            return run_paced(self.profile, self.total, speed, clock, emit, output.flush, should_stop)
        return run_unpaced(self.total, emit, output.flush, should_stop)
