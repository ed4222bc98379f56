"""The audit trail: an append-only chain of events per proposal, each carrying the hash of the one
before, so that a changed, removed or inserted event is found by `harmony audit verify`.

Events are appended only by the services, inside the transaction of the action they record, after
`lock` has bumped the proposal's `event_seq` (which also serialises the actions on one proposal).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harmony.access_requests.models import Proposal, ProposalEvent
from harmony.errors import NotFound

GENESIS = "0" * 64


def lock(session: Session, proposal_id: int) -> Proposal:
    """Take the proposal's row for this transaction and reserve the next event number.

    The UPDATE locks the row on PostgreSQL (SQLite's write transactions are serial already), so
    whatever the action reads next is current until it commits."""
    moved = session.execute(update(Proposal).where(Proposal.id == proposal_id)
                            .values(event_seq=Proposal.event_seq + 1)).rowcount
    if moved != 1:
        raise NotFound("No such proposal.")
    return session.get(Proposal, proposal_id, populate_existing=True)


def event_hash(event: ProposalEvent) -> str:
    fields = {
        "proposal": event.proposal_id, "seq": event.seq, "review": event.review_id, "actor": event.actor_id,
        "actor_name": event.actor_name, "action": event.action, "at": _instant(event.at),
        "from": event.from_state, "to": event.to_state, "comment": event.comment, "payload": event.payload or {},
        "prev": event.prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def append(session: Session, proposal: Proposal, *, actor_id: int | None, actor_name: str, action: str,
           at: datetime, from_state: str | None = None, to_state: str | None = None, comment: str | None = None,
           review_id: int | None = None, payload: dict[str, Any] | None = None) -> ProposalEvent:
    """Add the event numbered `proposal.event_seq` (reserved by `lock`), chained to the one before."""
    previous = session.scalar(select(ProposalEvent.hash).where(ProposalEvent.proposal_id == proposal.id,
                                                               ProposalEvent.seq == proposal.event_seq - 1))
    event = ProposalEvent(proposal_id=proposal.id, seq=proposal.event_seq, review_id=review_id, actor_id=actor_id,
                          actor_name=actor_name, action=action, at=at,
                          from_state=from_state, to_state=to_state, comment=comment,
                          payload=json.loads(json.dumps(payload or {})), prev_hash=previous or GENESIS, hash="")
    event.hash = event_hash(event)
    session.add(event)
    return event


@dataclass(frozen=True)
class Break:
    proposal_id: int
    seq: int
    problem: str


def verify(session: Session) -> Iterator[Break]:
    """The first broken link of each proposal's chain (a proposal with a sound chain yields nothing)."""
    proposal_ids = session.scalars(select(Proposal.id).order_by(Proposal.id)).all()
    for proposal_id in proposal_ids:
        found = verify_proposal(session, proposal_id)
        if found is not None:
            yield found


def verify_proposal(session: Session, proposal_id: int) -> Break | None:
    events = session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id)
                             .order_by(ProposalEvent.seq)).all()
    recorded = session.scalar(select(Proposal.event_seq).where(Proposal.id == proposal_id)) or 0
    previous = GENESIS
    for expected, event in enumerate(events, start=1):
        if event.seq != expected:
            return Break(proposal_id, expected, f"event {expected} is missing (found {event.seq} next)")
        if event.prev_hash != previous:
            return Break(proposal_id, event.seq, "does not follow from the event before it")
        if event_hash(event) != event.hash:
            return Break(proposal_id, event.seq, "was changed after it was written")
        previous = event.hash
    if len(events) != recorded:
        return Break(proposal_id, len(events) + 1, f"the trail ends at event {len(events)}, but {recorded} were written")
    return None
