"""The e-mail notifier: one message per event over SMTP, upgraded with STARTTLS when the server offers it."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from loglens.alerts.config import EmailConfig
from loglens.alerts.delivery import Notifier
from loglens.alerts.engine import AlertEvent
from loglens.alerts.text import details, headline

#: Seconds one SMTP exchange may wait on the server.
SMTP_TIMEOUT_SECONDS = 10.0


def message(event: AlertEvent, config: EmailConfig) -> EmailMessage:
    """The e-mail for ``event``: the headline as subject, :func:`details` as a plain-text body."""
    mail = EmailMessage()
    mail["Subject"] = headline(event)
    mail["From"] = config.from_
    mail["To"] = ", ".join(config.to)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid("loglens")
    mail.set_content("\n".join(details(event)) + "\n")
    return mail


class EmailNotifier(Notifier):
    """Sends each event to ``config.to`` through ``config.smtp``.

    With ``starttls`` on (the default) the connection is upgraded when the server offers STARTTLS, and a
    login (``username`` set) is refused on a connection that was not upgraded, so the password never
    goes in clear.

    Args:
        tls: how the server's certificate is checked (default: the system's trusted authorities).
    """

    kind = "email"

    def __init__(self, config: EmailConfig, tls: ssl.SSLContext | None = None, **delivery: Any) -> None:
        super().__init__(**delivery)
        self.config = config
        self.tls = tls or ssl.create_default_context()
        host, _, port = config.smtp.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)

    def describe(self) -> str:
        """``email oncall@example.org via host:port``."""
        return f"email {', '.join(self.config.to)} via {self.config.smtp}"

    def deliver(self, event: AlertEvent) -> None:
        """One SMTP session: EHLO, STARTTLS if offered, login if configured, the message."""
        config = self.config
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.ehlo()
            secure = False
            if config.starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=self.tls)
                smtp.ehlo()
                secure = True
            if config.username is not None:
                if config.starttls and not secure:
                    raise smtplib.SMTPException("the server offers no STARTTLS; not logging in in clear")
                smtp.login(config.username, config.password or "")
            smtp.send_message(message(event, config))
