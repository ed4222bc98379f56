"""Running the workflow's actions. One order of operations for every action:

lock the proposal (which reserves the event number) → check that the person may see it, that the
action exists, that they stand in a relation the action names (403) and that the state allows it
(409) → validate the input (422) → compare-and-set the state → append one audit event → write the
notifications to the outbox. All in one transaction; mails go out after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from harmony import clock, db
from harmony.access_requests import audit, permissions, rules, workflow
from harmony.access_requests.committees import members
from harmony.access_requests.content import FIELD_LABELS, diff, submission_problems
from harmony.access_requests.models import (
    APPROVED, CANCELLED, DECIDED, PARTIALLY_APPROVED, QUESTION, REJECTED, REVIEW_DECIDED, VOTES, VOTING,
    Attachment, CoApplicant, Committee, Proposal, ProposalDataset, Question, Recusal, Review, Vote,
)
from harmony.access_requests.proposals import datasets_of, published_content, standing
from harmony.accounts.models import RoleGrant, User
from harmony.accounts.permissions import Principal
from harmony.catalog.models import PUBLISHED, StudyGroup
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
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

    @field_validator("comment", "reason", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

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


# --- running an action ----------------------------------------------------------------------


def act_on_proposal(actor: Principal, proposal_id: int, name: str, data: ActionInput) -> Proposal:
    action = workflow.PROPOSAL_ACTIONS.get(name)
    if action is None:
        raise NotFound(f"A proposal has no action {name!r}; see the proposal's `actions`.")
    with db.unit_of_work() as uow:
        proposal = audit.lock(uow.session, proposal_id)
        found = standing(actor, proposal, uow.session)
        if not permissions.can_view_proposal(found, proposal):
            raise NotFound("No such proposal.")
        _check(action, proposal.state, permissions.proposal_relations(found, proposal))
        step = Step(uow.session, uow, actor, proposal, action, data, None, clock.now(), {}, {})
        _require_comment(step)
        before = proposal.state
        PROPOSAL_HANDLERS[name](step)
        _move_proposal(step, before, action.leads_to(before), **step.values)
        _record(step, before, action.leads_to(before))
    return db.session().get(Proposal, proposal_id, populate_existing=True)


def act_on_review(actor: Principal, review_id: int, name: str, data: ActionInput) -> Review:
    action = workflow.REVIEW_ACTIONS.get(name)
    if action is None:
        raise NotFound(f"A review has no action {name!r}; see the review's `actions`.")
    proposal_id = db.session().scalar(select(Review.proposal_id).where(Review.id == review_id))
    if proposal_id is None:
        raise NotFound("No such review.")
    with db.unit_of_work() as uow:
        proposal = audit.lock(uow.session, proposal_id)
        review = uow.session.get(Review, review_id, populate_existing=True)
        found = standing(actor, proposal, uow.session)
        relations = {workflow.SYSTEM} if actor is SYSTEM else permissions.review_relations(found, review)
        if actor is not SYSTEM and not permissions.can_view_review(found, review):
            raise NotFound("No such review.")
        _check(action, review.state, relations)
        step = Step(uow.session, uow, actor, proposal, action, data, review, clock.now(), {}, {})
        _require_comment(step)
        before = review.state
        REVIEW_HANDLERS[name](step)
        after = action.leads_to(before)
        if after != before:
            moved = uow.session.execute(update(Review).where(Review.id == review_id, Review.state == before)
                                        .values(state=after)).rowcount
            if moved != 1:
                raise Conflict("The review changed meanwhile; reload it.")
        _record(step, before, after)
    return db.session().get(Review, review_id, populate_existing=True)


def _check(action: workflow.Action, state: str, relations: set[str]) -> None:
    if not action.who & relations:
        raise PermissionDenied(f"You may not {action.label.lower()} here.")
    if state not in action.from_states:
        raise InvalidTransition(f"Cannot {action.label.lower()}: it is {workflow.STATE_LABELS.get(state, state).lower()}.")


def _require_comment(step: Step) -> None:
    if step.action.needs_comment and not step.data.comment:
        raise ValidationError(fields={"comment": [f"Write a comment: {step.action.label.lower()} needs one."]})


def _move_proposal(step: Step, before: str, after: str, **values: Any) -> None:
    if after == before and not values:
        return
    values = {"updated_at": step.now, **values}
    if after != before:
        values.update(state=after, state_changed_at=step.now)
    moved = step.session.execute(update(Proposal).where(Proposal.id == step.proposal.id, Proposal.state == before)
                                 .values(**values)).rowcount
    if moved != 1:
        raise Conflict("The proposal changed meanwhile; reload it.")


def _record(step: Step, before: str, after: str) -> None:
    audit.append(step.session, step.proposal, actor_id=step.actor.user_id, actor_name=step.actor.display_name,
                 action=step.action.name, at=step.now, from_state=before, to_state=after, comment=step.data.comment,
                 review_id=step.review.id if step.review else None, payload=step.payload)


# --- whom to tell ---------------------------------------------------------------------------


def _applicants(session: Session, proposal: Proposal) -> list[User]:
    ids = [proposal.applicant_id, *session.scalars(select(CoApplicant.user_id).where(
        CoApplicant.proposal_id == proposal.id, CoApplicant.user_id.is_not(None)))]
    return list(session.scalars(select(User).where(User.id.in_(ids))))


def _coordinators(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                                .where(RoleGrant.role == "coordinator", RoleGrant.scope_kind == "platform")))


def _roster(committee_id: int, chairs_only: bool = False) -> list[User]:
    return [member.user for member in members(committee_id) if member.chair or not chairs_only]


def _tell(step: Step, users: list[User], kind: str, subject: str, summary: str, link: str | None = None) -> None:
    title = step.proposal.content.get("title") or f"Proposal {step.proposal.id}"
    notify(step.uow, users, kind, subject=f"{subject}: {title}"[:300], summary=summary,
           link=link or f"/requests/{step.proposal.id}", context={"proposal": step.proposal, "comment": step.data.comment})


# --- proposal actions -----------------------------------------------------------------------


def _unavailable(session: Session, proposal: Proposal) -> tuple[list[tuple[str, dict]], list[str]]:
    """The requested datasets' published content, and why any of them cannot be reviewed."""
    usable, problems = [], []
    groups = {group.id: group for group in session.scalars(select(StudyGroup))}
    for _link, dataset in datasets_of(proposal.id, session):
        if dataset.state != PUBLISHED:
            problems.append(f"{dataset.pid} was withdrawn; remove it from the proposal.")
        elif groups[dataset.group_id].committee_id is None:
            problems.append(f"{dataset.pid}: its study group has no data access committee yet; ask the data office.")
        else:
            usable.append((dataset.pid, published_content(dataset)))
    return usable, problems


