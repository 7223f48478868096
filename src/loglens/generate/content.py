"""Pools of realistic values the generator draws from: clients, agents, sections, paths, referrers, users.

A :class:`Catalog` is built once from the seed. Every pool is a plain list of strings plus numpy arrays of
per-item attributes (weight, kind, size...), so that a batch of lines is drawn with a few vectorized
index draws instead of per-line Python work. The strings themselves are in
:mod:`loglens.generate.vocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loglens.generate.vocabulary import (
    AUTHED_SECTIONS,
    BOT_AGENTS,
    BROWSER_AGENTS,
    CATEGORIES,
    EXTERNAL_REFERERS,
    FIRST_NAMES,
    LAST_NAMES,
    PROBE_PATHS,
    SCANNER_AGENTS,
    SECTIONS,
    SITE,
    TERMS,
    TOOL_AGENTS,
    WORDS,
)

#: Client kinds: a person with a browser, a crawler, a script or monitoring tool.
BROWSER, BOT, TOOL = 0, 1, 2
#: Share of each client kind, both of the clients and of the lines.
KIND_SHARES = np.array([0.86, 0.07, 0.07])
#: Path kinds, which decide methods, statuses, sizes, referrers and durations.
STATIC, PAGE, API, FORM, ADMIN = 0, 1, 2, 3, 4


@dataclass
class Catalog:
    """Everything a line is drawn from, with per-item attributes as arrays.

    Attributes:
        clients: client addresses; ``client_weight`` is their activity share (heavy-tailed).
        client_kind: BROWSER, BOT or TOOL per client; ``client_agent``/``client_user``/``client_proto``
            index ``agents``/``users`` (-1: none)/``PROTOCOLS``.
        paths: request targets; ``path_kind``, ``path_section`` (index into ``sections``),
            ``path_size`` (typical body bytes) and ``path_weight`` (one row per client kind).
        referers: ``"-"`` first, then external sites, then internal pages.
    """

    clients: list[str]
    client_weight: np.ndarray
    client_kind: np.ndarray
    client_agent: np.ndarray
    client_user: np.ndarray
    client_proto: np.ndarray
    agents: list[str]
    users: list[str]
    sections: list[str]
    paths: list[str]
    path_kind: np.ndarray
    path_section: np.ndarray
    path_size: np.ndarray
    path_authed: np.ndarray
    path_weight: np.ndarray
    referers: list[str]
    external_weight: np.ndarray
    internal_referers: int
    scanner_agents: range
    probe_paths: range

    def add_client(self, address: str, agent: int) -> int:
        """Append a client that ordinary traffic never picks (weight 0); return its index."""
        self.clients.append(address)
        self.client_weight = np.append(self.client_weight, 0.0)
        self.client_kind = np.append(self.client_kind, TOOL)
        self.client_agent = np.append(self.client_agent, agent)
        self.client_user = np.append(self.client_user, -1)
        self.client_proto = np.append(self.client_proto, 0)
        return len(self.clients) - 1


def zipf_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` normalized weights ``1/rank**exponent`` in a random order."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    rng.shuffle(weights)
    return weights / weights.sum()


def ipv4(rng: np.random.Generator, prefix: tuple[int, ...] = ()) -> str:
    """Return a public-looking IPv4 address, optionally within ``prefix`` (leading octets)."""
    while True:
        octets = [*prefix, *rng.integers(1, 255, 4 - len(prefix)).tolist()]
        first, second = octets[0], octets[1]
        private = first in (10, 127) or (first == 172 and 16 <= second < 32) or (first, second) == (192, 168)
        if prefix or (not private and first < 224 and (first, second) != (169, 254)):
            return ".".join(map(str, octets))


def ipv6(rng: np.random.Generator) -> str:
    """Return a global-unicast-looking IPv6 address."""
    head = ["2a02", "2600", "2001", "2a01", "2400", "2804"][int(rng.integers(6))]
    groups = [format(int(g), "x") for g in rng.integers(0, 0x10000, 7)]
    return head + ":" + ":".join(groups)


def _weighted(pool: tuple[tuple[str, float], ...]) -> tuple[list[str], np.ndarray]:
    names = [name for name, _ in pool]
    weights = np.array([w for _, w in pool], dtype=float)
    return names, weights / weights.sum()


def allot(weights: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Give each item a pool so that each pool's total weight comes close to its share of the whole.

    Items go heaviest first to the pool furthest below its target, so a pool ends within about one item
    of its share while weights stay heavy-tailed: the lines a client makes (its weight) follow the
    shares, not just the number of clients. Returns the pool index of each item.
    """
    targets = shares / shares.sum() * weights.sum()
    got = np.zeros(len(shares))
    pools = np.empty(len(weights), dtype=np.int64)
    for i in np.argsort(-weights, kind="stable"):
        k = int(np.argmax(targets - got))
        pools[i] = k
        got[k] += weights[i]
    return pools


