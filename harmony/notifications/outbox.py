"""Delivering the outbox: claim a due mail, send it outside any transaction, record the outcome.

A mail is claimed with one compare-and-set UPDATE that sets `claimed_until`, so two senders
(the after-commit path, `harmony mail send` workers on several machines) never send the same
mail. A failure only moves `next_attempt_at` on; nothing is lost while the SMTP server is down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select, update

from harmony import clock, db
from harmony.notifications import mailer
from harmony.notifications.models import OutboxMail

log = logging.getLogger("harmony.mail")

CLAIM_LEASE = timedelta(minutes=5)  # far longer than one send (10 s timeout per step)
GIVE_UP_AFTER = timedelta(days=3)
MAX_BACKOFF_MINUTES = 60


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** min(max(attempts - 1, 0), 6), MAX_BACKOFF_MINUTES))


def _due(now):
    return (OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None), OutboxMail.next_attempt_at <= now,
            or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))


def deliver_due(limit: int = 100) -> DeliveryReport:
    """Send up to `limit` mails that are due, oldest first."""
    query = select(OutboxMail.id).where(*_due(clock.now())).order_by(OutboxMail.next_attempt_at, OutboxMail.id)
    with db.engine().connect() as connection:  # a short read of its own: no transaction is left open
        ids = list(connection.scalars(query.limit(limit)))
    return _deliver(ids)


def deliver_pending(ids: Iterable[int]) -> DeliveryReport:
    """Send these mails now if they are still due (the after-commit path; the rest wait for the worker)."""
    return _deliver(list(ids))


def _claim(mail_id: int):
    """The mail's row if this sender won it, else None (sent, given up, not due, or claimed by another)."""
    with db.unit_of_work() as uow:
        now = clock.now()
        claimed = uow.session.execute(
            update(OutboxMail).where(OutboxMail.id == mail_id, *_due(now))
            .values(claimed_until=now + CLAIM_LEASE).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return None
        return uow.session.execute(select(
            OutboxMail.id, OutboxMail.to_address, OutboxMail.subject, OutboxMail.body_text, OutboxMail.body_html,
            OutboxMail.attempts, OutboxMail.created_at).where(OutboxMail.id == mail_id)).one()


def _deliver(ids: list[int]) -> DeliveryReport:
    report = DeliveryReport()
    if not ids:
        return report
    transport = mailer.transport_for(current_app.config)
    try:
        for mail_id in ids:
            row = _claim(mail_id)
            if row is None:
                continue
            try:
                transport.send(_message(row))
            except Exception as error:  # any failure is retried later; the row keeps the reason
                if _record_failure(row, error):
                    report.failed += 1
                else:
                    report.retrying += 1
            else:
                _record(row.id, sent_at=clock.now())
                report.sent += 1
    finally:
        transport.close()
    return report


def _message(row):
    config = current_app.config
    host = urlsplit(config["BASE_URL"]).hostname or "localhost"
    return mailer.build_message(
        mail_from=config["MAIL_FROM"], to=row.to_address, subject=row.subject, text=row.body_text,
        html=row.body_html, headers={
            "Date": format_datetime(row.created_at),
            "Message-ID": f"<outbox-{row.id}@{host}>",  # the same on every retry, so receivers can deduplicate
            "Auto-Submitted": "auto-generated",  # RFC 3834: out-of-office replies stay away
        })


def _record_failure(row, error: Exception) -> bool:
    """Schedule the next attempt; give up (True) only once the mail is older than GIVE_UP_AFTER."""
    now = clock.now()
    attempts = row.attempts + 1
    give_up = now - row.created_at > GIVE_UP_AFTER
    reason = f"{type(error).__name__}: {error}"[:2000]
    _record(row.id, attempts=attempts, next_attempt_at=now + backoff(attempts), last_error=reason,
            failed_at=now if give_up else None)
    if give_up:
        log.error("mail given up after %d attempts id=%s to=%s error=%s", attempts, row.id, row.to_address, reason)
    else:
        log.warning("mail not sent, will retry id=%s attempt=%d error=%s", row.id, attempts, reason)
    return give_up


def _record(mail_id: int, **values) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id)
                            .values(claimed_until=None, **values).execution_options(synchronize_session=False))