def _submit(step: Step) -> None:
    usable, unavailable = _unavailable(step.session, step.proposal)
    kinds = set(step.session.scalars(select(Attachment.kind).where(Attachment.proposal_id == step.proposal.id)))
    problems = submission_problems(step.proposal.content, usable, kinds, unavailable)
    if problems:
        raise ValidationError("The proposal cannot be submitted yet; every problem is listed.", problems)
    step.values["submitted_at"] = step.now
    _tell(step, _coordinators(step.session), "proposal-submitted", "Proposal submitted for screening",
          f"{step.actor.display_name} submitted a proposal; it waits for screening.", "/screening")


def _snapshot(session: Session, proposal: Proposal) -> dict[str, Any]:
    return {**proposal.content, "datasets": [dataset.pid for _link, dataset in datasets_of(proposal.id, session)]}


def _resubmit(step: Step) -> None:
    changes = diff(step.proposal.returned_content or {}, _snapshot(step.session, step.proposal))
    step.payload["changed"] = [FIELD_LABELS.get(key, key) for key, _old, _new in changes]
    _submit(step)


def _return(step: Step) -> None:
    step.values["returned_content"] = _snapshot(step.session, step.proposal)
    _tell(step, _applicants(step.session, step.proposal), "proposal-returned", "Proposal returned for revision",
          "The coordinator returned your proposal for revision.")


