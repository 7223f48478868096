"""Notifiers from the ``notify:`` settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from loglens.alerts.alertmanager import RESEND_INTERVAL_SECONDS, AlertmanagerNotifier
from loglens.alerts.config import NotifierConfig
from loglens.alerts.delivery import Notifier
from loglens.alerts.email import EmailNotifier
from loglens.alerts.file import FileNotifier
from loglens.alerts.webhook import SlackNotifier, WebhookNotifier

if TYPE_CHECKING:
    from loglens.runtime import Runtime


#: The ``notifier`` label of each kind of ``notify:`` entry.
KINDS = tuple(
    kind.kind for kind in (FileNotifier, WebhookNotifier, SlackNotifier, EmailNotifier, AlertmanagerNotifier)
)


def build_notifiers(
    configs: Sequence[NotifierConfig],
    external_url: str,
    resend_interval: float = RESEND_INTERVAL_SECONDS,
    **delivery: Any,
) -> list[Notifier]:
    """One notifier per entry, in order. Each starts its thread at its first event.

    Args:
        external_url: loglens's base URL; Alertmanager's alerts link to its ``/api/alerts``.
        resend_interval: seconds between two sends of a firing alert to Alertmanager.
        delivery: :class:`Notifier`'s ``capacity``, ``first_backoff``, ``max_backoff``.

    Raises:
        ConfigError: a file notifier's file cannot be opened for appending.
    """
    notifiers: list[Notifier] = []
    for config in configs:
        if config.file is not None:
            notifiers.append(FileNotifier(config.file, **delivery))
        elif config.webhook is not None:
            notifiers.append(WebhookNotifier(config.webhook, **delivery))
        elif config.slack is not None:
            notifiers.append(SlackNotifier(config.slack, **delivery))
        elif config.email is not None:
            notifiers.append(EmailNotifier(config.email, **delivery))
        elif config.alertmanager is not None:
            generator_url = external_url.rstrip("/") + "/api/alerts"
            notifiers.append(
                AlertmanagerNotifier(config.alertmanager, generator_url, resend_interval, **delivery)
            )
    return notifiers


class Notifications:
    """The notifiers of ``notify:`` as a view of a runtime: built when it binds (after the HTTP server,
    whose address their links name), fed by its alert engine, closed after its loop's last events.

    Args:
        configs: the ``notify:`` entries.
        external_url: loglens's base URL, asked at bind time ("" where nothing is served).
    """

    def __init__(self, configs: Sequence[NotifierConfig], external_url: Callable[[], str]) -> None:
        self.configs = configs
        self.external_url = external_url
        self.notifiers: list[Notifier] = []

    def bind(self, runtime: Runtime) -> None:
        """Build the notifiers and hand them to the runtime's alert engine.

        Raises:
            ConfigError: a file notifier's file cannot be opened for appending.
        """
        self.notifiers.extend(build_notifiers(self.configs, self.external_url()))
        if runtime.engine is not None:
            runtime.engine.sinks.extend(self.notifiers)

    def start(self) -> None:
        """Nothing to start: each notifier starts its thread at its first event."""

    def stop(self) -> None:
        """Deliver what waits, every notifier within the same timeout, then stop them."""
        for notifier in self.notifiers:
            notifier.closing()
        for notifier in self.notifiers:
            notifier.join()
