"""Application-log content: services, levels and message templates.

A message is ``prefix + number + suffix`` where the number is drawn per line within the template's
range (templates without a number have an empty range). Keeping templates in arrays lets a batch pick
its messages with vectorized draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Level names as the generator writes them (the ``iso`` shape and JSON), and their shares.
LEVELS: tuple[str, ...] = ("INFO", "WARNING", "ERROR")
LEVEL_SHARES: tuple[float, ...] = (0.7, 0.2, 0.1)
INFO, WARNING, ERROR = 0, 1, 2

SERVICES: tuple[str, ...] = (
    "OrderService",
    "PaymentService",
    "UserService",
    "InventoryService",
    "SearchService",
    "AuthService",
    "CartService",
    "ShippingService",
    "NotificationService",
    "RecommendationService",
    "ReportService",
    "GatewayService",
)

# (template, low, high): "{}" is the number drawn in [low, high), "{svc}" the service name.
TEMPLATES: tuple[tuple[tuple[str, int, int], ...], ...] = (
    (
        ("Request completed in {} ms", 3, 250),
        ("Order {} created", 100_000, 1_000_000),
        ("Payment {} authorized", 1_000_000, 10_000_000),
        ("User session {} started", 10_000, 100_000),
        ("Processed batch of {} events", 10, 5_000),
        ("Cache refreshed with {} entries", 100, 50_000),
        ("Health check passed in {} ms", 1, 30),
        ("{svc} listening on port {}", 8000, 9000),
    ),
    (
        ("Slow query took {} ms", 500, 5_000),
        ("Retrying downstream call (attempt {}/5)", 1, 5),
        ("Connection pool usage high: {}%", 80, 100),
        ("Cache miss rate at {}%", 30, 90),
        ("Request queue depth {} exceeds soft limit", 100, 1_000),
        ("Deprecated endpoint called {} times in the last minute", 1, 500),
        ("Disk usage at {}%", 80, 96),
        ("Response time {} ms above threshold", 800, 3_000),
    ),
    (
        ("Null pointer exception in {svc}", 0, 0),
        ("Timeout after {} ms calling downstream service", 1_000, 30_000),
        ("Database connection refused (attempt {})", 1, 6),
        ("Failed to process order {}: payment declined", 100_000, 1_000_000),
        ("Unhandled exception in request handler: IndexError", 0, 0),
        ("Out of memory while building report {}", 1_000, 10_000),
        ("Upstream returned HTTP 503 after {} ms", 1, 5_000),
        ("Transaction {} rolled back: deadlock detected", 1_000_000, 10_000_000),
    ),
)
SLOW_TEMPLATE = ("Slow request in {svc}: {} ms", 800, 3_000)
OUTAGE_TEMPLATE = ("Service unavailable: connection refused by {svc} backend (attempt {})", 1, 6)


@dataclass
class MessageBook:
    """Message templates of every service.

    Attributes:
        services: service names; ``service_weight`` their (heavy-tailed) share of lines.
        prefix, suffix, low, high: one entry per template.
        by_level: template indices, shape (services, levels, templates per level).
        slow, outage: per service, the template of the ``slow`` and ``outage`` scenarios.
    """

    services: list[str]
    service_weight: np.ndarray
    prefix: list[str]
    suffix: list[str]
    low: np.ndarray
    high: np.ndarray
    by_level: np.ndarray
    slow: np.ndarray
    outage: np.ndarray

    def add(self, text: str, low: int = 0, high: int = 0) -> int:
        """Append a template (``{}`` marks the number); return its index."""
        prefix, _, suffix = text.partition("{}")
        self.prefix.append(prefix)
        self.suffix.append(suffix)
        self.low = np.append(self.low, low)
        self.high = np.append(self.high, high)
        return len(self.prefix) - 1


def build_messages(seed: int) -> MessageBook:
    """Build the services and templates; the service shares depend on ``seed``."""
    rng = np.random.default_rng([seed, 3])
    weights = 1.0 / np.arange(1, len(SERVICES) + 1) ** 1.1
    rng.shuffle(weights)
    book = MessageBook(
        services=list(SERVICES),
        service_weight=weights / weights.sum(),
        prefix=[],
        suffix=[],
        low=np.zeros(0, dtype=np.int64),
        high=np.zeros(0, dtype=np.int64),
        by_level=np.zeros((len(SERVICES), len(LEVELS), len(TEMPLATES[0])), dtype=np.int64),
        slow=np.zeros(len(SERVICES), dtype=np.int64),
        outage=np.zeros(len(SERVICES), dtype=np.int64),
    )
    for s, service in enumerate(SERVICES):
        for level, templates in enumerate(TEMPLATES):
            for t, (text, low, high) in enumerate(templates):
                book.by_level[s, level, t] = book.add(text.replace("{svc}", service), low, high)
        book.slow[s] = book.add(SLOW_TEMPLATE[0].replace("{svc}", service), *SLOW_TEMPLATE[1:])
        book.outage[s] = book.add(OUTAGE_TEMPLATE[0].replace("{svc}", service), *OUTAGE_TEMPLATE[1:])
    return book
