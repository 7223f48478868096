"""The e-mail notifier against a real SMTP server (aiosmtpd): plain, and STARTTLS with a login."""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.notify_helpers import events, rule
from loglens.alerts.config import EmailConfig
from loglens.alerts.email import EmailNotifier
from server.agent_helpers import wait_for
from support import free_port, require_tool


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class Mailbox:
    """What the SMTP server received; logins it accepts: ``user``/``secret``."""

    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        with self.lock:
            self.mails.append(
                Mail(envelope.mail_from, envelope.rcpt_tos, parsed, session.ssl is not None, login)
            )
        return "250 OK"

    def received(self, count: int) -> list[Mail] | None:
        with self.lock:
            return list(self.mails) if len(self.mails) == count else None


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"user", b"secret")
    return AuthResult(success=ok, handled=False, auth_data=data)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    openssl = require_tool("openssl", "openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def _server(mailbox: Mailbox, **options: Any) -> Iterator[str]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def plain() -> Iterator[tuple[str, Mailbox]]:
    mailbox = Mailbox()
    with _server(mailbox) as address:
        yield address, mailbox


@pytest.fixture
def starttls(certificate: tuple[Path, Path]) -> Iterator[tuple[str, Mailbox]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    mailbox = Mailbox()
    with _server(mailbox, tls_context=context, require_starttls=True, authenticator=_authenticate) as address:
        yield address, mailbox


def _config(smtp: str, **extra: Any) -> EmailConfig:
    return EmailConfig.model_validate(
        {"smtp": smtp, "from": "loglens@example.org", "to": ["oncall@example.org", "ops@example.org"]} | extra
    )


def test_the_fire_and_recover_mails_arrive(plain: tuple[str, Mailbox]) -> None:
    smtp, mailbox = plain
    fire, recover = events(rule(severity="page"), source="web")
    notifier = EmailNotifier(_config(smtp))
    notifier.send(fire)
    notifier.send(recover)
    fired, recovered = wait_for(lambda: mailbox.received(2), what="two mails")
    notifier.close()
    assert fired.sender == "loglens@example.org"
    assert fired.recipients == ["oncall@example.org", "ops@example.org"]
    assert not fired.tls  # not offered
    assert fired.message["Subject"] == "[FIRING] high_traffic severity=page source=web"
    assert fired.message["To"] == "oncall@example.org, ops@example.org"
    assert fired.message["Date"].datetime.utcoffset() == timedelta(0)
    assert fired.message.get_content().replace("\r\n", "\n") == (
        "High traffic generated an alert - hits = 2.5, triggered at 2023-11-14T22:13:20Z\n"
        "\n"
        "Value: 2.5 (fires at >= 2 over 60 s)\n"
        "Fired: 2023-11-14T22:13:20Z\n"
        "\n"
        "Labels:\n"
        "  alertname = high_traffic\n"
        "  severity = page\n"
        "  source = web\n"
        "\n"
        "Annotations:\n"
        "  summary = traffic on web\n"
    )
    assert recovered.message["Subject"] == "[RESOLVED] high_traffic severity=page source=web"
    body = recovered.message.get_content().replace("\r\n", "\n")
    assert body.startswith("High traffic alert recovered at 2023-11-14T22:13:50Z - hits = 0.5\n")
    assert "Fired: 2023-11-14T22:13:20Z\nResolved: 2023-11-14T22:13:50Z\n" in body
    assert notifier.counts["sent"] == 2


def test_starttls_and_login_when_the_server_offers_it(
    starttls: tuple[str, Mailbox], certificate: tuple[Path, Path]
) -> None:
    smtp, mailbox = starttls
    fire, _ = events(rule())
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    notifier = EmailNotifier(_config(smtp, username="user", password="secret"), tls=trusted)
    notifier.send(fire)
    (mail,) = wait_for(lambda: mailbox.received(1), what="the mail")
    notifier.close()
    assert mail.tls
    assert mail.login == "user"
    assert mail.message["Subject"] == "[FIRING] high_traffic"


def test_an_untrusted_certificate_fails_and_is_retried(starttls: tuple[str, Mailbox]) -> None:
    smtp, mailbox = starttls
    fire, _ = events(rule())
    notifier = EmailNotifier(_config(smtp), first_backoff=0.01, max_backoff=0.02)  # system authorities
    notifier.send(fire)
    wait_for(lambda: notifier.counts["failed"] >= 2)
    notifier.close(timeout=0)
    assert mailbox.mails == []
    assert notifier.counts["sent"] == 0


def test_no_login_in_clear_when_starttls_is_not_offered(caplog: pytest.LogCaptureFixture) -> None:
    mailbox = Mailbox()
    with _server(mailbox, authenticator=_authenticate, auth_require_tls=False) as smtp:  # AUTH in clear
        fire, _ = events(rule())
        notifier = EmailNotifier(_config(smtp, username="user", password="secret"), first_backoff=0.01)
        notifier.send(fire)
        wait_for(lambda: notifier.counts["failed"] >= 1)
        notifier.close(timeout=0)
    assert mailbox.mails == []
    assert "the server offers no STARTTLS; not logging in in clear" in caplog.text


def test_login_in_clear_when_starttls_is_off() -> None:
    mailbox = Mailbox()
    with _server(mailbox, authenticator=_authenticate, auth_require_tls=False) as smtp:
        fire, _ = events(rule())
        notifier = EmailNotifier(_config(smtp, username="user", password="secret", starttls=False))
        notifier.send(fire)
        (mail,) = wait_for(lambda: mailbox.received(1), what="the mail")
        notifier.close()
    assert (mail.tls, mail.login) == (False, "user")


def test_a_recovery_without_a_value_says_none(plain: tuple[str, Mailbox]) -> None:
    smtp, mailbox = plain
    _, recover = events(rule(), recovered=None)
    notifier = EmailNotifier(_config(smtp))
    notifier.send(recover)
    (mail,) = wait_for(lambda: mailbox.received(1), what="the mail")
    notifier.close()
    assert "\nValue: none (fires at >= 2 over 60 s)\n" in mail.message.get_content().replace("\r\n", "\n")
