"""What each proposal action does besides moving the state (submit, resubmit, return, send-to-review,
answer, withdraw, delete); `actions` runs them in the one order of operations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harmony.access_requests.content import FIELD_LABELS, diff, submission_problems
from harmony.access_requests.grant_steps import GRANT_HANDLERS, carried_datasets
from harmony.access_requests.models import (
    AMENDMENT,
    APPROVED,
    CANCELLED,
    QUESTION,
    REVIEW_DECIDED,
    VOTING,
    Attachment,
    CoApplicant,
    Committee,
    Proposal,
    Question,
    Review,
)
from harmony.access_requests.proposals import datasets_of, published_content
from harmony.access_requests.steps import Step, applicants, coordinators, roster, tell
from harmony.catalog.models import PUBLISHED, StudyGroup
from harmony.errors import Conflict, InvalidTransition, StateConflict

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
        raise StateConflict("The proposal cannot be submitted yet; every problem is listed.", problems)
    step.values["submitted_at"] = step.now
    again = "resubmitted" if step.action.name == "resubmit" else "submitted"
    tell(step, coordinators(step.session), "proposal-submitted", f"Proposal {again} for screening",
         f"{step.actor.display_name} {again} the proposal; it waits for screening.", "/screening")


def _snapshot(session: Session, proposal: Proposal) -> dict[str, Any]:
    return {**proposal.content, "datasets": [dataset.pid for _link, dataset in datasets_of(proposal.id, session)]}


def _resubmit(step: Step) -> None:
    changes = diff(step.proposal.returned_content or {}, _snapshot(step.session, step.proposal))
    step.payload["changed"] = [FIELD_LABELS.get(key, key) for key, _old, _new in changes]
    _submit(step)


def _return(step: Step) -> None:
    step.values["returned_content"] = _snapshot(step.session, step.proposal)
    tell(step, applicants(step.session, step.proposal), "proposal-returned", "Proposal returned for revision",
          "The coordinator returned the proposal for revision.")


def _send_to_review(step: Step) -> None:
    usable, unavailable = _unavailable(step.session, step.proposal)
    if unavailable:
        raise StateConflict("The proposal cannot go to review.", {"datasets": unavailable})
    groups = {group.id: group.committee_id for group in step.session.scalars(select(StudyGroup))}
    links = datasets_of(step.proposal.id, step.session)
    by_committee: dict[int, list[str]] = {}
    for link, dataset in links:
        link.committee_id = groups[dataset.group_id]
        by_committee.setdefault(link.committee_id, []).append(dataset.pid)
    if step.proposal.kind == AMENDMENT:
        by_committee = _concerned(step, links, by_committee)
    opened = []
    for committee_id, pids in sorted(by_committee.items()):
        committee = step.session.get(Committee, committee_id)
        review = Review(proposal_id=step.proposal.id, committee_id=committee_id, opened_at=step.now,
                        deadline=step.now + timedelta(days=committee.voting_days))
        step.session.add(review)
        step.session.flush()
        opened.append({"review": review.id, "committee": committee.name, "datasets": pids,
                       "deadline": review.deadline.isoformat()})
        tell(step, roster(committee_id), "review-opened", "A proposal to review",
              f"{committee.name} is asked to review the proposal (datasets {', '.join(pids)}) by "
              f"{review.deadline:%d %B %Y}.", f"/reviews/{review.id}")
    step.payload["reviews"] = opened


def _concerned(step: Step, links: list, by_committee: dict[int, list[str]]) -> dict[int, list[str]]:
    """An amendment goes to the committees of the datasets it adds; to all when it adds a co-applicant (they
    would see every dataset) or changes the text (what the data are for). The datasets of the others stay
    approved as in the original."""
    parent = step.session.get(Proposal, step.proposal.parent_id)
    approved = set(carried_datasets(step.session, parent.id))
    before = set(step.session.scalars(select(CoApplicant.email).where(
        CoApplicant.proposal_id == parent.id, CoApplicant.accepted_at.is_not(None), CoApplicant.removed_at.is_(None))))
    now = set(step.session.scalars(select(CoApplicant.email).where(CoApplicant.proposal_id == step.proposal.id,
                                                                   CoApplicant.removed_at.is_(None))))
    if now - before or step.proposal.content != parent.content:
        return by_committee
    concerned = {link.committee_id for link, dataset in links if dataset.id not in approved}
    if not concerned:
        raise StateConflict("The amendment changes nothing.", {"datasets": [
            "Add a dataset or invite a co-applicant: that is what an amendment asks for."]})
    for link, _dataset in links:
        if link.committee_id not in concerned:
            link.outcome = APPROVED
    step.payload["carried_over"] = sorted(pid for committee, pids in by_committee.items() if committee not in concerned
                                          for pid in pids)
    return {committee: pids for committee, pids in by_committee.items() if committee in concerned}


def _answer(step: Step) -> None:
    waiting = step.session.scalars(select(Review).where(Review.proposal_id == step.proposal.id,
                                                        Review.state == QUESTION)).all()
    if not waiting:
        raise InvalidTransition("No committee is waiting for an answer.")
    answered = []
    for review in waiting:
        question = step.session.scalar(select(Question).where(Question.review_id == review.id,
                                                              Question.answered_at.is_(None)))
        deadline = review.deadline
        if question is not None:
            question.answer, question.answered_by, question.answered_at = step.data.comment, step.actor.user_id, step.now
            deadline += step.now - question.asked_at  # the wait for the answer does not eat the voting time
        moved = step.session.execute(update(Review).where(Review.id == review.id, Review.state == QUESTION)
                                     .values(state=VOTING, deadline=deadline)).rowcount
        if moved != 1:
            raise Conflict("The review changed meanwhile; reload it.")
        answered.append({"review": review.id, "deadline": deadline.isoformat()})
        tell(step, roster(review.committee_id), "question-answered", "The applicant answered",
              "The applicant answered the committee's question; voting goes on.", f"/reviews/{review.id}")
    step.payload["reviews"] = answered


def _withdraw(step: Step) -> None:
    step.session.execute(update(Review).where(Review.proposal_id == step.proposal.id,
                                              Review.state.not_in((REVIEW_DECIDED, CANCELLED))).values(state=CANCELLED))
    tell(step, coordinators(step.session), "proposal-withdrawn", "Proposal withdrawn",
          f"{step.actor.display_name} withdrew the proposal.")


PROPOSAL_HANDLERS: dict[str, Callable[[Step], None]] = {
    "submit": _submit, "resubmit": _resubmit, "return": _return, "send-to-review": _send_to_review,
    "answer": _answer, "withdraw": _withdraw, "delete": lambda step: None, **GRANT_HANDLERS,
}


