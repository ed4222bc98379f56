"""Proposals while they are written: the basket, drafts, their datasets and co-applicants, and reading
a proposal with what the reader may see. Workflow actions live in `actions`; attachments in `attachments`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from harmony import clock, db
from harmony.access_requests import audit, permissions, workflow
from harmony.access_requests.content import ProposalContent
from harmony.access_requests.models import (
    DRAFT,
    BasketItem,
    CoApplicant,
    Proposal,
    ProposalDataset,
    Recusal,
    Review,
    Vote,
)
from harmony.access_requests.permissions import Standing
from harmony.accounts.permissions import Principal
from harmony.catalog import services as catalog
from harmony.catalog.models import PUBLISHED, Dataset
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, StateConflict, ValidationError
from harmony.pagination import Page, paginate

MAX_DATASETS = 50


def standing(principal: Principal, proposal: Proposal, session: Session | None = None) -> Standing:
    """How the person stands towards the proposal, read in one go for every predicate."""
    session = session or db.session()
    if not principal.is_authenticated:
        return Standing(principal)
    co = session.scalar(select(CoApplicant.id).where(CoApplicant.proposal_id == proposal.id,
                                                     CoApplicant.user_id == principal.user_id,
                                                     CoApplicant.accepted_at.is_not(None),
                                                     CoApplicant.removed_at.is_(None)))
    reviews = session.execute(select(Review.id, Review.committee_id).where(Review.proposal_id == proposal.id)).all()
    review_ids = [review_id for review_id, _ in reviews]
    # an amendment's carried-over datasets keep their committee, which has no review of it: it still governs them
    governing = set(session.scalars(select(ProposalDataset.committee_id).where(
        ProposalDataset.proposal_id == proposal.id, ProposalDataset.committee_id.is_not(None))))
    recused = voted = frozenset()
    if review_ids:
        recused = frozenset(session.scalars(select(Recusal.review_id).where(
            Recusal.review_id.in_(review_ids), Recusal.user_id == principal.user_id)))
        voted = frozenset(session.scalars(select(Vote.review_id).where(
            Vote.review_id.in_(review_ids), Vote.user_id == principal.user_id)))
    return Standing(principal, applicant=proposal.applicant_id == principal.user_id, co_applicant=co is not None,
                    reviewing_committees=frozenset({committee for _, committee in reviews} | governing),
                    recused_reviews=recused, voted_reviews=voted,
                    recused_committees=frozenset(committee for review_id, committee in reviews if review_id in recused))


def get_proposal(viewer: Principal, proposal_id: int) -> tuple[Proposal, Standing]:
    """A proposal the viewer may see, with their standing; 404 otherwise, so drafts stay secret."""
    proposal = db.session().get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    found = standing(viewer, proposal)
    if not permissions.can_view_proposal(found, proposal):
        raise NotFound("No such proposal.")
    return proposal, found


def datasets_of(proposal_id: int, session: Session | None = None) -> list[tuple[ProposalDataset, Dataset]]:
    session = session or db.session()
    rows = session.execute(select(ProposalDataset, Dataset).join(Dataset, Dataset.id == ProposalDataset.dataset_id)
                           .where(ProposalDataset.proposal_id == proposal_id).order_by(Dataset.pid)).all()
    return [(link, dataset) for link, dataset in rows]


def published_content(dataset: Dataset) -> dict[str, Any]:
    version = catalog.latest_version(dataset)
    return version.content if version else {}


# --- the basket -----------------------------------------------------------------------------


def basket(principal: Principal) -> list[Dataset]:
    if not principal.is_authenticated:
        return []
    return list(db.session().scalars(select(Dataset).join(BasketItem, BasketItem.dataset_id == Dataset.id)
                                      .where(BasketItem.user_id == principal.user_id).order_by(BasketItem.added_at)))


def _requestable(session: Session, principal: Principal, key: str | int) -> Dataset:
    dataset = catalog.get_dataset(principal, key)
    if dataset.state != PUBLISHED:
        raise StateConflict(fields={"datasets": [f"{dataset.pid} is not published, so access cannot be asked."]})
    return dataset


def add_to_basket(principal: Principal, pid: str) -> Dataset:
    if not principal.is_authenticated:
        raise PermissionDenied("Sign in to fill a basket.")
    with db.unit_of_work() as uow:
        dataset = _requestable(uow.session, principal, pid)
        present = uow.session.scalar(select(BasketItem).where(BasketItem.user_id == principal.user_id,
                                                              BasketItem.dataset_id == dataset.id))
        if present is None:
            uow.session.add(BasketItem(user_id=principal.user_id, dataset_id=dataset.id))
    return dataset


def remove_from_basket(principal: Principal, pid: str) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(delete(BasketItem).where(
            BasketItem.user_id == principal.user_id,
            BasketItem.dataset_id.in_(select(Dataset.id).where(Dataset.pid == pid))))


# --- drafts ---------------------------------------------------------------------------------


# One item of a proposal's list of datasets: a PID, blank items and spaces around it ignored.
DATASET_ITEM = r"^\s*(HM-[0-9]{6})?\s*$"


def create_draft(principal: Principal, content: ProposalContent, pids: list[str] | None = None,
                 from_basket: bool = False) -> Proposal:
    """A new draft for the given datasets (or the basket's, which is then emptied)."""
    if not principal.is_authenticated:
        raise PermissionDenied("Sign in to write a proposal.")
    with db.unit_of_work() as uow:
        if from_basket:
            pids = [dataset.pid for dataset in basket(principal)]
            uow.session.execute(delete(BasketItem).where(BasketItem.user_id == principal.user_id))
        datasets = _resolve(uow.session, principal, pids or [])
        now = clock.now()
        proposal = Proposal(applicant_id=principal.user_id, content=content.stored(), created_at=now, updated_at=now,
                            state_changed_at=now)
        uow.session.add(proposal)
        uow.session.flush()
        for dataset in datasets:
            uow.session.add(ProposalDataset(proposal_id=proposal.id, dataset_id=dataset.id))
        locked = audit.lock(uow.session, proposal.id)
        audit.append(uow.session, locked, actor_id=principal.user_id, actor_name=principal.display_name,
                     action="create", at=now, to_state=DRAFT, payload={"datasets": [d.pid for d in datasets]})
    return proposal


def _resolve(session: Session, principal: Principal, pids: list[str]) -> list[Dataset]:
    if malformed := [pid for pid in pids if not re.fullmatch(DATASET_ITEM, pid)]:
        raise ValidationError(fields={"datasets": [f"not a dataset PID (HM- and six digits): {pid!r}"
                                                   for pid in malformed[:5]]})
    unique = list(dict.fromkeys(pid.strip() for pid in pids if pid and pid.strip()))
    if len(unique) > MAX_DATASETS:
        raise ValidationError(fields={"datasets": [f"Ask for at most {MAX_DATASETS} datasets in one proposal."]})
    found, problems = [], []
    for pid in unique:
        try:
            found.append(_requestable(session, principal, pid))
        except NotFound:
            problems.append(f"{pid}: no such published dataset.")
        except ValidationError as error:
            problems.extend(error.fields.get("datasets", []))
    if problems:
        raise StateConflict("Some datasets cannot be requested.", {"datasets": problems})
    return found


def editable_proposal(session: Session, principal: Principal, proposal_id: int) -> tuple[Proposal, Standing]:
    proposal = session.get(Proposal, proposal_id, populate_existing=True)
    if proposal is None:
        raise NotFound("No such proposal.")
    found = standing(principal, proposal, session)
    if not permissions.can_view_proposal(found, proposal):
        raise NotFound("No such proposal.")
    if not (found.applicant or found.co_applicant):
        raise PermissionDenied("Only the applicants can change the proposal.")
    if not permissions.can_edit_proposal(found, proposal):
        label = workflow.state_label("proposal", proposal.state).lower()
        raise InvalidTransition(f"A proposal that is {label} cannot be changed.")
    # Compare-and-set that also takes the row: a submit committing meanwhile makes this a 409, so nothing
    # (a field, a dataset, an attachment) changes on a proposal that has left the applicants' hands.
    moved = session.execute(update(Proposal).where(Proposal.id == proposal_id,
                                                   Proposal.state.in_(workflow.EDITABLE_STATES))
                            .values(updated_at=clock.now())).rowcount
    if moved != 1:
        raise Conflict("The proposal changed state meanwhile; reload it.")
    return proposal, found


def update_draft(principal: Principal, proposal_id: int, changes: dict[str, Any],
                 pids: list[str] | None = None) -> Proposal:
    """Change some fields of the form (autosave sends what changed) and, given `pids`, the datasets.

    Compare-and-set on the state: a submit that commits first makes this a 409, not a silent edit."""
    with db.unit_of_work() as uow:
        proposal, _ = editable_proposal(uow.session, principal, proposal_id)
        merged = ProposalContent.model_validate({**proposal.content, **changes}).stored()
        moved = uow.session.execute(
            update(Proposal).where(Proposal.id == proposal_id, Proposal.state == proposal.state)
            .values(content=merged, updated_at=clock.now())).rowcount
        if moved != 1:
            raise Conflict("The proposal changed state meanwhile; reload it.")
        if pids is not None:
            _replace_datasets(uow.session, principal, proposal_id, pids)
    return db.session().get(Proposal, proposal_id, populate_existing=True)


def _replace_datasets(session: Session, principal: Principal, proposal_id: int, pids: list[str]) -> None:
    wanted = {dataset.id: dataset for dataset in _resolve(session, principal, pids)}
    present = {link.dataset_id: link for link in session.scalars(
        select(ProposalDataset).where(ProposalDataset.proposal_id == proposal_id))}
    for dataset_id, link in present.items():
        if dataset_id not in wanted:
            session.delete(link)
    for dataset_id in wanted.keys() - present.keys():
        session.add(ProposalDataset(proposal_id=proposal_id, dataset_id=dataset_id))


def remove_dataset(principal: Principal, proposal_id: int, pid: str) -> None:
    with db.unit_of_work() as uow:
        editable_proposal(uow.session, principal, proposal_id)
        uow.session.execute(delete(ProposalDataset).where(
            ProposalDataset.proposal_id == proposal_id,
            ProposalDataset.dataset_id.in_(select(Dataset.id).where(Dataset.pid == pid))))


def add_dataset(principal: Principal, proposal_id: int, pid: str) -> None:
    with db.unit_of_work() as uow:
        editable_proposal(uow.session, principal, proposal_id)
        current = [dataset.pid for _link, dataset in datasets_of(proposal_id, uow.session)]
        _replace_datasets(uow.session, principal, proposal_id, [*current, pid])


# --- lists ----------------------------------------------------------------------------------


def list_proposals(viewer: Principal, *, mine: bool = False, states: list[str] | None = None, page: int = 1,
                   per_page: int = 25) -> Page[Proposal]:
    """Proposals the viewer may see (only their own with `mine`), newest activity first."""
    query = select(Proposal).where(permissions.visible_proposals(viewer))
    if mine:
        query = query.where(or_(Proposal.applicant_id == viewer.user_id, Proposal.id.in_(
            select(CoApplicant.proposal_id).where(CoApplicant.user_id == viewer.user_id))))
    if states:
        query = query.where(Proposal.state.in_(states))
    return paginate(query.order_by(Proposal.updated_at.desc(), Proposal.id.desc()), page, per_page)
