"""What every workflow action shares: its input, the step it works on, moving the proposal's state by
compare-and-set, and telling people (outbox rows in the same transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harmony import db
from harmony.access_requests import audit, workflow
from harmony.access_requests.committees import members
from harmony.access_requests.models import APPROVED, REJECTED, VOTES, CoApplicant, Proposal, Review
from harmony.accounts.models import RoleGrant, User
from harmony.accounts.permissions import Principal
from harmony.errors import Conflict
from harmony.notifications.services import notify

# `harmony requests tick` acts as the system: it may close voting when the deadline has passed.
SYSTEM = Principal(user_id=None, display_name="Harmony (deadline)", grants=frozenset())
MIN_REASON = 10


class ActionInput(BaseModel):
    """The body of `POST …/actions/<action>`: a comment for any action, and the vote or decision."""

    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=10000)
    vote: str | None = None
    outcome: str | None = None
    reason: str | None = Field(default=None, max_length=10000)
    # accept-agreement: the agreement versions the person was shown, by committee id (optional: the current ones)
    agreements: dict[int, int] | None = None
    # file-report
    publications: list[str] | None = Field(default=None, max_length=100)
    data_deleted: StrictBool | None = None
    # remove-co-applicant: the co-applicant's id; revoke: only this dataset (a PID; optional)
    co_applicant: int | None = Field(default=None, ge=1, le=2**31 - 1)
    dataset: str | None = Field(default=None, max_length=40)

    @field_validator("comment", "reason", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("publications")
    @classmethod
    def _publications(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [entry.strip() for entry in value if entry and entry.strip()]
        if any(len(entry) > 500 for entry in cleaned):
            raise ValueError("each publication at most 500 characters (a DOI, a PMID or a citation)")
        return cleaned

    @field_validator("vote")
    @classmethod
    def _vote(cls, value: str | None) -> str | None:
        if value is not None and value not in VOTES:
            raise ValueError(f"choose one of {', '.join(VOTES)}")
        return value

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str | None) -> str | None:
        if value is not None and value not in (APPROVED, REJECTED):
            raise ValueError("choose approved or rejected")
        return value


@dataclass
class Step:
    """What an action is about to do, handed to its handler."""

    session: Session
    uow: db.UnitOfWork
    actor: Principal
    proposal: Proposal
    action: workflow.Action
    data: ActionInput
    review: Review | None
    now: Any
    payload: dict[str, Any]
    values: dict[str, Any]  # columns the proposal's move also sets
    to_state: str | None = None  # set by a handler whose action's end depends on what it finds


def move_proposal(step: Step, before: str, after: str, **values: Any) -> None:
    if after == before and not values:
        return
    values = {"updated_at": step.now, **values}
    if after != before:
        values.update(state=after, state_changed_at=step.now)
    moved = step.session.execute(update(Proposal).where(Proposal.id == step.proposal.id, Proposal.state == before)
                                 .values(**values)).rowcount
    if moved != 1:
        raise Conflict("The proposal changed meanwhile; reload it.")


def record(step: Step, before: str, after: str) -> None:
    audit.append(step.session, step.proposal, actor_id=step.actor.user_id, actor_name=step.actor.display_name,
                 action=step.action.name, at=step.now, from_state=before, to_state=after, comment=step.data.comment,
                 review_id=step.review.id if step.review else None, payload=step.payload)


# --- whom to tell ---------------------------------------------------------------------------


def applicants(session: Session, proposal: Proposal) -> list[User]:
    ids = [proposal.applicant_id, *session.scalars(select(CoApplicant.user_id).where(
        CoApplicant.proposal_id == proposal.id, CoApplicant.user_id.is_not(None), CoApplicant.accepted_at.is_not(None),
        CoApplicant.removed_at.is_(None)))]
    return list(session.scalars(select(User).where(User.id.in_(ids))))


def coordinators(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                                .where(RoleGrant.role == "coordinator", RoleGrant.scope_kind == "platform")))


def roster(committee_id: int, chairs_only: bool = False) -> list[User]:
    return [member.user for member in members(committee_id) if member.chair or not chairs_only]


def tell(step: Step, users: list[User], kind: str, subject: str, summary: str, link: str | None = None) -> None:
    """A notice and a mail about the step's proposal: both name it, so that a list of notices reads well."""
    title = step.proposal.content.get("title") or f"Proposal {step.proposal.id}"
    notify(step.uow, users, kind, subject=f"{subject}: {title}"[:300], summary=f"“{title}”: {summary}",
           link=link or f"/requests/{step.proposal.id}", context={"proposal": step.proposal, "comment": step.data.comment})


