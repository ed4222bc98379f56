"""Who may see and do what with proposals and reviews.

A person's `Standing` towards one proposal (applicant, co-applicant, coordinator, admin, the
reviewing committees they sit on, the reviews they are recused from) is read once by the services;
the predicates here turn it into the workflow's relations, so that a button, an action and a list
ask the same question (`workflow.allowed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, select

from harmony.access_requests import workflow
from harmony.access_requests.models import (
    CLOSED,
    DELETED,
    DRAFT,
    REVIEW_DECIDED,
    CoApplicant,
    Proposal,
    ProposalDataset,
    Review,
)
from harmony.accounts.permissions import Principal


@dataclass(frozen=True)
class Standing:
    principal: Principal
    applicant: bool = False
    co_applicant: bool = False
    # committees with a review of it, or governing a dataset it carries over from its original (an amendment)
    reviewing_committees: frozenset[int] = field(default_factory=frozenset)
    recused_reviews: frozenset[int] = field(default_factory=frozenset)
    recused_committees: frozenset[int] = field(default_factory=frozenset)  # of the reviews recused from
    voted_reviews: frozenset[int] = field(default_factory=frozenset)

    def member_of(self, committee_id: int) -> bool:
        return committee_id in self.principal.scopes("member", "committee")

    def chair_of(self, committee_id: int) -> bool:
        return committee_id in self.principal.scopes("chair", "committee")


def committees_of(principal: Principal) -> set[int]:
    """Committees where the person is a member (chairs are members too)."""
    return principal.scopes("member", "committee")


def proposal_relations(standing: Standing, proposal: Proposal) -> set[str]:
    relations = set()
    if standing.applicant:
        relations.add(workflow.APPLICANT)
    if standing.co_applicant:
        relations.add(workflow.CO_APPLICANT)
    if standing.principal.is_coordinator:
        relations.add(workflow.COORDINATOR)
    if standing.principal.is_admin:
        relations.add(workflow.ADMIN)
    if chaired_committees(standing):
        relations.add(workflow.CHAIR)
    return relations


def chaired_committees(standing: Standing) -> set[int]:
    """The proposal's reviewing committees the person chairs and is not recused in (a chair acts on their
    committee's datasets; a recused chair not at all)."""
    return (set(standing.reviewing_committees) & standing.principal.scopes("chair", "committee")) \
        - standing.recused_committees


def review_relations(standing: Standing, review: Review) -> set[str]:
    """Member and chair count only for the review's own committee, and not once recused (a committee
    whose chair is recused needs another chair appointed, as a role grant, to decide)."""
    relations = set()
    if review.id in standing.recused_reviews:
        return relations
    if standing.member_of(review.committee_id):
        relations.add(workflow.MEMBER)
    if standing.chair_of(review.committee_id):
        relations.add(workflow.CHAIR)
    return relations


def can_view_proposal(standing: Standing, proposal: Proposal) -> bool:
    """Applicants and co-applicants always; coordinators and admins once submitted; committee members
    once their committee reviews it."""
    if proposal.state == DELETED:
        return standing.applicant
    if standing.applicant or standing.co_applicant:
        return True
    if proposal.state != DRAFT and (standing.principal.is_coordinator or standing.principal.is_admin):
        return True
    return bool(standing.reviewing_committees & committees_of(standing.principal))


def can_edit_proposal(standing: Standing, proposal: Proposal) -> bool:
    """The form can be changed while it is with the applicants."""
    return (standing.applicant or standing.co_applicant) and proposal.state in workflow.EDITABLE_STATES


def can_view_review(standing: Standing, review: Review) -> bool:
    return (standing.member_of(review.committee_id) or standing.principal.is_coordinator
            or standing.principal.is_admin)


def can_see_votes(standing: Standing, review: Review) -> bool:
    """Members see the others' votes after their own vote or recusal, so nobody is swayed; the chair,
    coordinators and admins always; everyone who may see the review once voting is over."""
    if not can_view_review(standing, review):
        return False
    if standing.chair_of(review.committee_id) or standing.principal.is_coordinator or standing.principal.is_admin:
        return True
    if review.state in (CLOSED, REVIEW_DECIDED):
        return True
    return review.id in standing.voted_reviews or review.id in standing.recused_reviews


def can_see_recusal_reasons(standing: Standing, review: Review) -> bool:
    """Why a member is recused is for the chair, coordinators and admins (the form says so) and the member;
    the other members see only that they are."""
    return (standing.chair_of(review.committee_id) or standing.principal.is_coordinator
            or standing.principal.is_admin)


def can_see_tally(standing: Standing, review: Review) -> bool:
    return can_see_votes(standing, review)


def can_see_event(standing: Standing, action: str, review: Review | None) -> bool:
    """The applicants follow their proposal and each review's questions and decisions, not single
    votes; committee members follow their own committee's review; coordinators and admins all."""
    if standing.principal.is_coordinator or standing.principal.is_admin:
        return True
    if review is None:
        return True
    if standing.member_of(review.committee_id):
        return action not in ("vote", "declare-conflict") or can_see_votes(standing, review)
    if standing.applicant or standing.co_applicant:
        return action in ("ask-question", "decide", "close-voting")
    return False


def visible_proposals(principal: Principal) -> ColumnElement[bool]:
    """The query filter matching `can_view_proposal`, for lists."""
    if not principal.is_authenticated:
        return false()
    mine = or_(Proposal.applicant_id == principal.user_id,
               Proposal.id.in_(select(CoApplicant.proposal_id).where(CoApplicant.user_id == principal.user_id,
                                                                     CoApplicant.removed_at.is_(None))))
    clauses = [mine]
    if principal.is_coordinator or principal.is_admin:
        clauses.append(Proposal.state.not_in([DRAFT, DELETED]))
    committees = committees_of(principal)
    if committees:
        clauses.append(Proposal.id.in_(select(Review.proposal_id).where(Review.committee_id.in_(committees))))
        clauses.append(Proposal.id.in_(select(ProposalDataset.proposal_id).where(
            ProposalDataset.committee_id.in_(committees))))
    return (or_(*clauses)) & ((Proposal.state != DELETED) | (Proposal.applicant_id == principal.user_id))


def can_screen(principal: Principal) -> bool:
    return principal.is_coordinator or principal.is_admin


def can_manage_committees(principal: Principal) -> bool:
    return principal.is_admin


def can_read_grants_of(principal: Principal, user_id: int) -> bool:
    """Entitlements and passports: the person themself, admins, and data platforms' service tokens."""
    return principal.user_id == user_id or principal.is_admin or principal.is_service


def can_read_all_grants(principal: Principal) -> bool:
    return principal.is_admin or principal.is_service
