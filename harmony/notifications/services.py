"""Telling people: a notice on /notices and an e-mail, written in the transaction of the action
that causes them, so a rolled-back action tells nobody and a committed one is never forgotten."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from harmony import clock, db
from harmony.accounts.models import User
from harmony.accounts.permissions import Principal
from harmony.errors import NotFound
from harmony.notifications import outbox, permissions
from harmony.notifications.models import Notice, OutboxMail
from harmony.pagination import Page, paginate

KIND = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # also a template name: no dots, no slashes


def notify(uow: db.UnitOfWork, recipients: Iterable[User], kind: str, *, subject: str, summary: str, link: str,
           context: dict[str, Any] | None = None) -> None:
    """A notice on /notices and an outbox e-mail for each recipient (deduplicated by user id), written in
    `uow`'s transaction; the mails are delivered after commit (best effort) and otherwise by `harmony mail send`."""
    subject = _checked(kind, subject, link)
    mails: list[OutboxMail] = []
    seen: set[int] = set()
    for user in recipients:
        if user.id is None or user.id in seen:
            continue
        seen.add(user.id)
        uow.session.add(Notice(user_id=user.id, text=summary[:500], link=link, kind=kind))
        if user.email:
            mails.append(_mail(user.email, user, kind, subject, summary, link, context))
    _queue(uow, mails)


def mail_address(uow: db.UnitOfWork, address: str, kind: str, *, subject: str, summary: str, link: str,
                 context: dict[str, Any] | None = None) -> None:
    """An outbox e-mail to someone who may have no account yet (an invitation): no notice, `recipient` is None."""
    subject = _checked(kind, subject, link)
    _queue(uow, [_mail(address, None, kind, subject, summary, link, context)])


def _checked(kind: str, subject: str, link: str) -> str:
    if not KIND.match(kind):
        raise ValueError(f"notification kind {kind!r} must be lower-case letters, digits, - and _")
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError(f"link {link!r} must be a path on this site, such as /requests/12")
    return " ".join(subject.split())[:300]  # one header line: no injected headers


def _mail(address: str, user: User | None, kind: str, subject: str, summary: str, link: str,
          context: dict[str, Any] | None) -> OutboxMail:
    base_url = current_app.config["BASE_URL"]
    values = {**(context or {}), "recipient": user, "summary": summary, "url": base_url + link, "subject": subject,
              "notices_url": base_url + "/notices"}
    text, html = render_mail(kind, values)
    return OutboxMail(user_id=user.id if user else None, to_address=address, subject=subject, body_text=text,
                      body_html=html, kind=kind)


def _queue(uow: db.UnitOfWork, mails: list[OutboxMail]) -> None:
    if not mails:
        return
    uow.session.add_all(mails)
    uow.session.flush()
    ids = [mail.id for mail in mails]
    uow.after_commit(lambda: outbox.deliver_pending(ids))


def render_mail(kind: str, values: dict[str, Any]) -> tuple[str, str]:
    """The text and HTML bodies: `emails/<kind>.*` when it exists, else the generic `emails/notice.*`.

    Flask's Jinja environment autoescapes `.html` and leaves `.txt` alone. Rendering the template
    directly (not `render_template`) keeps the page context processors, which need a request, out.
    """
    env = current_app.jinja_env
    text = env.select_template([f"emails/{kind}.txt", "emails/notice.txt"]).render(values)
    html = env.select_template([f"emails/{kind}.html", "emails/notice.html"]).render(values)
    return text.strip() + "\n", html


def unread_count(user_id: int | None) -> int:
    if user_id is None:
        return 0
    query = select(func.count()).select_from(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
    return db.session().scalar(query) or 0


def notices_for(principal: Principal, page: int, per_page: int = 25) -> Page[Notice]:
    """The principal's notices, newest first."""
    query = select(Notice).where(permissions.visible_notices(principal))
    return paginate(query.order_by(Notice.created_at.desc(), Notice.id.desc()), page, per_page)


def mark_read(principal: Principal, notice_id: int) -> None:
    with db.unit_of_work() as uow:
        notice = uow.session.get(Notice, notice_id)
        if notice is None or not permissions.can_see(principal, notice):
            raise NotFound("No such notice.")  # another person's notice is not revealed to exist
        if notice.read_at is None:
            notice.read_at = clock.now()


def mark_all_read(principal: Principal) -> int:
    """Mark every unread notice of the principal as read; returns how many were unread."""
    if not principal.is_authenticated:
        return 0
    with db.unit_of_work() as uow:
        result = uow.session.execute(
            update(Notice).where(permissions.visible_notices(principal), Notice.read_at.is_(None))
            .values(read_at=clock.now()))
        return result.rowcount
