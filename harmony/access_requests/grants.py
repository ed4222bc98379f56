"""Grants: who may use which dataset through which proposal, and until when.

Grants are made when a proposal becomes active and end early or at their end date; every change is
part of a workflow action (so it has its audit event) and is told to the registered data platforms
through `GRANT_LISTENERS`, which run inside the action's transaction (they write outbox rows).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from harmony import clock, db
from harmony.access_requests.content import TIME_LIMIT_MONTHS, TS
from harmony.access_requests.models import (
    AMENDMENT,
    APPROVED,
    CoApplicant,
    Grant,
    Proposal,
    ProposalDataset,
)
from harmony.access_requests.proposals import published_content
from harmony.catalog.models import Dataset

# Told of every grant that starts or ends: listener(session, event, grants) with event "started",
# "ended" or "revoked". Data platforms' webhooks register here.
GrantListener = Callable[[Session, str, list[Grant]], None]
GRANT_LISTENERS: list[GrantListener] = []

STARTED, ENDED, REVOKED_EVENT = "started", "ended", "revoked"


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def live(now: datetime | None = None) -> ColumnElement[bool]:
    """Grants that give access now: not ended, and their end still ahead (`tick` may not have run yet)."""
    now = now or clock.now()
    return and_(Grant.ended_at.is_(None), Grant.start <= now, Grant.end > now)


def _tell(session: Session, event: str, grants: list[Grant]) -> None:
    if grants:
        session.flush()
        for listener in GRANT_LISTENERS:
            listener(session, event, grants)


def _has_time_limit(dataset: Dataset) -> bool:
    return TS in (published_content(dataset).get("data_use") or [])


def people(session: Session, proposal: Proposal) -> list[int]:
    """The applicant and the co-applicants who joined and were not removed."""
    return [proposal.applicant_id, *session.scalars(select(CoApplicant.user_id).where(
        CoApplicant.proposal_id == proposal.id, CoApplicant.user_id.is_not(None),
        CoApplicant.accepted_at.is_not(None), CoApplicant.removed_at.is_(None)))]


def start_grants(session: Session, proposal: Proposal, now: datetime) -> list[Grant]:
    """A grant per person and approved dataset, from now for the requested duration (a dataset with a DUO time
    limit at most TIME_LIMIT_MONTHS). An amendment keeps the original's end. What the original still grants
    for these datasets ends now, replaced by these; the rest of the original (a dataset whose committee
    rejected the amendment) goes on."""
    months = int(proposal.content.get("duration_months") or TIME_LIMIT_MONTHS)
    rows = session.execute(select(ProposalDataset, Dataset).join(Dataset, Dataset.id == ProposalDataset.dataset_id)
                           .where(ProposalDataset.proposal_id == proposal.id, ProposalDataset.outcome == APPROVED)).all()
    parent_end = None
    if proposal.parent_id is not None:
        if proposal.kind == AMENDMENT:
            parent_end = session.scalar(select(Grant.end).where(Grant.proposal_id == proposal.parent_id)
                                        .order_by(Grant.end.desc()).limit(1))
        end_grants(session, and_(Grant.proposal_id == proposal.parent_id,
                                 Grant.dataset_id.in_([dataset.id for _link, dataset in rows])), "replaced", now)
    made, holders = [], people(session, proposal)
    for link, dataset in rows:
        end = add_months(now, min(months, TIME_LIMIT_MONTHS) if _has_time_limit(dataset) else months)
        if parent_end is not None:
            end = min(end, max(parent_end, now))
        for user_id in holders:
            grant = Grant(proposal_id=proposal.id, user_id=user_id, dataset_id=dataset.id,
                          committee_id=link.committee_id, start=now, end=end)
            session.add(grant)
            made.append(grant)
    _tell(session, STARTED, made)
    return made


def end_grants(session: Session, where: ColumnElement[bool], reason: str, now: datetime,
               revoked_by: int | None = None, revoke_reason: str | None = None) -> list[Grant]:
    """End the live grants matching `where` now (or at their end, when that has passed: expiry)."""
    grants = list(session.scalars(select(Grant).where(where, Grant.ended_at.is_(None))
                                  .order_by(Grant.id).with_for_update()))
    for grant in grants:
        grant.ended_at, grant.end_reason = min(now, grant.end), reason
        if revoked_by is not None or reason == "revoked":
            grant.revoked_at, grant.revoked_by, grant.revoke_reason = now, revoked_by, revoke_reason
    _tell(session, REVOKED_EVENT if reason == "revoked" else ENDED, grants)
    return grants


def live_count(session: Session, proposal_id: int, now: datetime) -> int:
    """The proposal's grants not ended yet (counted by the database)."""
    return session.scalar(select(func.count()).select_from(Grant).where(
        Grant.proposal_id == proposal_id, Grant.ended_at.is_(None), Grant.end > now))


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantView:
    grant: Grant
    dataset_pid: str
    dataset_title: str
    user_name: str

    @property
    def live(self) -> bool:
        return self.grant.ended_at is None and self.grant.end > clock.now()


def grants_of(proposal_id: int) -> list[GrantView]:
    """A proposal's grants, people and datasets named, for its page."""
    from harmony.accounts.models import User
    rows = db.session().execute(
        select(Grant, Dataset, User.display_name)
        .join(Dataset, Dataset.id == Grant.dataset_id).join(User, User.id == Grant.user_id)
        .where(Grant.proposal_id == proposal_id).order_by(Dataset.pid, User.display_name, Grant.id)).all()
    return [GrantView(grant, dataset.pid, (published_content(dataset) or dataset.content).get("title") or dataset.pid,
                      name) for grant, dataset, name in rows]
