"""A real SMTP server on loopback (aiosmtpd) that collects what the outbox sends."""

from __future__ import annotations

import asyncio
import email
import logging
import socket
import threading
import time
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Collector:
    """aiosmtpd handler keeping every message; `hold` makes one subject wait until released."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.hold_subject: str | None = None
        self.holding = threading.Event()  # set while the held message waits
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        if self.hold_subject is not None and message["Subject"] == self.hold_subject:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 8)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start, stop and restart (on the same port) an SMTP server; optionally demanding a login."""

    def __init__(self, logins: dict[str, str] | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.logins = logins
        self.handler = Collector()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = self.logins is not None and self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        extra = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True} \
            if self.logins is not None else {}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **extra)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def reset(self) -> None:
        handler = self.handler
        handler.messages.clear()
        handler.envelopes.clear()
        handler.hold_subject = None
        handler.holding.clear()
        handler.release.clear()

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class Records(logging.Handler):
    """Collects the records of one logger ("harmony" does not propagate to pytest's root handler)."""

    def __init__(self, name: str):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger(name)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> "Records":
        self.level_before = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)


@pytest.fixture(scope="session")
def _smtp_session():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(_smtp_session) -> SmtpServer:
    """The session's SMTP server, running and empty at the start of the test."""
    if _smtp_session.controller is None:
        _smtp_session.start()
    _smtp_session.reset()
    yield _smtp_session
    if _smtp_session.controller is None:
        _smtp_session.start()


@pytest.fixture
def mail_app(app, smtp):
    """The `app` fixture (SQLite and PostgreSQL), sending to the loopback SMTP server."""
    app.config["SMTP_URL"] = smtp.url
    return app