def _kind_weights(kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Heavy-tailed client activity, scaled within each kind so that kinds make ``KIND_SHARES`` of lines."""
    activity = zipf_weights(len(kinds), 1.15, rng)
    totals = np.bincount(kinds, weights=activity, minlength=len(KIND_SHARES))
    scale = np.divide(KIND_SHARES, totals, out=np.zeros(len(totals)), where=totals > 0)
    weights = activity * scale[kinds]
    return weights / weights.sum()


def _section_paths(section: str, rng: np.random.Generator) -> list[tuple[str, int, int]]:
    """Return ``(path, kind, typical size)`` rows under ``section``."""
    r = rng.integers
    pick = lambda seq: seq[int(r(len(seq)))]  # noqa: E731 - a one-word helper keeps the table readable
    rows: list[tuple[str, int, int]] = []
    if section == "/static":
        for name in ("app", "vendor", "runtime", "polyfills", *(f"chunk-{i}" for i in range(12))):
            rows.append((f"/static/js/{name}.{int(r(16**8)):08x}.js", STATIC, int(r(8_000, 400_000))))
        for name in ("main", "print", "fonts", "checkout"):
            rows.append((f"/static/css/{name}.{int(r(16**8)):08x}.css", STATIC, int(r(4_000, 90_000))))
        for weight in (400, 500, 600, 700):
            rows.append((f"/static/fonts/inter-{weight}.woff2", STATIC, int(r(20_000, 60_000))))
        for icon in ("logo", "cart", "search", "user", "menu", "close", "star", "heart", "truck", "chevron"):
            rows.append((f"/static/img/icons/{icon}.svg", STATIC, int(r(400, 6_000))))
    elif section == "/images":
        for _ in range(120):
            pid = int(r(1000, 99999))
            rows.append((f"/images/products/{pid}.jpg", STATIC, int(r(20_000, 350_000))))
            rows.append((f"/images/products/{pid}-thumb.webp", STATIC, int(r(3_000, 40_000))))
        for name in ("spring-sale", "new-arrivals", "free-shipping", "hero-1", "hero-2", "holiday"):
            rows.append((f"/images/banners/{name}.jpg", STATIC, int(r(80_000, 500_000))))
    elif section == "/api":
        routes = (
            "/api/v1/products/{id}",
            "/api/v1/products?page={n}&limit=20",
            "/api/v1/cart",
            "/api/v1/cart/items/{id}",
            "/api/v1/orders/{id}",
            "/api/v1/orders?status=open",
            "/api/v1/users/{id}",
            "/api/v1/session",
            "/api/v1/search?q={term}",
            "/api/v2/recommendations?user={id}",
            "/api/v1/inventory/{id}",
            "/api/graphql",
            "/api/v1/events",
            "/api/v1/status",
            "/api/v1/prices?ids={id},{id}",
        )
        for _ in range(300):
            route = pick(routes)
            while "{id}" in route:
                route = route.replace("{id}", str(int(r(1, 250_000))), 1)
            path = route.replace("{n}", str(int(r(1, 40)))).replace("{term}", pick(TERMS))
            rows.append((path, API, 0))
    elif section == "/products":
        for _ in range(250):
            slug = "-".join(pick(WORDS) for _ in range(2))
            rows.append(
                (f"/products/{pick(CATEGORIES)}/{slug}-{int(r(1000, 99999))}", PAGE, int(r(30_000, 90_000)))
            )
        for cat in CATEGORIES:
            rows.append((f"/products?category={cat}&sort=popular", PAGE, int(r(40_000, 120_000))))
            rows.append((f"/products?category={cat}&sort=price&page=2", PAGE, int(r(40_000, 120_000))))
    elif section == "/blog":
        rows.append(("/blog/", PAGE, 35_000))
        for _ in range(60):
            slug = "-".join(pick(WORDS) for _ in range(int(r(3, 6))))
            rows.append(
                (f"/blog/{int(r(2016, 2026))}/{int(r(1, 13)):02d}/{slug}", PAGE, int(r(15_000, 70_000)))
            )
        for tag in ("engineering", "product", "company", "tutorials"):
            rows.append((f"/blog/tag/{tag}", PAGE, int(r(20_000, 40_000))))
    elif section == "/search":
        for term in TERMS:
            rows.append((f"/search?q={term}", PAGE, int(r(30_000, 80_000))))
            rows.append((f"/search?q={term}&page={int(r(2, 6))}", PAGE, int(r(30_000, 80_000))))
    elif section in ("/docs", "/help", "/careers"):
        rows.append((f"{section}/", PAGE, int(r(10_000, 30_000))))
        for _ in range(25 if section == "/docs" else 10):
            rows.append((f"{section}/{pick(WORDS)}-{pick(WORDS)}", PAGE, int(r(8_000, 40_000))))
    elif section in ("/login", "/checkout", "/contact"):
        rows.append((section, FORM, int(r(6_000, 20_000))))
        extra = {
            "/login": ("/login?next=%2Faccount", "/login?next=%2Fcheckout"),
            "/checkout": ("/checkout/shipping", "/checkout/payment", "/checkout/confirm"),
        }
        rows += [(p, FORM, int(r(6_000, 20_000))) for p in extra.get(section, ())]
    elif section == "/account":
        for sub in ("", "/orders", "/settings", "/addresses", "/wishlist"):
            rows.append((f"/account{sub}", PAGE, int(r(10_000, 40_000))))
    elif section == "/orders":
        rows += [(f"/orders/{int(r(100_000, 999_999))}", PAGE, int(r(12_000, 30_000))) for _ in range(40)]
    elif section == "/admin":
        for sub in ("", "/users", "/reports?from=2024-01-01", "/settings", "/orders?status=refund"):
            rows.append((f"/admin{sub}", ADMIN, int(r(5_000, 50_000))))
    elif section == "/healthz":
        rows.append(("/healthz", API, 2))
    elif section in ("/favicon.ico", "/robots.txt", "/feed.xml"):
        rows.append((section, STATIC, int(r(300, 40_000))))
    else:
        rows.append((section, PAGE, int(r(8_000, 60_000))))
    return rows


def build_catalog(seed: int, clients: int = 320) -> Catalog:
    """Build the value pools for ``seed``: ``clients`` addresses (about 1 in 10 IPv6) and ~1500 paths."""
    rng = np.random.default_rng([seed, 0])
    agents: list[str] = []
    kind_agents: list[tuple[np.ndarray, np.ndarray]] = []
    browsers = tuple((agent, share) for agent, _, _, share in BROWSER_AGENTS)
    for pool in (browsers, BOT_AGENTS, TOOL_AGENTS):
        names, weights = _weighted(pool)
        kind_agents.append((np.arange(len(agents), len(agents) + len(names)), weights))
        agents += names
    scanner_agents = range(len(agents), len(agents) + len(SCANNER_AGENTS))
    agents += SCANNER_AGENTS

    kinds = rng.choice(3, clients, p=KIND_SHARES)
    client_weight = _kind_weights(kinds, rng)
    bot_prefixes = ((66, 249), (157, 55), (40, 77), (5, 255), (220, 181), (54, 36), (185, 191))
    addresses = [
        ipv4(rng, bot_prefixes[int(rng.integers(len(bot_prefixes)))])
        if kind == BOT
        else ipv6(rng)
        if rng.random() < 0.1
        else ipv4(rng)
        for kind in kinds
    ]
    client_agent = np.empty(clients, dtype=np.int64)
    for kind, (ids, shares) in enumerate(kind_agents):
        members = np.flatnonzero(kinds == kind)
        client_agent[members] = ids[allot(client_weight[members], shares)]
    users = sorted(
        {
            f"{rng.choice(FIRST_NAMES)}"
            if rng.random() < 0.4
            else f"{rng.choice(FIRST_NAMES)[0]}.{rng.choice(LAST_NAMES)}"
            if rng.random() < 0.6
            else f"user-{int(rng.integers(100, 1000))}"
            for _ in range(120)
        }
    )
    logged_in = (kinds == BROWSER) & (rng.random(clients) < 0.35)
    client_user = np.where(logged_in, rng.integers(0, len(users), clients), -1)
    proto_by_kind = np.array([[0.45, 0.55, 0.0], [0.95, 0.05, 0.0], [0.8, 0.0, 0.2]])
    client_proto = np.array([int(rng.choice(3, p=proto_by_kind[k])) for k in kinds])

    sections = [name for name, _ in SECTIONS]
    rows: list[tuple[str, int, int, int]] = []
    weight_rows: list[np.ndarray] = []
    for s, (section, kind_weights) in enumerate(SECTIONS):
        section_rows = _section_paths(section, rng)
        rows += [(path, kind, size, s) for path, kind, size in section_rows]
        within = zipf_weights(len(section_rows), 1.0, rng)
        weight_rows.append(np.outer(np.array(kind_weights, dtype=float), within))
    probe_paths = range(len(rows), len(rows) + len(PROBE_PATHS))
    rows += [(path, PAGE, 0, -1) for path in PROBE_PATHS]
    weight_rows.append(np.zeros((3, len(PROBE_PATHS))))
    path_weight = np.concatenate(weight_rows, axis=1)
    path_weight /= path_weight.sum(axis=1, keepdims=True)

    path_section = np.array([s for *_, s in rows])
    page_rows = [i for i, (path, kind, _, s) in enumerate(rows) if kind == PAGE and s >= 0]
    internal = [SITE + rows[i][0] for i in rng.choice(page_rows, 200, replace=False)]
    externals, external_weight = _weighted(EXTERNAL_REFERERS)
    authed = np.array([s >= 0 and sections[s] in AUTHED_SECTIONS for s in path_section])
    return Catalog(
        clients=addresses,
        client_weight=client_weight,
        client_kind=kinds,
        client_agent=client_agent,
        client_user=client_user,
        client_proto=client_proto,
        agents=agents,
        users=users,
        sections=sections,
        paths=[path for path, *_ in rows],
        path_kind=np.array([kind for _, kind, *_ in rows]),
        path_section=path_section,
        path_size=np.array([size for _, _, size, _ in rows], dtype=np.int64),
        path_authed=authed,
        path_weight=path_weight,
        referers=["-", *externals, *internal],
        external_weight=external_weight,
        internal_referers=len(internal),
        scanner_agents=scanner_agents,
        probe_paths=probe_paths,
    )
