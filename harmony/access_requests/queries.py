"""Reading proposals and reviews as one person sees them: what the pages and the API both show.

Everything a reader may not see is left out here, once, by the predicates in `permissions`, so the
HTML pages and the JSON API cannot differ in what they reveal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from harmony import db
from harmony.access_requests import permissions, rules, workflow
from harmony.access_requests.actions import tally_of
from harmony.access_requests.committees import members
from harmony.access_requests.content import Requirement, dataset_objections, requirements, submission_problems
from harmony.access_requests.grant_queries import AfterDecision, after_decision
from harmony.access_requests.models import (
    CANCELLED,
    QUESTION,
    REVIEW_DECIDED,
    SUBMITTED,
    VOTING,
    Attachment,
    CoApplicant,
    Committee,
    Proposal,
    ProposalEvent,
    Question,
    Recusal,
    Review,
    Vote,
)
from harmony.access_requests.permissions import Standing
from harmony.access_requests.proposals import datasets_of, get_proposal, published_content, standing
from harmony.accounts.models import User
from harmony.accounts.permissions import Principal
from harmony.catalog.models import PUBLISHED, Dataset, StudyGroup
from harmony.errors import NotFound, PermissionDenied
from harmony.pagination import Page, paginate


@dataclass
class RequestedDataset:
    dataset: Dataset
    content: dict[str, Any]
    group: StudyGroup
    committee: Committee | None
    outcome: str | None
    objections: list[str]


@dataclass
class ReviewSummary:
    review: Review
    committee: Committee
    actions: list[workflow.Action]


@dataclass
class ProposalDetail:
    proposal: Proposal
    standing: Standing
    applicant: User
    datasets: list[RequestedDataset]
    reviews: list[ReviewSummary]
    actions: list[workflow.Action]
    requirements: list[Requirement]
    problems: dict[str, list[str]]  # what would stop a submission now (applicants only)
    attachments: list[Attachment]
    co_applicants: list[CoApplicant]
    questions: list[tuple[Question, Committee]]
    editable: bool
    after: AfterDecision

    @property
    def waiting_on(self) -> tuple[str, str]:
        if self.proposal.state == "under_review" and any(s.review.state == QUESTION for s in self.reviews):
            return ("the applicant", "to answer a committee's question")
        return workflow.WAITING_ON[self.proposal.state]


def proposal_detail(viewer: Principal, proposal_id: int) -> ProposalDetail:
    proposal, found = get_proposal(viewer, proposal_id)
    session = db.session()
    groups = {group.id: group for group in session.scalars(select(StudyGroup))}
    committees = {committee.id: committee for committee in session.scalars(select(Committee))}
    requested = []
    for link, dataset in datasets_of(proposal.id):
        content = published_content(dataset) or dataset.content
        group = groups[dataset.group_id]
        committee = committees.get(link.committee_id or group.committee_id or 0)
        requested.append(RequestedDataset(dataset, content, group, committee, link.outcome,
                                          dataset_objections(content, proposal.content)))
    reviews = []
    for review in session.scalars(select(Review).where(Review.proposal_id == proposal.id).order_by(Review.id)):
        relations = permissions.review_relations(found, review)
        reviews.append(ReviewSummary(review, committees[review.committee_id],
                                     workflow.available(workflow.REVIEW_ACTIONS, review.state, relations)))
    relations = permissions.proposal_relations(found, proposal)
    actions = workflow.available(workflow.PROPOSAL_ACTIONS, proposal.state, relations)
    if not any(summary.review.state == QUESTION for summary in reviews):
        actions = [action for action in actions if action.name != "answer"]
    after = after_decision(session, proposal, viewer)
    co_applicants = list(session.scalars(select(CoApplicant).where(CoApplicant.proposal_id == proposal.id)
                                         .order_by(CoApplicant.id)))
    pointless = {"accept-agreement"} if after.accepted_everything else set()
    if not any(co.removed_at is None for co in co_applicants):
        pointless.add("remove-co-applicant")
    actions = [action for action in actions if action.name not in pointless]
    applicants = found.applicant or found.co_applicant
    attachments = list(session.scalars(select(Attachment).where(Attachment.proposal_id == proposal.id)
                                       .order_by(Attachment.uploaded_at)))
    usable = [(r.dataset.pid, r.content) for r in requested if r.dataset.state == PUBLISHED]
    problems = {}
    if applicants and proposal.state in workflow.EDITABLE_STATES:
        unavailable = [f"{r.dataset.pid} was withdrawn; remove it from the proposal." for r in requested
                       if r.dataset.state != PUBLISHED]
        problems = submission_problems(proposal.content, usable, {a.kind for a in attachments}, unavailable)
    questions = [(question, committees[review.committee_id]) for question, review in session.execute(
        select(Question, Review).join(Review, Review.id == Question.review_id)
        .where(Review.proposal_id == proposal.id).order_by(Question.asked_at)).all()]
    return ProposalDetail(
        proposal=proposal, standing=found, applicant=session.get(User, proposal.applicant_id), datasets=requested,
        reviews=reviews, actions=actions, requirements=requirements(usable), problems=problems,
        attachments=attachments,
        co_applicants=co_applicants,
        questions=questions, editable=permissions.can_edit_proposal(found, proposal), after=after)


@dataclass
class VoteView:
    voter: User
    vote: str
    comment: str | None
    cast_at: Any


@dataclass
class ReviewDetail:
    review: Review
    committee: Committee
    proposal: ProposalDetail
    standing: Standing
    actions: list[workflow.Action]
    my_vote: Vote | None
    recused: bool
    votes: list[VoteView] | None  # None: not to be seen yet
    recusals: list[tuple[User, Recusal]]
    tally: rules.Tally | None
    roster: list[Any] = field(default_factory=list)
    recusal_reasons: bool = False  # may the reader see why members are recused

    @property
    def datasets(self) -> list[RequestedDataset]:
        return [r for r in self.proposal.datasets if r.committee is not None and r.committee.id == self.committee.id]


def visible_review(viewer: Principal, review_id: int) -> tuple[Review, Proposal, Standing]:
    """The review, its proposal and the viewer's standing, if the viewer may see the review (404 otherwise)."""
    session = db.session()
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound("No such review.")
    proposal = session.get(Proposal, review.proposal_id)
    found = standing(viewer, proposal)
    if not permissions.can_view_review(found, review):
        raise NotFound("No such review.")
    return review, proposal, found


