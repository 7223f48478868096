"""What scenarios do to the lines, and the timeline that tells tests and people what to expect.

Each scenario covers the lines whose event time falls in its window. ``error-burst`` and ``scan`` add
lines on top of ordinary traffic (the rate profile makes room for them); the exact line indices they
take are chosen up front from the seed, so every chunk knows which of its lines belong to them no
matter how the output is paced. ``outage`` and ``slow`` change the lines inside their window; ``spike``
only changes the rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loglens.errors import ConfigError
from loglens.generate.content import Catalog, ipv4
from loglens.generate.formats import iso_time
from loglens.generate.messages import ERROR, WARNING, MessageBook
from loglens.generate.profile import RateProfile
from loglens.generate.sampling import AccessFields, AccessSampler, AppFields, AppSampler, cdf_rows, draw
from loglens.generate.scenarios import Scenario
from loglens.generate.vocabulary import PROBE_PATHS

_OUTAGE_CODES = np.array([503, 500, 502, 504])
_OUTAGE_CDF = cdf_rows(np.array([0.6, 0.2, 0.1, 0.1]))
_BURST_CODES = np.array([500, 503])
_BURST_CDF = cdf_rows(np.array([0.7, 0.3]))
_SCAN_CODES = np.array([404, 403, 400])
_SCAN_CDF = cdf_rows(np.array([0.93, 0.04, 0.03]))


@dataclass
class Plan:
    """A scenario made concrete: its line window, the lines it adds, and the values chosen for it."""

    scenario: Scenario
    window: tuple[int, int]
    positions: np.ndarray
    params: dict[str, float | int | str]
    client: int = -1
    agent: int = -1
    service: int = -1
    templates: tuple[int, ...] = ()


def pick_positions(
    rng: np.random.Generator, window: tuple[int, int], k: int, taken: list[np.ndarray]
) -> np.ndarray:
    """Choose ``k`` distinct line indices in ``window`` not already taken by an earlier scenario."""
    a, b = window
    busy = np.concatenate([t[(t >= a) & (t < b)] for t in taken]) if taken else np.zeros(0, dtype=np.int64)
    size = min(b - a, k + len(busy))
    candidates = a + rng.choice(b - a, size, replace=False).astype(np.int64)
    return np.sort(candidates[~np.isin(candidates, busy)][:k])


class Incidents:
    """Applies the scenarios to batches of drawn fields."""

    def __init__(
        self,
        scenarios: tuple[Scenario, ...],
        profile: RateProfile,
        seed: int,
        catalog: Catalog | None = None,
        book: MessageBook | None = None,
    ) -> None:
        """Plan every scenario; scanners join ``catalog`` and scan messages join ``book``."""
        rng = np.random.default_rng([seed, 2])
        self.plans: list[Plan] = []
        taken: list[np.ndarray] = []
        for scenario in scenarios:
            window = profile.window(scenario.start, scenario.end)
            positions = pick_positions(rng, window, scenario.extra_lines(), taken)
            taken.append(positions)
            plan = Plan(scenario, window, positions, dict(scenario.params))
            if scenario.name == "scan":
                self._plan_scan(plan, rng, catalog, book)
            if scenario.name == "error-burst" and book is not None:
                plan.service = self._service(plan, rng, book)
            elif scenario.name == "error-burst":
                del plan.params["service"]
            self.plans.append(plan)

    @staticmethod
    def _plan_scan(
        plan: Plan, rng: np.random.Generator, catalog: Catalog | None, book: MessageBook | None
    ) -> None:
        address = str(plan.params["client"]) or ipv4(rng)
        plan.params["client"] = address
        if catalog is not None:
            plan.agent = catalog.scanner_agents[int(rng.integers(len(catalog.scanner_agents)))]
            plan.client = catalog.add_client(address, plan.agent)
        if book is not None:
            plan.service = book.services.index("GatewayService")
            plan.templates = tuple(
                book.add(f"Rejected request from {address}: GET {path} (404 not found)")
                for path in PROBE_PATHS
            )

    @staticmethod
    def _service(plan: Plan, rng: np.random.Generator, book: MessageBook) -> int:
        name = str(plan.params["service"])
        if not name:
            service = int(draw(rng, cdf_rows(book.service_weight), 1)[0])
            plan.params["service"] = book.services[service]
            return service
        if name not in book.services:
            raise ConfigError(
                f"scenario error-burst: unknown service {name!r} (known: {', '.join(book.services)})"
            )
        return book.services.index(name)

    @staticmethod
    def _local(plan: Plan, first: int, n: int) -> tuple[slice, np.ndarray]:
        """Return the batch's slice inside the window and the batch positions of the added lines."""
        a, b = plan.window
        inside = slice(min(max(a - first, 0), n), min(max(b - first, 0), n))
        lo, hi = np.searchsorted(plan.positions, [first, first + n])
        return inside, plan.positions[lo:hi] - first

    def apply_access(
        self, f: AccessFields, first: int, rng: np.random.Generator, sampler: AccessSampler
    ) -> None:
        """Apply every scenario to access fields of the lines ``first .. first+len-1``, in place."""
        n = len(f.status)
        for plan in self.plans:
            inside, added = self._local(plan, first, n)
            name = plan.scenario.name
            if name == "outage" and inside.stop > inside.start:
                hit = np.arange(inside.start, inside.stop)
                hit = hit[rng.random(len(hit)) < float(plan.params["ratio"])]
                self._fail(f, hit, _OUTAGE_CODES[draw(rng, _OUTAGE_CDF, len(hit))], rng, sampler)
                timeouts = hit[f.status[hit] == 504]
                f.duration[timeouts] = rng.uniform(30.0, 60.0, len(timeouts))
            elif name == "slow":
                f.duration[inside] *= float(plan.params["factor"])
            elif name == "error-burst" and len(added):
                self._fail(f, added, _BURST_CODES[draw(rng, _BURST_CDF, len(added))], rng, sampler)
            elif name == "scan" and len(added):
                f.client[added], f.agent[added], f.user[added] = plan.client, plan.agent, -1
                f.method[added] = np.where(rng.random(len(added)) < 0.1, 4, 0)
                f.path[added] = sampler.catalog.probe_paths[0] + rng.integers(0, len(PROBE_PATHS), len(added))
                f.protocol[added], f.referer[added] = 0, 0
                self._fail(f, added, _SCAN_CODES[draw(rng, _SCAN_CDF, len(added))], rng, sampler)

    @staticmethod
    def _fail(
        f: AccessFields, rows: np.ndarray, codes: np.ndarray, rng: np.random.Generator, sampler: AccessSampler
    ) -> None:
        f.status[rows] = codes
        f.size[rows] = sampler.sizes(rng, f.path[rows], codes, f.method[rows])
        f.duration[rows] = sampler.durations(rng, sampler.catalog.path_kind[f.path[rows]], codes)

    def apply_app(self, f: AppFields, first: int, rng: np.random.Generator, sampler: AppSampler) -> None:
        """Apply every scenario to application fields of the lines ``first .. first+len-1``, in place."""
        book = sampler.book
        n = len(f.level)
        for plan in self.plans:
            inside, added = self._local(plan, first, n)
            name = plan.scenario.name
            hit = np.arange(inside.start, inside.stop)
            if name == "outage":
                hit = hit[rng.random(len(hit)) < float(plan.params["ratio"])]
                f.level[hit], f.template[hit] = ERROR, book.outage[f.service[hit]]
            elif name == "slow":
                hit = hit[rng.random(len(hit)) < 0.5]
                f.level[hit], f.template[hit] = WARNING, book.slow[f.service[hit]]
            elif name == "error-burst":
                hit = added
                pick = rng.integers(0, book.by_level.shape[2], len(hit))
                f.level[hit], f.service[hit], f.template[hit] = (
                    ERROR,
                    plan.service,
                    book.by_level[plan.service, ERROR, pick],
                )
            elif name == "scan":
                hit = added
                f.level[hit], f.service[hit] = WARNING, plan.service
                f.template[hit] = np.array(plan.templates)[rng.integers(0, len(plan.templates), len(hit))]
            else:
                continue
            f.number[hit] = sampler.numbers(rng, f.template[hit])
            if name == "slow":
                f.number[hit] = (f.number[hit] * float(plan.params["factor"])).astype(np.int64)

    def timeline(self, origin: float) -> list[dict[str, object]]:
        """Return one entry per scenario: name, window (ISO times and offsets), parameters, added lines."""
        return [
            {
                "name": plan.scenario.name,
                "start": iso_time(origin + plan.scenario.start),
                "end": iso_time(origin + plan.scenario.end),
                "start_offset": plan.scenario.start,
                "end_offset": plan.scenario.end,
                "params": plan.params,
                "added_lines": len(plan.positions),
            }
            for plan in self.plans
        ]
