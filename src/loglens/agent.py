"""What ``loglens run`` attaches to its runtime: the file follower, the alert rule, HTTP, the archive.

agent = Agent(settings).start()   # binds the port, restores the checkpoint, starts the loop
print(agent.url)
agent.stop()                      # final poll and checkpoint, then the server stops
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from fastapi import APIRouter
from prometheus_client.registry import Collector
from starlette.types import ASGIApp

from loglens.aggregate.visitors import WebPanels
from loglens.alerts.engine import AlertSink
from loglens.alerts.notifiers import Notifications
from loglens.alerts.rules import HitRateRule, Rule, rule_of
from loglens.archive.sink import ArchiveSink, build_archive
from loglens.clock import Clock, SystemClock
from loglens.config import Settings
from loglens.contracts import Sink, Source
from loglens.errors import ConfigError
from loglens.exposition.notify import NotificationsCollector
from loglens.ingest.admission import Admission
from loglens.ingest.collector import IngestCollector, SyslogCollector
from loglens.ingest.endpoint import IngestStats
from loglens.ingest.protocols import OPENAPI as PROTOCOLS_OPENAPI
from loglens.ingest.protocols import protocol_endpoints
from loglens.ingest.routes import ENDPOINTS, ingest_endpoints
from loglens.ingest.routes import OPENAPI as INGEST_OPENAPI
from loglens.ingest.source import SpoolSource
from loglens.ingest.spool import Spool
from loglens.ingest.syslog_server import SyslogListeners
from loglens.parsing import build_parser
from loglens.runtime import Runtime, View
from loglens.server.http import HttpServer, server_descriptors
from loglens.sinks.panels import PanelSink
from loglens.sources.discovery import SourceSpec
from loglens.sources.file_faults import descriptor_budget
from loglens.sources.file_tail import FileFollower
from loglens.sources.stdin import StreamSource

if TYPE_CHECKING:
    from loglens.sinks.nats_publisher import NatsPublisher
    from loglens.sources.nats_consumer import NatsConsumer


def source_specs(settings: Settings) -> list[SourceSpec]:
    """The sources of ``settings``, each with its effective format, checked.

    A source's own ``format`` or ``pattern`` wins over ``parse.format`` / ``parse.pattern``.

    Raises:
        FormatError: a format or pattern is unusable.
        SourceError: a literal path whose folder does not exist, or a compressed file.
    """
    specs = []
    for source in settings.sources:
        if source.path == STDIN:
            continue
        if source.pattern or "format" in source.model_fields_set:
            format_, pattern = source.format, source.pattern
        else:
            format_, pattern = settings.parse.format, settings.parse.pattern
        spec = SourceSpec(source.path, format_, pattern, source.name, dict(source.labels))
        spec.check()
        build_parser(format_, pattern, settings.parse.timezone)
        specs.append(spec)
    return specs


#: The path that names standard input.
STDIN = "-"


def stdin_sources(settings: Settings) -> list[Source]:
    """Standard input as a source, when a source's path is ``-``."""
    for source in settings.sources:
        if source.path == STDIN:
            parse = settings.parse
            if source.pattern or "format" in source.model_fields_set:
                format_, pattern = source.format, source.pattern
            else:
                format_, pattern = parse.format, parse.pattern
            name = source.name or "stdin"
            return [StreamSource(0, name, format_, pattern, parse.timezone, parse.max_line_bytes)]
    return []


def file_follower(settings: Settings, specs: Sequence[SourceSpec], clock: Clock) -> FileFollower:
    """The file source of ``specs`` with the tail and parse settings."""
    return FileFollower(
        specs,
        clock=clock,
        from_start=settings.tail.from_start,
        rotate_wait=settings.tail.rotate_wait_seconds,
        max_line_bytes=settings.parse.max_line_bytes,
        timezone=settings.parse.timezone,
        max_open_files=descriptor_budget(server_descriptors(settings.server)),
    )


