"""Committees, baskets, proposals with their datasets, co-applicants and attachments, reviews, votes,
questions, and the audit trail of every proposal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from harmony import clock
from harmony.access_requests.rules import APPROVED, REJECTED, RULES, VOTES  # noqa: F401  (for the services)
from harmony.db import UTCDateTime

# Proposal states (PRODUCT.md, "States of a proposal")
DRAFT, SUBMITTED, RETURNED, UNDER_REVIEW, DECIDED = "draft", "submitted", "returned", "under_review", "decided"
WITHDRAWN, DELETED = "withdrawn", "deleted"
# After an approval: the agreement is accepted, then grants are live until the project ends one way or another.
AGREEMENT, ACTIVE, FINISHED, EXPIRED, REVOKED = "agreement", "active", "closed", "expired", "revoked"
PROPOSAL_STATES = (DRAFT, SUBMITTED, RETURNED, UNDER_REVIEW, DECIDED, AGREEMENT, ACTIVE, FINISHED, EXPIRED, REVOKED,
                   WITHDRAWN, DELETED)
AFTER_APPROVAL = (DECIDED, AGREEMENT, ACTIVE, FINISHED, EXPIRED, REVOKED)  # where an approved proposal can be
# What a proposal is: a new project, or a renewal or amendment linked to the original (its `parent_id`)
NEW, RENEWAL, AMENDMENT = "new", "renewal", "amendment"
# Why a grant ended
GRANT_EXPIRED, GRANT_CLOSED, GRANT_REPLACED, GRANT_REMOVED, GRANT_REVOKED = (
    "expired", "closed", "replaced", "removed", "revoked")
# Review states: votes are cast while voting; a question pauses the review until the applicant answers.
VOTING, QUESTION, CLOSED, REVIEW_DECIDED, CANCELLED = "voting", "question", "closed", "decided", "cancelled"
REVIEW_STATES = (VOTING, QUESTION, CLOSED, REVIEW_DECIDED, CANCELLED)
# Outcomes; votes and rules are the decision rules' own (rules.py stays free of the database)
PARTIALLY_APPROVED = "partially_approved"


class Committee(SQLModel, table=True):
    """A data access committee: its members are role grants (member, chair) scoped to it."""

    __tablename__ = "committee"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), unique=True)
    rule: str = Field(default="majority", sa_type=String(30))
    # A whole number of votes (>= 1), or a fraction (< 1) of the members who are not recused.
    quorum: float = Field(default=0.5, sa_type=Float)
    voting_days: int = Field(default=14)
    answer_days: int = Field(default=14)  # for the applicant to answer the committee's question
    agreement_days: int = Field(default=30)  # for the applicants to accept the agreement
    agreement_version: int = Field(default=0)  # 0: no agreement text yet
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class CommitteeAgreement(SQLModel, table=True):
    """Each version of a committee's data access agreement, kept so that what was accepted can be shown."""

    __tablename__ = "committee_agreement"
    __table_args__ = (UniqueConstraint("committee_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="committee.id", index=True)
    version: int
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class BasketItem(SQLModel, table=True):
    """A dataset a signed-in researcher set aside for a proposal."""

    __tablename__ = "basket_item"
    __table_args__ = (UniqueConstraint("user_id", "dataset_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    added_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Proposal(SQLModel, table=True):
    """A research proposal. `content` holds the form's fields (ProposalContent); `state` moves only
    by the workflow's compare-and-set; `event_seq` numbers the audit events and is bumped first in
    every action, which also locks the row so that actions on one proposal run one at a time."""

    __tablename__ = "proposal"

    id: int | None = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="user_account.id", index=True)
    state: str = Field(default=DRAFT, sa_type=String(20), index=True)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    outcome: str | None = Field(default=None, sa_type=String(20))
    # what the coordinator returned, so the resubmission can show what changed
    returned_content: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    state_changed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    event_seq: int = Field(default=0)
    kind: str = Field(default=NEW, sa_type=String(20))
    parent_id: int | None = Field(default=None, foreign_key="proposal.id", index=True)  # renewal, amendment


class ProposalDataset(SQLModel, table=True):
    """A dataset a proposal asks for, the committee that governs it, and that committee's outcome."""

    __tablename__ = "proposal_dataset"
    __table_args__ = (UniqueConstraint("proposal_id", "dataset_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    dataset_id: int = Field(foreign_key="dataset.id")
    committee_id: int | None = Field(default=None)  # fixed when the proposal is sent to review
    outcome: str | None = Field(default=None, sa_type=String(20))


class CoApplicant(SQLModel, table=True):
    """Someone invited by e-mail to join a proposal; `user_id` is set when they accept after signing in."""

    __tablename__ = "co_applicant"
    __table_args__ = (UniqueConstraint("proposal_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    email: str = Field(sa_type=String(320))
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    invited_by: int = Field(foreign_key="user_account.id")
    invited_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # removed after the grants began


class Attachment(SQLModel, table=True):
    """A PDF attached to a proposal, stored outside the web root under a random name."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    kind: str = Field(sa_type=String(40))
    filename: str = Field(sa_type=String(200))  # the safe name it is downloaded as
    stored_name: str = Field(sa_type=String(64), unique=True)
    size: int
    sha256: str = Field(sa_type=String(64))
    uploaded_by: int = Field(foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Review(SQLModel, table=True):
    """One committee's review of one proposal, covering that committee's requested datasets."""

    __tablename__ = "review"
    __table_args__ = (UniqueConstraint("proposal_id", "committee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    committee_id: int = Field(foreign_key="committee.id", index=True)
    state: str = Field(default=VOTING, sa_type=String(20), index=True)
    deadline: datetime = Field(sa_type=UTCDateTime)
    opened_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    computed_outcome: str | None = Field(default=None, sa_type=String(20))  # at closing
    outcome: str | None = Field(default=None, sa_type=String(20))
    overridden: bool = Field(default=False)
    decision_reason: str | None = Field(default=None, sa_type=Text)
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    quorum_notified: bool = Field(default=False)


class Vote(SQLModel, table=True):
    """A member's current vote in a review (every change is also an audit event)."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    vote: str = Field(sa_type=String(30))
    comment: str | None = Field(default=None, sa_type=Text)
    cast_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Recusal(SQLModel, table=True):
    """A member's declared conflict of interest in one review: they neither vote nor count for the quorum."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    reason: str | None = Field(default=None, sa_type=Text)
    declared_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Question(SQLModel, table=True):
    """A committee's question to the applicant, and the answer."""

    __tablename__ = "question"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    text: str = Field(sa_type=Text)
    asked_by: int = Field(foreign_key="user_account.id")
    asked_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by: int | None = Field(default=None, foreign_key="user_account.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProposalEvent(SQLModel, table=True):
    """One action on a proposal, append-only. `hash` covers the event and the previous event's hash,
    so a changed or removed event breaks the chain (`harmony audit verify`)."""

    __tablename__ = "proposal_event"
    __table_args__ = (UniqueConstraint("proposal_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    seq: int
    review_id: int | None = Field(default=None)
    actor_id: int | None = Field(default=None)  # None: the system (deadlines) or the command line
    actor_name: str = Field(sa_type=String(200))
    action: str = Field(sa_type=String(40))
    at: datetime = Field(sa_type=UTCDateTime)
    from_state: str | None = Field(default=None, sa_type=String(20))
    to_state: str | None = Field(default=None, sa_type=String(20))
    comment: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(sa_type=String(64))
    hash: str = Field(sa_type=String(64))


class AgreementAcceptance(SQLModel, table=True):
    """One person's acceptance of one committee's data access agreement for one proposal, with the version
    they were shown (also an audit event)."""

    __tablename__ = "agreement_acceptance"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id", "committee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    committee_id: int = Field(foreign_key="committee.id")
    version: int
    accepted_at: datetime = Field(sa_type=UTCDateTime)


class Grant(SQLModel, table=True):
    """Access of one person to one dataset through one proposal, from `start` to `end`. A grant is live
    while `ended_at` is empty and `end` is ahead; ending it early (revocation, closing, replacement by a
    renewal or amendment, removal of a co-applicant) or at its end (`harmony requests tick`) sets
    `ended_at` and the reason."""

    __tablename__ = "access_grant"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id", "dataset_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    committee_id: int = Field(foreign_key="committee.id")
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    end_reason: str | None = Field(default=None, sa_type=String(20))
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: int | None = Field(default=None, foreign_key="user_account.id")
    revoke_reason: str | None = Field(default=None, sa_type=Text)


class FinalReport(SQLModel, table=True):
    """What the project produced and whether the data were deleted, filed by the applicant before the grants
    end; the register shows the publications."""

    __tablename__ = "final_report"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE", unique=True)
    publications: list[str] = Field(default_factory=list, sa_type=JSON)
    data_deleted: bool
    summary: str | None = Field(default=None, sa_type=Text)
    filed_by: int = Field(foreign_key="user_account.id")
    filed_at: datetime = Field(sa_type=UTCDateTime)


class SentReminder(SQLModel, table=True):
    """A reminder or escalation that went out, by a key naming what and when (e.g. `grant-end:12:30`):
    the unique key makes `harmony requests tick` send each one once, even when two run at once."""

    __tablename__ = "sent_reminder"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(120), unique=True)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", ondelete="CASCADE", index=True)
    sent_at: datetime = Field(sa_type=UTCDateTime)
