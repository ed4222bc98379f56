"""Entitlements: the grants as data platforms check them, one item per person × dataset × proposal.

A person reads their own; admins and data platforms (service tokens) read everyone's. The same item
is the API's JSON, a row of its CSV and an entry of the webhooks' bodies (harmony.platforms.webhooks),
so a platform that mirrors the API and one that listens to the webhooks see the same thing.

Filters (`GET /api/v1/entitlements`):
- `user`: the person's subject at their identity provider (the `sub` a platform sees when they sign
  in there), with `iss` to name the provider when several know that subject. Someone who may read only
  their own grants and names anyone else gets 403, whether that person exists or not.
- `dataset`: a PID (HM-000001) or its PID URL (the `dataset` of an item).
- `active`: true for the grants that give access now (`grants.live`), false for the rest (not yet
  started, ended, revoked, or past their end before `harmony requests tick` ended them).
Items come oldest grant first (by id), so paging is stable while new grants are made.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, not_, select
from sqlalchemy.orm import Session

from harmony import clock, db
from harmony.access_requests.grants import live
from harmony.access_requests.models import Grant
from harmony.access_requests.permissions import can_read_all_grants, can_read_grants_of
from harmony.accounts.models import Identity, User
from harmony.accounts.permissions import Principal
from harmony.catalog.exports.builder import landing_url
from harmony.catalog.models import Dataset
from harmony.errors import PermissionDenied
from harmony.pagination import LARGEST_PAGE, LAST_PAGE_NUMBER, Page, paginate

PID = re.compile(r"^HM-[0-9]{6}$")
CSV_BATCH = 500
CSV_COLUMNS = ("grant_id", "user_issuer", "user_subject", "user_email", "dataset", "proposal_id", "proposal_url",
               "start", "end", "ended_at", "end_reason", "revoked_at", "active")
# A cell a spreadsheet would read as a formula (OWASP "CSV injection"), also in their full-width forms.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class EntitlementQuery(BaseModel):
    """The query string of GET /api/v1/entitlements, validated once (422 names each bad field)."""

    model_config = ConfigDict(extra="ignore")
    user: str | None = Field(default=None, max_length=255, description="A subject at the identity provider.")
    iss: str | None = Field(default=None, max_length=255, description="The provider (issuer) of `user`.")
    dataset: str | None = Field(default=None, description="A PID, or its PID URL.")
    active: bool | None = None
    page: int = Field(default=1, ge=1, le=LAST_PAGE_NUMBER)
    per_page: int = Field(default=25, ge=1, le=LARGEST_PAGE)

    @field_validator("user", "iss", "dataset", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("dataset")
    @classmethod
    def _pid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        pid = value.rstrip("/").rsplit("/datasets/", 1)[-1] if "/datasets/" in value else value
        if not PID.match(pid):
            raise ValueError("a dataset PID such as HM-000001, or its PID URL")
        return pid


def query_for(viewer: Principal, wanted: EntitlementQuery) -> Select[Any]:
    """The ordered query of the entitlements `viewer` asked for and may read. A person who may read only
    their own and names someone else is refused (403); without a `user` filter they get their own."""
    if not (viewer.is_authenticated or viewer.is_service):
        raise PermissionDenied("Sign in, or send a personal API token or a data platform's service token.")
    query = _select()
    if wanted.user is not None:
        named = select(Identity.user_id).where(Identity.subject == wanted.user)
        if wanted.iss is not None:
            named = named.where(Identity.issuer == wanted.iss)
        ids = set(db.session().scalars(named))
        readable = {user_id for user_id in ids if can_read_grants_of(viewer, user_id)}
        if not can_read_all_grants(viewer) and not readable:
            raise PermissionDenied("You may read only your own entitlements.")
        query = query.where(Grant.user_id.in_(readable))
    elif not can_read_all_grants(viewer):
        query = query.where(Grant.user_id == viewer.user_id)
    if wanted.dataset is not None:
        query = query.where(Dataset.pid == wanted.dataset)
    if wanted.active is not None:
        now = clock.now()
        query = query.where(live(now) if wanted.active else not_(live(now)))
    return query.order_by(Grant.id)


def page_of(query: Select[Any], page: int, per_page: int) -> Page[dict[str, Any]]:
    """One page of `query_for`'s entitlements, as items."""
    found = paginate(query, page, per_page)
    now = clock.now()
    return Page([_item(row, now) for row in found.items], found.total, found.page, found.per_page)


def each(query: Select[Any], batch: int = CSV_BATCH) -> Iterator[dict[str, Any]]:
    """Every entitlement of `query_for`'s query, read a batch at a time (by grant id, so a grant made
    meanwhile is not read twice)."""
    after = 0
    now = clock.now()
    while True:
        rows = db.session().execute(query.where(Grant.id > after).limit(batch)).all()
        for row in rows:
            yield _item(tuple(row), now)
        if len(rows) < batch:
            return
        after = rows[-1][0].id


def items_of(session: Session, grant_ids: Iterable[int], now: datetime | None = None) -> list[dict[str, Any]]:
    """These grants as entitlement items, read in `session` (the webhooks: inside the action's transaction)."""
    ids = list(grant_ids)
    if not ids:
        return []
    now = now or clock.now()
    rows = session.execute(_select().where(Grant.id.in_(ids)).order_by(Grant.id)).all()
    return [_item(tuple(row), now) for row in rows]


# --- the item --------------------------------------------------------------------------------


def _select() -> Select[Any]:
    """Grants with their person (the identity they signed in with first) and dataset."""
    first = (select(Identity.user_id, func.min(Identity.id).label("identity_id"))
             .group_by(Identity.user_id).subquery())
    return (select(Grant, Identity.issuer, Identity.subject, User.email, Dataset.pid)
            .join(User, User.id == Grant.user_id)
            .join(first, first.c.user_id == Grant.user_id, isouter=True)
            .join(Identity, Identity.id == first.c.identity_id, isouter=True)
            .join(Dataset, Dataset.id == Grant.dataset_id))


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _item(row: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    grant, issuer, subject, email, pid = row
    base_url = current_app.config["BASE_URL"]
    return {
        "id": grant.id,
        "user": {"issuer": issuer, "subject": subject, "email": email},
        "dataset": landing_url(base_url, pid),
        "proposal": {"id": grant.proposal_id, "url": f"{base_url}/api/v1/requests/{grant.proposal_id}"},
        "start": iso(grant.start),
        "end": iso(grant.end),
        "ended_at": iso(grant.ended_at),
        "end_reason": grant.end_reason,
        "revoked_at": iso(grant.revoked_at),
        "active": grant.ended_at is None and grant.start <= now < grant.end,
    }


# --- CSV -----------------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A cell as text; one a spreadsheet would run as a formula is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(item: dict[str, Any]) -> list[str]:
    values = (item["id"], item["user"]["issuer"], item["user"]["subject"], item["user"]["email"], item["dataset"],
              item["proposal"]["id"], item["proposal"]["url"], item["start"], item["end"], item["ended_at"],
              item["end_reason"], item["revoked_at"], item["active"])
    return [csv_cell(value) for value in values]


def csv_lines(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header row, then one row per item (RFC 4180: CRLF line ends, quoted where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for number, item in enumerate(items, 1):
        writer.writerow(csv_row(item))
        if number % 100 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