@dataclass
class IngestParts:
    """What ``loglens run`` takes network data with: the spool in the state folder and its source, the
    ingest endpoints over it (by path: loglens's own and those of other protocols; none when
    ``ingest.enabled`` is off) with a router for the paths with a parameter, their metrics, and the
    syslog listeners (when ``syslog.listen`` names some)."""

    spool: Spool
    source: SpoolSource
    endpoints: dict[str, ASGIApp] = field(default_factory=dict)
    routers: list[APIRouter] = field(default_factory=list)
    collectors: list[Collector] = field(default_factory=list)
    syslog: SyslogListeners | None = None


def ingest_parts(settings: Settings, clock: Clock) -> IngestParts:
    """The :class:`IngestParts` of ``settings``."""
    config = settings.ingest
    spool = Spool(settings.state.dir / "spool", config.spool_segment_bytes, config.spool_max_bytes)
    parts = IngestParts(spool, SpoolSource(spool, settings.parse.timezone, settings.parse.max_line_bytes))
    stats = IngestStats(ENDPOINTS, config.source)
    admission = Admission(config, clock)
    gate = (config, spool, admission, stats, settings.parse.max_line_bytes)
    if config.enabled:
        protocols, router = protocol_endpoints(*gate)
        parts.endpoints = {**ingest_endpoints(*gate), **protocols}
        parts.routers.append(router)
    parts.collectors.append(IngestCollector(stats, spool))
    if settings.syslog.listen:
        parts.syslog = SyslogListeners(
            settings.syslog.listen, spool, admission, stats, clock,
            max_line_bytes=settings.parse.max_line_bytes, max_connections=settings.syslog.max_connections,
            timezone=settings.parse.timezone,
        )  # fmt: skip
        parts.collectors.append(SyslogCollector(parts.syslog))
    return parts


def nats_parts(settings: Settings) -> tuple[NatsPublisher | None, NatsConsumer | None]:
    """The NATS publisher (``nats.publish``) or consumer (``nats.consume``), when asked for."""
    config = settings.nats
    if config.publish:
        from loglens.sinks.nats_publisher import NatsPublisher

        return NatsPublisher(config), None
    if config.consume:
        from loglens.sources.nats_consumer import NatsConsumer, ParseSettings

        parse = settings.parse
        consumer = NatsConsumer(
            config,
            ParseSettings(parse.format, parse.pattern, parse.timezone, parse.max_line_bytes,
                          settings.limits.max_label_values),
        )  # fmt: skip
        return None, consumer
    return None, None


def archived(settings: Settings, label: str, ingested: Callable[[str], bool]) -> bool:
    """Whether the archive keeps the lines of source ``label``: those sent over HTTP always, followed
    files and stdin when ``archive.files`` is on."""
    return settings.archive.files or ingested(label)


def archive_sink(
    settings: Settings, clock: Clock, saves: Callable[[], int], ingested: Callable[[str], bool]
) -> ArchiveSink | None:
    """The archive, when ``archive.enabled``; ``saves`` counts the runtime's saved checkpoints, and
    ``ingested`` tells the source labels fed by HTTP.

    Raises:
        ConfigError: the S3 backend without boto3, or with an unusable endpoint.
    """
    if not settings.archive.enabled:
        return None
    return build_archive(settings, clock, lambda label: archived(settings, label, ingested), saves)


def alert_rules(settings: Settings) -> list[Rule]:
    """The rules of ``alerts:``, after the built-in high-traffic one (``alert:``) unless a rule of
    ``alerts:`` takes its name.

    Raises:
        ConfigError: two rules with one name.
    """
    lateness = settings.limits.lateness_seconds
    alert = settings.alert
    rules: dict[str, Rule] = {
        "high_traffic": HitRateRule(
            alert.threshold, alert.window_seconds, alert.for_seconds, lateness_seconds=lateness
        )
    }
    named: set[str] = set()
    for config in settings.alerts:
        if config.name in named:
            raise ConfigError(f"alerts: two rules are named {config.name!r}; each needs its own name")
        named.add(config.name)
        rules[config.name] = rule_of(config, lateness)
    return list(rules.values())