def _send_to_review(step: Step) -> None:
    usable, unavailable = _unavailable(step.session, step.proposal)
    if unavailable:
        raise ValidationError("The proposal cannot go to review.", {"datasets": unavailable})
    groups = {group.id: group.committee_id for group in step.session.scalars(select(StudyGroup))}
    links = datasets_of(step.proposal.id, step.session)
    by_committee: dict[int, list[str]] = {}
    for link, dataset in links:
        link.committee_id = groups[dataset.group_id]
        by_committee.setdefault(link.committee_id, []).append(dataset.pid)
    opened = []
    for committee_id, pids in sorted(by_committee.items()):
        committee = step.session.get(Committee, committee_id)
        review = Review(proposal_id=step.proposal.id, committee_id=committee_id, opened_at=step.now,
                        deadline=step.now + timedelta(days=committee.voting_days))
        step.session.add(review)
        step.session.flush()
        opened.append({"review": review.id, "committee": committee.name, "datasets": pids,
                       "deadline": review.deadline.isoformat()})
        _tell(step, _roster(committee_id), "review-opened", "A proposal to review",
              f"{committee.name} is asked to review a proposal (datasets {', '.join(pids)}) by "
              f"{review.deadline:%d %B %Y}.", f"/reviews/{review.id}")
    step.payload["reviews"] = opened


def _answer(step: Step) -> None:
    waiting = step.session.scalars(select(Review).where(Review.proposal_id == step.proposal.id,
                                                        Review.state == QUESTION)).all()
    if not waiting:
        raise InvalidTransition("No committee is waiting for an answer.")
    answered = []
    for review in waiting:
        question = step.session.scalar(select(Question).where(Question.review_id == review.id,
                                                              Question.answered_at.is_(None)))
        if question is not None:
            question.answer, question.answered_by, question.answered_at = step.data.comment, step.actor.user_id, step.now
        moved = step.session.execute(update(Review).where(Review.id == review.id, Review.state == QUESTION)
                                     .values(state=VOTING)).rowcount
        if moved != 1:
            raise Conflict("The review changed meanwhile; reload it.")
        answered.append(review.id)
        _tell(step, _roster(review.committee_id), "question-answered", "The applicant answered",
              "The applicant answered the committee's question; voting goes on.", f"/reviews/{review.id}")
    step.payload["reviews"] = answered


def _withdraw(step: Step) -> None:
    step.session.execute(update(Review).where(Review.proposal_id == step.proposal.id,
                                              Review.state.not_in((REVIEW_DECIDED, CANCELLED))).values(state=CANCELLED))
    _tell(step, _coordinators(step.session), "proposal-withdrawn", "Proposal withdrawn",
          f"{step.actor.display_name} withdrew a proposal.")


PROPOSAL_HANDLERS: dict[str, Callable[[Step], None]] = {
    "submit": _submit, "resubmit": _resubmit, "return": _return, "send-to-review": _send_to_review,
    "answer": _answer, "withdraw": _withdraw, "delete": lambda step: None,
}


# --- review actions -------------------------------------------------------------------------


def tally_of(review: Review, session: Session | None = None) -> rules.Tally:
    """The review's tally now: votes, the committee's roster, recusals, its rule and quorum."""
    session = session or db.session()
    committee = session.get(Committee, review.committee_id)
    roster = members(review.committee_id)
    votes = dict(session.execute(select(Vote.user_id, Vote.vote).where(Vote.review_id == review.id)).all())
    recused = set(session.scalars(select(Recusal.user_id).where(Recusal.review_id == review.id)))
    chair = next((member.user.id for member in roster if member.chair and member.user.id not in recused), None)
    return rules.tally(committee.rule, votes, {member.user.id for member in roster}, recused, committee.quorum, chair)


def _declare_conflict(step: Step) -> None:
    step.session.add(Recusal(review_id=step.review.id, user_id=step.actor.user_id, reason=step.data.comment,
                             declared_at=step.now))
    withdrawn = step.session.execute(delete(Vote).where(Vote.review_id == step.review.id,
                                                        Vote.user_id == step.actor.user_id)).rowcount
    if withdrawn:
        step.payload["vote_withdrawn"] = True


def _vote(step: Step) -> None:
    if step.data.vote is None:
        raise ValidationError(fields={"vote": [f"Choose one of {', '.join(VOTES)}."]})
    present = step.session.scalar(select(Vote).where(Vote.review_id == step.review.id,
                                                     Vote.user_id == step.actor.user_id))
    step.payload.update(vote=step.data.vote, previous=present.vote if present else None)
    if present is None:
        step.session.add(Vote(review_id=step.review.id, user_id=step.actor.user_id, vote=step.data.vote,
                              comment=step.data.comment, cast_at=step.now))
    else:
        present.vote, present.comment, present.cast_at = step.data.vote, step.data.comment, step.now
    step.session.flush()
    tally = tally_of(step.review, step.session)
    if tally.quorum_met and not step.review.quorum_notified:
        step.review.quorum_notified = True
        _tell(step, _roster(step.review.committee_id, chairs_only=True), "quorum-reached", "Quorum reached",
              f"The review has reached its quorum: {rules.describe(tally)}", f"/reviews/{step.review.id}")


