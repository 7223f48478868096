"""Vectorized draws of the fields of a batch of lines, before any incident is applied.

Fields are numpy arrays of indices into the :class:`~loglens.generate.content.Catalog` pools (or of
values: status codes, sizes, durations), one element per line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loglens.generate.content import API, BROWSER, STATIC, Catalog
from loglens.generate.messages import LEVEL_SHARES, MessageBook

STATUS_CODES = np.array([200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 503])
# Status shares per path kind (static, page, api, form, admin), over STATUS_CODES.
_STATUS_SHARES = np.array(
    [
        [0.783, 0, 0, 0, 0.18, 0, 0, 0, 0.033, 0.002, 0.002],
        [0.898, 0, 0, 0.03, 0.02, 0, 0, 0.004, 0.04, 0.005, 0.003],
        [0.845, 0, 0, 0, 0, 0.04, 0.04, 0.01, 0.055, 0.006, 0.004],
        [0.72, 0, 0, 0.13, 0, 0.06, 0.07, 0.017, 0, 0.002, 0.001],
        [0.5, 0, 0, 0, 0, 0, 0.2, 0.28, 0, 0.015, 0.005],
    ]
)
# Method shares per path kind over METHODS (GET, POST, PUT, DELETE, HEAD).
_METHOD_SHARES = np.array(
    [
        [0.997, 0, 0, 0, 0.003],
        [0.976, 0.02, 0, 0, 0.004],
        [0.708, 0.17, 0.07, 0.05, 0.002],
        [0.55, 0.45, 0, 0, 0],
        [0.80, 0.12, 0.05, 0.03, 0],
    ]
)
# Referer category shares (none, external site, internal page) per path kind, for browsers.
_REFERER_SHARES = np.array(
    [
        [0.12, 0, 0.88],
        [0.20, 0.35, 0.45],
        [0.40, 0, 0.60],
        [0.15, 0, 0.85],
        [0.30, 0, 0.70],
    ]
)
_MEDIAN_SECONDS = np.array([0.002, 0.08, 0.035, 0.15, 0.25])
_TIME_FACTOR = np.ones(600)
_TIME_FACTOR[[204, 301, 304, 400, 401, 403, 404, 500, 503]] = [0.3, 0.2, 0.3, 0.4, 0.3, 0.3, 0.5, 3.0, 0.05]


def cdf_rows(shares: np.ndarray) -> np.ndarray:
    """Return row-wise cumulative shares, normalized so that each row ends at exactly 1."""
    cdf = np.cumsum(shares / shares.sum(axis=-1, keepdims=True), axis=-1)
    cdf[..., -1] = 1.0
    return cdf


def draw_rows(rng: np.random.Generator, cdf: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one column index per element of ``rows`` from that row of ``cdf``."""
    u = rng.random(len(rows))
    return (u[:, None] >= cdf[rows]).sum(axis=1)