def review_detail(viewer: Principal, review_id: int) -> ReviewDetail:
    session = db.session()
    review, proposal, found = visible_review(viewer, review_id)
    detail = proposal_detail(viewer, proposal.id)
    relations = permissions.review_relations(found, review)
    my_vote = session.scalar(select(Vote).where(Vote.review_id == review.id, Vote.user_id == viewer.user_id))
    seen = permissions.can_see_votes(found, review)
    votes = None
    if seen:
        votes = [VoteView(user, vote.vote, vote.comment, vote.cast_at) for vote, user in session.execute(
            select(Vote, User).join(User, User.id == Vote.user_id).where(Vote.review_id == review.id)
            .order_by(User.display_name)).all()]
    recusals = [(user, recusal) for recusal, user in session.execute(
        select(Recusal, User).join(User, User.id == Recusal.user_id).where(Recusal.review_id == review.id)).all()]
    return ReviewDetail(review=review, committee=session.get(Committee, review.committee_id), proposal=detail,
                        standing=found, actions=workflow.available(workflow.REVIEW_ACTIONS, review.state, relations),
                        my_vote=my_vote, recused=review.id in found.recused_reviews, votes=votes, recusals=recusals,
                        tally=tally_of(review) if permissions.can_see_tally(found, review) else None,
                        roster=members(review.committee_id),
                        recusal_reasons=permissions.can_see_recusal_reasons(found, review))


