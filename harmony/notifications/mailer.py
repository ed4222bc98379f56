"""Sending one e-mail: the HARMONY_SMTP_URL settings, the message, and two transports.

Without an SMTP URL (the demo, a laptop) mails are written to the log instead, so every
workflow runs end to end and the operator can read what would have been sent.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger("harmony.mail")

TIMEOUT_SECONDS = 10
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False  # smtps://, TLS from the first byte (port 465)
    starttls: bool = False  # smtp://…?starttls=1, upgrade after EHLO (port 587)


def parse_smtp_url(url: str) -> SmtpSettings:
    """`smtp://host[:port]`, `smtps://user:password@host[:port]`, `smtp://host:587?starttls=1`.

    Raises ValueError saying what is wrong (the caller names the variable).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("expected smtp://host[:port] or smtps://user:password@host[:port]")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if not parts.hostname:
        raise ValueError("no host name")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("nothing may follow the host and port but ?starttls=1")
    starttls = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls" or value.lower() not in _TRUE + _FALSE:
            raise ValueError(f"unknown option {key}={value} (only starttls=1 is understood)")
        starttls = value.lower() in _TRUE
    implicit_tls = parts.scheme == "smtps"
    if implicit_tls and starttls:
        raise ValueError("smtps:// already uses TLS; starttls=1 is for smtp://")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if (username is None) != (password is None):
        raise ValueError("give both user and password, or neither")
    return SmtpSettings(host=parts.hostname, port=port or (465 if implicit_tls else 25), username=username,
                        password=password, implicit_tls=implicit_tls, starttls=starttls)


def build_message(*, mail_from: str, to: str, subject: str, text: str, html: str,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """multipart/alternative: the plain text first, the HTML that mail clients prefer last."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...
    def close(self) -> None: ...


class TransportDown(Exception):
    """The SMTP server cannot be reached or refused our login: no mail can go out right now."""


class LogTransport:
    """No SMTP server configured: write each mail to the log and count it as sent."""

    def send(self, message: EmailMessage) -> None:
        text = message.get_body(("plain",))
        log.info("mail not sent (no HARMONY_SMTP_URL) to=%s subject=%r\n%s", message["To"], message["Subject"],
                 text.get_content() if text is not None else "")

    def close(self) -> None:
        pass


class SmtpTransport:
    """One connection for a run of mails, opened on first use and reopened after an error.

    Once connecting fails, later mails of the run fail at once with the same error instead of
    each waiting for the timeout again.
    """

    def __init__(self, settings: SmtpSettings, timeout: float = TIMEOUT_SECONDS):
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        self._down: TransportDown | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            cls = smtplib.SMTP_SSL if s.implicit_tls else smtplib.SMTP
            smtp = cls(s.host, s.port, timeout=self.timeout)
            try:
                if s.starttls:
                    smtp.starttls()
                if s.username is not None:
                    smtp.login(s.username, s.password or "")
            except BaseException:
                smtp.close()
                raise
        except (OSError, smtplib.SMTPException) as error:
            self._down = TransportDown(f"cannot connect to {s.host}:{s.port}: {error!r}")
            raise self._down from error
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._down is not None:
            raise self._down
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except BaseException:
            self.close()  # the next mail starts on a fresh connection
            raise

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def transport_for(config: dict[str, Any]) -> Transport:
    url = config.get("SMTP_URL")
    return SmtpTransport(parse_smtp_url(url)) if url else LogTransport()
