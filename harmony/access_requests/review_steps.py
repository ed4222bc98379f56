"""What each review action does (declare-conflict, vote, ask-question, close-voting, decide), and the
tally a review stands at; `actions` runs them in the one order of operations."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from harmony import db
from harmony.access_requests import rules
from harmony.access_requests.committees import members
from harmony.access_requests.grant_steps import after_approval
from harmony.access_requests.models import (
    APPROVED,
    CANCELLED,
    DECIDED,
    PARTIALLY_APPROVED,
    REJECTED,
    REVIEW_DECIDED,
    VOTES,
    Committee,
    ProposalDataset,
    Question,
    Recusal,
    Review,
    Vote,
)
from harmony.access_requests.steps import MIN_REASON, SYSTEM, Step, applicants, move_proposal, roster, tell
from harmony.errors import InvalidTransition, StateConflict, ValidationError

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
        tell(step, roster(step.review.committee_id, chairs_only=True), "quorum-reached", "Quorum reached",
              f"The review has reached its quorum: {rules.describe(tally)}", f"/reviews/{step.review.id}")


def _ask_question(step: Step) -> None:
    step.session.add(Question(review_id=step.review.id, text=step.data.comment, asked_by=step.actor.user_id,
                              asked_at=step.now))
    tell(step, applicants(step.session, step.proposal), "question-asked", "A committee asks a question",
          "A data access committee asks you a question; the review waits for your answer.")


def _close_voting(step: Step) -> None:
    if step.actor is SYSTEM and step.now < step.review.deadline:
        raise InvalidTransition("The voting deadline has not passed yet.")
    tally = tally_of(step.review, step.session)
    step.review.closed_at, step.review.computed_outcome = step.now, tally.outcome
    step.payload.update(tally=rules.describe(tally), computed_outcome=tally.outcome)
    if step.actor is SYSTEM:
        tell(step, roster(step.review.committee_id, chairs_only=True), "deadline-passed", "Voting closed at the deadline",
              f"The voting deadline passed and voting is closed: {rules.describe(tally)}", f"/reviews/{step.review.id}")


def _decide(step: Step) -> None:
    tally = tally_of(step.review, step.session)
    computed = tally.outcome
    outcome = step.data.outcome or computed
    reason = step.data.reason or step.data.comment
    if outcome is None:
        raise StateConflict("The votes give no outcome yet.", {"outcome": [
            "The votes give no outcome (quorum not reached, or no approve or reject): choose approved or rejected "
            "and give the reason."]})
    overridden = outcome != computed
    if overridden and len(reason or "") < MIN_REASON:
        raise StateConflict("An override needs a reason.", {"reason": [
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
    # per dataset, so that what an amendment carries over approved from its original counts too
    step.session.flush()
    outcomes = set(step.session.scalars(select(ProposalDataset.outcome).where(
        ProposalDataset.proposal_id == step.proposal.id)))
    combined = APPROVED if outcomes == {APPROVED} else REJECTED if APPROVED not in outcomes else PARTIALLY_APPROVED
    before = step.proposal.state  # read first: the ORM UPDATE below also sets step.proposal.state
    tell(step, applicants(step.session, step.proposal), "proposal-decided", "Decision on your proposal",
          f"The committees have decided: {combined.replace('_', ' ')}. Read the decision letter.",
          f"/requests/{step.proposal.id}/decision")
    after = DECIDED if combined == REJECTED else after_approval(step)
    move_proposal(step, before, after, outcome=combined, decided_at=step.now)
    step.payload["proposal"] = {"from": before, "to": after, "outcome": combined}


REVIEW_HANDLERS: dict[str, Callable[[Step], None]] = {
    "declare-conflict": _declare_conflict, "vote": _vote, "ask-question": _ask_question,
    "close-voting": _close_voting, "decide": _decide,
}


