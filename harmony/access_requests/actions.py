"""Running the workflow's actions. One order of operations for every action:

lock the proposal (which reserves the event number) → check that the person may see it, that the
action exists, that they stand in a relation the action names (403) and that the state allows it
(409) → validate the input (422) → compare-and-set the state → append one audit event → write the
notifications to the outbox. All in one transaction; mails go out after commit.
"""

from __future__ import annotations

from sqlalchemy import select, update

from harmony import clock, db
from harmony.access_requests import audit, permissions, workflow
from harmony.access_requests.models import VOTING, Proposal, Review
from harmony.access_requests.proposal_steps import PROPOSAL_HANDLERS
from harmony.access_requests.proposals import standing
from harmony.access_requests.review_steps import REVIEW_HANDLERS, tally_of  # noqa: F401  (tally_of: for the readers)
from harmony.access_requests.steps import SYSTEM, ActionInput, Step, move_proposal, record  # noqa: F401
from harmony.accounts.permissions import Principal
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError

# --- running an action ----------------------------------------------------------------------


def act_on_proposal(actor: Principal, proposal_id: int, name: str, data: ActionInput) -> Proposal:
    action = workflow.PROPOSAL_ACTIONS.get(name)
    if action is None:
        raise NotFound(f"A proposal has no action {name!r}; see the proposal's `actions`.")
    with db.unit_of_work() as uow:
        proposal = audit.lock(uow.session, proposal_id)
        found = standing(actor, proposal, uow.session)
        if actor is not SYSTEM and not permissions.can_view_proposal(found, proposal):
            raise NotFound("No such proposal.")
        relations = {workflow.SYSTEM} if actor is SYSTEM else permissions.proposal_relations(found, proposal)
        _check(action, proposal.state, relations)
        step = Step(uow.session, uow, actor, proposal, action, data, None, clock.now(), {}, {})
        _require_comment(step)
        before = proposal.state
        PROPOSAL_HANDLERS[name](step)
        after = step.to_state or action.leads_to(before)
        move_proposal(step, before, after, **step.values)
        record(step, before, after)
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
        record(step, before, after)
    return db.session().get(Review, review_id, populate_existing=True)


def _check(action: workflow.Action, state: str, relations: set[str]) -> None:
    if not action.who & relations:
        raise PermissionDenied(f"You may not {action.label.lower()} here.")
    if state not in action.from_states:
        raise InvalidTransition(f"Cannot {action.label.lower()}: it is {workflow.state_label(action.target, state).lower()}.")


def _require_comment(step: Step) -> None:
    if step.action.needs_comment and not step.data.comment:
        raise ValidationError(fields={"comment": [f"Write a comment: {step.action.label.lower()} needs one."]})


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
