"""Signed webhooks: telling the data platforms when a grant starts, ends or is revoked.

`on_grant_change` is a `harmony.access_requests.grants` listener: in the action's own transaction it
writes one WebhookDelivery per live platform with a webhook URL, so a rolled-back action tells nobody
and a committed one is never forgotten. Delivery mirrors the mail outbox (harmony.notifications.outbox):
right after commit (best effort) and by `harmony platforms deliver [--follow]`; a delivery is claimed
with one compare-and-set UPDATE first, so two senders never post the same row; any answer but 2xx and
any network error is retried with the outbox's backoff, and given up once the event is GIVE_UP_AFTER old.

Each delivery is `POST <webhook_url>` with the JSON body {"id", "event", "occurred_at", "grants": [items
as GET /api/v1/entitlements has them]} and the headers
    X-Harmony-Event: grant.started | grant.ended | grant.revoked
    X-Harmony-Delivery: the delivery's id (the same on every retry: deduplicate on it)
    X-Harmony-Timestamp: Unix seconds of this attempt
    X-Harmony-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the platform's webhook secret>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

import requests
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from harmony import clock, db
from harmony.access_requests import entitlements, grants
from harmony.access_requests.models import Grant
from harmony.notifications.outbox import CLAIM_LEASE, GIVE_UP_AFTER, DeliveryReport, backoff
from harmony.platforms.models import DataPlatform, WebhookDelivery

log = logging.getLogger("harmony.webhooks")

EVENTS = {grants.STARTED: "grant.started", grants.ENDED: "grant.ended", grants.REVOKED_EVENT: "grant.revoked"}
TIMEOUT_SECONDS = 5.0  # connecting and each read; CLAIM_LEASE is far longer
SIGNATURE_TOLERANCE_SECONDS = 300  # what `verify` accepts between the timestamp and the receiver's clock
USER_AGENT = "Harmony-Webhooks/1"


def register() -> None:
    """Listen to grant changes (once, however many apps are made in this process)."""
    if on_grant_change not in grants.GRANT_LISTENERS:
        grants.GRANT_LISTENERS.append(on_grant_change)


# --- writing: inside the action's transaction ------------------------------------------------


def on_grant_change(session: Session, event: str, changed: list[Grant]) -> None:
    """One delivery per live platform with a webhook, sent after the action commits."""
    targets = list(session.scalars(select(DataPlatform.id).where(
        DataPlatform.revoked_at.is_(None), DataPlatform.webhook_url.is_not(None)).order_by(DataPlatform.id)))
    if not targets or not changed:
        return
    now = clock.now()
    body = {"id": str(uuid.uuid4()), "event": EVENTS[event], "occurred_at": entitlements.iso(now),
            "grants": entitlements.items_of(session, [grant.id for grant in changed], now)}
    rows = [WebhookDelivery(platform_id=platform_id, event=body["event"], body=body, created_at=now,
                            next_attempt_at=now) for platform_id in targets]
    session.add_all(rows)
    session.flush()
    ids = [row.id for row in rows]
    with db.unit_of_work() as uow:  # the action's unit of work (listeners run inside it): joined, not opened
        uow.after_commit(lambda: deliver_pending(ids))


# --- signing ------------------------------------------------------------------------------------


def encode(body: dict[str, Any]) -> bytes:
    """The bytes posted (and signed): the same for every attempt of a delivery."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: str, payload: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the platform's webhook secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, payload: bytes, header: str, now: float | None = None) -> bool:
    """What a receiving platform checks (here for Python platforms and the tests of this module): the
    signature in constant time, and a timestamp within SIGNATURE_TOLERANCE_SECONDS (no replays)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    moment = clock.now().timestamp() if now is None else now
    if abs(moment - sent) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, timestamp, payload), header)


# --- delivering: outside any transaction --------------------------------------------------------


def _due(now):
    return (WebhookDelivery.sent_at.is_(None), WebhookDelivery.failed_at.is_(None),
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))


def deliver_due(limit: int = 100) -> DeliveryReport:
    """Post up to `limit` deliveries that are due, oldest first."""
    query = (select(WebhookDelivery.id).where(*_due(clock.now()))
             .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id))
    with db.engine().connect() as connection:  # a short read of its own: no transaction is left open
        ids = list(connection.scalars(query.limit(limit)))
    return _deliver(ids)


def deliver_pending(ids: Iterable[int]) -> DeliveryReport:
    """Post these deliveries now if they are still due (the after-commit path; the rest wait for the worker)."""
    return _deliver(list(ids))


def claim(delivery_id: int):
    """The delivery with its platform if this sender won it, else None (sent, given up, not due, or claimed
    by another sender)."""
    with db.unit_of_work() as uow:
        now = clock.now()
        claimed = uow.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, *_due(now))
            .values(claimed_until=now + CLAIM_LEASE).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return None
        return uow.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.event, WebhookDelivery.body, WebhookDelivery.attempts,
                   WebhookDelivery.created_at, DataPlatform.name, DataPlatform.webhook_url,
                   DataPlatform.webhook_secret, DataPlatform.revoked_at)
            .join(DataPlatform, DataPlatform.id == WebhookDelivery.platform_id)
            .where(WebhookDelivery.id == delivery_id)).one()


def _deliver(ids: list[int]) -> DeliveryReport:
    report = DeliveryReport()
    if not ids:
        return report
    with requests.Session() as http:
        for delivery_id in ids:
            row = claim(delivery_id)
            if row is None:
                continue
            if row.revoked_at is not None or not row.webhook_url or not row.webhook_secret:
                _record(row.id, failed_at=clock.now(), last_error="The platform was revoked or has no webhook.")
                report.failed += 1
                continue
            try:
                status = _post(http, row)
            except requests.RequestException as error:  # refused, timed out, reset …: retried later
                outcome = _record_failure(row, f"{type(error).__name__}: {error}", None)
            else:
                if 200 <= status < 300:
                    _record(row.id, sent_at=clock.now(), attempts=row.attempts + 1, last_status=status,
                            last_error=None)
                    report.sent += 1
                    continue
                outcome = _record_failure(row, f"HTTP {status}", status)
            if outcome:
                report.failed += 1
            else:
                report.retrying += 1
    return report


def _post(http: requests.Session, row) -> int:
    payload = encode(row.body)
    timestamp = str(int(clock.now().timestamp()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Harmony-Event": row.event,
               "X-Harmony-Delivery": str(row.id), "X-Harmony-Timestamp": timestamp,
               "X-Harmony-Signature": signature(row.webhook_secret, timestamp, payload)}
    response = http.post(row.webhook_url, data=payload, headers=headers, timeout=TIMEOUT_SECONDS,
                         allow_redirects=False)
    response.close()
    return response.status_code


def _record_failure(row, reason: str, status: int | None) -> bool:
    """Schedule the next attempt; give up (True) only once the event is older than GIVE_UP_AFTER."""
    now = clock.now()
    attempts = row.attempts + 1
    give_up = now - row.created_at > GIVE_UP_AFTER
    _record(row.id, attempts=attempts, next_attempt_at=now + backoff(attempts), last_status=status,
            last_error=reason[:2000], failed_at=now if give_up else None)
    if give_up:
        log.error("webhook given up after %d attempts id=%s platform=%s error=%s", attempts, row.id, row.name, reason)
    else:
        log.warning("webhook not delivered, will retry id=%s platform=%s attempt=%d error=%s", row.id, row.name,
                    attempts, reason)
    return give_up


def _record(delivery_id: int, **values) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                            .values(claimed_until=None, **values).execution_options(synchronize_session=False))


def pending_count(platform_id: int) -> int:
    """Deliveries of a platform not yet sent nor given up (the admin page shows it)."""
    return db.session().scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.platform_id == platform_id, WebhookDelivery.sent_at.is_(None),
        WebhookDelivery.failed_at.is_(None))) or 0