def draw(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` indices from one cumulative distribution."""
    return np.searchsorted(cdf, rng.random(n), side="right")


@dataclass
class AccessFields:
    """Fields of a batch of access lines (``user`` -1: none; ``size`` -1: written ``-``)."""

    client: np.ndarray
    user: np.ndarray
    method: np.ndarray
    path: np.ndarray
    protocol: np.ndarray
    status: np.ndarray
    size: np.ndarray
    referer: np.ndarray
    agent: np.ndarray
    duration: np.ndarray


@dataclass
class AppFields:
    """Fields of a batch of application lines: level, service, message template and its number."""

    level: np.ndarray
    service: np.ndarray
    template: np.ndarray
    number: np.ndarray


class AccessSampler:
    """Draws access-log fields from a catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._client_cdf = cdf_rows(catalog.client_weight)
        self._path_cdf = cdf_rows(catalog.path_weight)
        self._status_cdf = cdf_rows(_STATUS_SHARES)
        self._method_cdf = cdf_rows(_METHOD_SHARES)
        self._referer_cdf = cdf_rows(_REFERER_SHARES)
        self._external_cdf = cdf_rows(catalog.external_weight)

    def draw(self, rng: np.random.Generator, n: int) -> AccessFields:
        """Draw ``n`` lines of ordinary traffic."""
        cat = self.catalog
        client = draw(rng, self._client_cdf, n)
        client_kind = cat.client_kind[client]
        path = np.empty(n, dtype=np.int64)
        for kind in range(len(self._path_cdf)):
            mask = client_kind == kind
            path[mask] = draw(rng, self._path_cdf[kind], int(mask.sum()))
        path_kind = cat.path_kind[path]
        method = draw_rows(rng, self._method_cdf, path_kind)
        method[(client_kind != BROWSER) & (method != 4)] = 0  # crawlers and scripts mostly GET
        status = self.fix_status(rng, STATUS_CODES[draw_rows(rng, self._status_cdf, path_kind)], method)
        category = draw_rows(rng, self._referer_cdf, path_kind)
        category[client_kind != BROWSER] = 0
        external = 1 + draw(rng, self._external_cdf, n)
        internal = 1 + len(self._external_cdf) + rng.integers(0, cat.internal_referers, n)
        referer = np.select([category == 1, category == 2], [external, internal], 0)
        return AccessFields(
            client=client,
            user=np.where(cat.path_authed[path], cat.client_user[client], -1),
            method=method,
            path=path,
            protocol=cat.client_proto[client],
            status=status,
            size=self.sizes(rng, path, status, method),
            referer=referer,
            agent=cat.client_agent[client],
            duration=self.durations(rng, path_kind, status),
        )

    @staticmethod
    def fix_status(rng: np.random.Generator, status: np.ndarray, method: np.ndarray) -> np.ndarray:
        """Make statuses agree with methods: 201 for some POSTs, 204 for DELETEs, 304 only for GET."""
        ok = status == 200
        status[(method == 1) & ok & (rng.random(len(status)) < 0.5)] = 201
        status[(method == 3) & ok] = 204
        status[(method != 0) & (status == 304)] = 200
        return status

    def sizes(
        self, rng: np.random.Generator, path: np.ndarray, status: np.ndarray, method: np.ndarray
    ) -> np.ndarray:
        """Response bytes: fixed per static file, varying for pages and API calls, small for errors."""
        n = len(path)
        kind = self.catalog.path_kind[path]
        base = self.catalog.path_size[path].astype(np.float64)
        noisy = base * (1.0 + rng.normal(0.0, 0.04, n))
        api = np.exp(rng.normal(np.log(1500.0), 1.0, n)).clip(40, 400_000)
        size = np.where(kind == STATIC, base, np.where(kind == API, api, noisy))
        small = rng.integers(150, 700, n)
        size = np.where(status >= 400, small, size)
        size = np.where(status == 301, small // 3 + 100, size)
        size = np.where(method == 4, 0, size)
        return np.where((status == 304) | (status == 204), -1, size).astype(np.int64)

    @staticmethod
    def durations(rng: np.random.Generator, path_kind: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Request times in seconds: log-normal around a median per path kind and status."""
        median = _MEDIAN_SECONDS[path_kind] * _TIME_FACTOR[status]
        return median * np.exp(rng.normal(0.0, 0.8, len(status)))


class AppSampler:
    """Draws application-log fields from a message book."""

    def __init__(self, book: MessageBook) -> None:
        self.book = book
        self._service_cdf = cdf_rows(book.service_weight)
        self._level_cdf = cdf_rows(np.array(LEVEL_SHARES))

    def draw(self, rng: np.random.Generator, n: int) -> AppFields:
        """Draw ``n`` lines of ordinary application logging."""
        service = draw(rng, self._service_cdf, n)
        level = draw(rng, self._level_cdf, n)
        pick = rng.integers(0, self.book.by_level.shape[2], n)
        template = self.book.by_level[service, level, pick]
        return AppFields(level=level, service=service, template=template, number=self.numbers(rng, template))

    def numbers(self, rng: np.random.Generator, template: np.ndarray) -> np.ndarray:
        """Draw each template's number within its range."""
        low, high = self.book.low[template], self.book.high[template]
        return low + (rng.random(len(template)) * (high - low)).astype(np.int64)