class Agent:
    """``loglens run`` in-process: follows the configured sources and serves HTTP until stopped.

    Args:
        settings: the sources, listen address, state folder, limits...
        clock: time source (tests pass a frozen one).
        routers: extra routes to serve (besides status, insights, alerts and push).
        sinks: where folded batches go besides the state (and the archive, when enabled).
        alert_sinks: where alert events go.

    Raises:
        LoglensError: an unusable source, format or pattern.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        routers: Iterable[APIRouter] = (),
        sinks: Sequence[Sink] = (),
        alert_sinks: Iterable[AlertSink] = (),
    ) -> None:
        self.settings = settings
        clock = clock or SystemClock()
        self.follower = file_follower(settings, source_specs(settings), clock)
        sources: list[Source] = [self.follower, *stdin_sources(settings)]
        views: list[View] = []
        self.spool: Spool | None = None
        self.server = HttpServer(settings, routers)
        notifications = Notifications(settings.notify, lambda: self.server.url)
        self.server.registry.register(NotificationsCollector(notifications.notifiers))
        self.syslog: SyslogListeners | None = None
        spool_source: SpoolSource | None = None
        if settings.ingest.enabled or settings.syslog.listen:
            parts = ingest_parts(settings, clock)
            self.spool, spool_source, self.syslog = parts.spool, parts.source, parts.syslog
            sources.append(spool_source)
            if parts.endpoints:
                self.server.add_endpoints(parts.endpoints, {**INGEST_OPENAPI, **PROTOCOLS_OPENAPI})
            self.server.extra_routers += parts.routers
            for collector in parts.collectors:
                self.server.registry.register(collector)
            if self.syslog is not None:
                views.append(self.syslog)
            views.append(self.spool)  # after the server and listeners: it stops once nothing can wait on it
        self.publisher, self.consumer = nats_parts(settings)
        if self.publisher is not None:
            from loglens.exposition.nats import PublisherCollector

            sinks = [*sinks, self.publisher]
            self.server.registry.register(PublisherCollector(self.publisher))
        if self.consumer is not None:
            from loglens.exposition.nats import ConsumerCollector

            sources.append(self.consumer)
            self.server.registry.register(ConsumerCollector(self.consumer))
            self.server.instance = settings.nats.instance or ""  # "": this host and the port bound
        feeds = [part.feeds for part in (spool_source, self.consumer) if part is not None]
        ingested = (lambda label: any(feed(label) for feed in feeds)) if feeds else (lambda label: False)
        self.archive = archive_sink(settings, clock, self._saved_checkpoints, ingested)
        if self.archive is not None:
            from loglens.exposition.archive import ArchiveCollector

            self.server.registry.register(ArchiveCollector(self.archive))
        # The web page's goaccess panels, folded in their own thread (sinks/panels.py), as many rows as
        # any label has values, per source and per minute (the page's ranges), checkpointed.
        limit = settings.limits.max_label_values
        self.web_panels = WebPanels(limit, clock.now) if settings.web.panels else None
        panels = [PanelSink(self.web_panels)] if self.web_panels is not None else []
        self.runtime = Runtime(
            settings,
            sources,
            [*sinks, *panels, *([self.archive] if self.archive is not None else [])],
            web_panels=self.web_panels,
            views=[self.server, notifications, *views],
            rules=alert_rules(settings),
            alert_sinks=alert_sinks,
            clock=clock,
        )

    def _saved_checkpoints(self) -> int:
        store = self.runtime.store
        return store.saves if store is not None else 0

    @property
    def address(self) -> tuple[str, int]:
        """Host and port the HTTP server listens on."""
        return self.server.address

    @property
    def url(self) -> str:
        """Base URL of the HTTP server."""
        return self.server.url

    def start(self) -> Agent:
        """Bind, restore the checkpoint, start the loop and the server.

        Raises:
            LoglensError: the address cannot be bound or the state folder is unusable.
        """
        self.runtime.start()
        return self

    def stop(self) -> None:
        """Graceful stop: a last poll and checkpoint, then the server closes."""
        self.runtime.stop()

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