def _ask_question(step: Step) -> None:
    step.session.add(Question(review_id=step.review.id, text=step.data.comment, asked_by=step.actor.user_id,
                              asked_at=step.now))
    _tell(step, _applicants(step.session, step.proposal), "question-asked", "A committee asks a question",
          "A data access committee asks you a question; the review waits for your answer.")


def _close_voting(step: Step) -> None:
    tally = tally_of(step.review, step.session)
    step.review.closed_at, step.review.computed_outcome = step.now, tally.outcome
    step.payload.update(tally=rules.describe(tally), computed_outcome=tally.outcome)
    if step.actor is SYSTEM:
        _tell(step, _roster(step.review.committee_id, chairs_only=True), "deadline-passed", "Voting closed at the deadline",
              f"The voting deadline passed and voting is closed: {rules.describe(tally)}", f"/reviews/{step.review.id}")


def _decide(step: Step) -> None:
    tally = tally_of(step.review, step.session)
    computed = tally.outcome
    outcome = step.data.outcome or computed
    reason = step.data.reason or step.data.comment
    if outcome is None:
        raise ValidationError("The votes give no outcome yet.", {"outcome": [
            "The votes give no outcome (quorum not reached, or no approve or reject): choose approved or rejected "
            "and give the reason."]})
    overridden = outcome != computed
    if overridden and len(reason or "") < MIN_REASON:
        raise ValidationError("An override needs a reason.", {"reason": [
            f"You are overriding the computed outcome ({computed or 'none'}): say why, in a sentence."]})
    review = step.review
    if review.closed_at is None:
        review.closed_at = step.now
    review.computed_outcome, review.outcome, review.overridden = computed, outcome, overridden
    review.decision_reason, review.decided_by, review.decided_at = reason, step.actor.user_id, step.now
    conditions = step.session.scalars(select(Vote.comment).where(
        Vote.review_id == review.id, Vote.vote == "approve-with-conditions", Vote.comment.is_not(None))).all()
    step.session.execute(update(ProposalDataset).where(ProposalDataset.proposal_id == step.proposal.id,
                                                       ProposalDataset.committee_id == review.committee_id)
                         .values(outcome=outcome))
    step.payload.update(outcome=outcome, computed_outcome=computed, overridden=overridden, reason=reason,
                        tally=rules.describe(tally), conditions=list(conditions))
    _decide_proposal_when_complete(step)


def _decide_proposal_when_complete(step: Step) -> None:
    others = step.session.execute(select(Review.id, Review.state, Review.outcome).where(
        Review.proposal_id == step.proposal.id, Review.state != CANCELLED)).all()
    outcomes = [step.review.outcome if review_id == step.review.id else outcome for review_id, state, outcome in others
                if review_id == step.review.id or state == REVIEW_DECIDED]
    if len(outcomes) < len(others):
        return
    combined = APPROVED if set(outcomes) == {APPROVED} else REJECTED if set(outcomes) == {REJECTED} else PARTIALLY_APPROVED
    _move_proposal(step, step.proposal.state, DECIDED, outcome=combined, decided_at=step.now)
    step.payload["proposal"] = {"from": step.proposal.state, "to": DECIDED, "outcome": combined}
    _tell(step, _applicants(step.session, step.proposal), "proposal-decided", "Decision on your proposal",
          f"The committees have decided: {combined.replace('_', ' ')}. Read the decision letter.",
          f"/requests/{step.proposal.id}/decision")


REVIEW_HANDLERS: dict[str, Callable[[Step], None]] = {
    "declare-conflict": _declare_conflict, "vote": _vote, "ask-question": _ask_question,
    "close-voting": _close_voting, "decide": _decide,
}


def close_overdue_reviews() -> list[int]:
    """Close the voting of every review whose deadline has passed (`harmony requests tick`); safe to
    run twice at once: the second finds the review closed and skips it."""
    due = db.session().scalars(select(Review.id).where(Review.state == VOTING, Review.deadline <= clock.now())).all()
    closed = []
    for review_id in due:
        try:
            act_on_review(SYSTEM, review_id, "close-voting", ActionInput())
        except (InvalidTransition, Conflict):
            continue
        closed.append(review_id)
    return closed