@dataclass
class QueueItem:
    review: Review
    proposal: Proposal
    committee: Committee
    my_vote: str | None
    recused: bool
    votes_cast: int


def _reviews_of(committees: set[int]):
    return (select(Review, Proposal, Committee).join(Proposal, Proposal.id == Review.proposal_id)
            .join(Committee, Committee.id == Review.committee_id).where(Review.committee_id.in_(committees)))


def _queue_items(viewer: Principal, rows) -> list[QueueItem]:
    """Queue rows with the viewer's own vote or recusal and the number of votes, in three queries."""
    session = db.session()
    ids = [review.id for review, _p, _c in rows]
    mine = dict(session.execute(select(Vote.review_id, Vote.vote).where(Vote.review_id.in_(ids),
                                                                         Vote.user_id == viewer.user_id)).all())
    recused = set(session.scalars(select(Recusal.review_id).where(Recusal.review_id.in_(ids),
                                                                  Recusal.user_id == viewer.user_id)))
    counts = dict(session.execute(select(Vote.review_id, func.count()).where(Vote.review_id.in_(ids))
                                  .group_by(Vote.review_id)).all())
    return [QueueItem(review, proposal, committee, mine.get(review.id), review.id in recused, counts.get(review.id, 0))
            for review, proposal, committee in rows]


def review_queue(viewer: Principal) -> list[QueueItem]:
    """The open reviews of the viewer's committees: the ones that need them first, then by deadline."""
    committees = permissions.committees_of(viewer)
    if not committees:
        return []
    query = _reviews_of(committees).where(Review.state.not_in((REVIEW_DECIDED, CANCELLED)))
    items = _queue_items(viewer, db.session().execute(query.order_by(Review.deadline, Review.id)).all())
    items.sort(key=lambda item: (item.review.state != VOTING or item.my_vote is not None or item.recused,
                                 item.review.deadline))
    return items


def reviews_done(viewer: Principal, page: int = 1, per_page: int = 25) -> Page[QueueItem]:
    """The decided and cancelled reviews of the viewer's committees, newest first, a page at a time
    (they grow with the committee's history)."""
    committees = permissions.committees_of(viewer)
    if not committees:
        return Page([], 0, 1, per_page)
    query = _reviews_of(committees).where(Review.state.in_((REVIEW_DECIDED, CANCELLED)))
    found = paginate(query.order_by(Review.opened_at.desc(), Review.id.desc()), page, per_page)
    return Page(_queue_items(viewer, found.items), found.total, found.page, found.per_page)


def screening_queue(viewer: Principal) -> list[tuple[Proposal, User]]:
    """Submitted proposals waiting for the coordinator, oldest first."""
    if not permissions.can_screen(viewer):
        raise PermissionDenied("The screening queue is for coordinators.")
    return [(proposal, user) for proposal, user in db.session().execute(
        select(Proposal, User).join(User, User.id == Proposal.applicant_id).where(Proposal.state == SUBMITTED)
        .order_by(Proposal.submitted_at, Proposal.id)).all()]


def events_for(viewer: Principal, proposal_id: int) -> list[ProposalEvent]:
    """The audit trail as far as the viewer may follow it."""
    proposal, found = get_proposal(viewer, proposal_id)
    session = db.session()
    reviews = {review.id: review for review in session.scalars(select(Review).where(Review.proposal_id == proposal.id))}
    events = session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal.id)
                             .order_by(ProposalEvent.seq)).all()
    shown = []
    for event in events:
        review = reviews.get(event.review_id) if event.review_id else None
        if not permissions.can_see_event(found, event.action, review):
            continue
        if (event.action == "declare-conflict" and event.actor_id != viewer.user_id
                and not permissions.can_see_recusal_reasons(found, review)):
            event = ProposalEvent.model_validate(event.model_dump() | {"comment": None})  # a copy, never saved
        shown.append(event)
    return shown
