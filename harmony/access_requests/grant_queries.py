"""Reading what follows a decision, for the proposal page and the API: the agreements to accept and who
has still to accept them, the grants, the final report, and the proposals linked to this one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from harmony.access_requests import grants
from harmony.access_requests.committees import agreement_text
from harmony.access_requests.content import FIELD_LABELS, diff
from harmony.access_requests.grant_steps import agreements_due_for, pending_acceptances
from harmony.access_requests.models import AgreementAcceptance, Committee, FinalReport, Proposal, ProposalDataset
from harmony.access_requests.permissions import can_view_proposal
from harmony.access_requests.proposals import standing
from harmony.accounts.models import User
from harmony.accounts.permissions import Principal
from harmony.catalog.models import Dataset


@dataclass(frozen=True)
class AgreementView:
    committee: Committee
    version: int
    text: str
    accepted_by_me: bool


@dataclass
class AfterDecision:
    agreements: list[AgreementView] = field(default_factory=list)
    waiting_for: list[tuple[User, list[Committee]]] = field(default_factory=list)
    grants: list[grants.GrantView] = field(default_factory=list)
    report: FinalReport | None = None
    parent: Proposal | None = None
    linked: list[Proposal] = field(default_factory=list)  # renewals and amendments of this one
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # field by field, against the parent

    @property
    def accepted_everything(self) -> bool:
        return all(agreement.accepted_by_me for agreement in self.agreements)


def _snapshot(session: Session, proposal: Proposal) -> dict[str, Any]:
    pids = session.scalars(select(Dataset.pid).join(ProposalDataset, ProposalDataset.dataset_id == Dataset.id)
                           .where(ProposalDataset.proposal_id == proposal.id).order_by(Dataset.pid)).all()
    return {**proposal.content, "datasets": list(pids)}


def after_decision(session: Session, proposal: Proposal, viewer: Principal) -> AfterDecision:
    """What follows the decision, as the viewer may see it (a draft renewal only for its applicants)."""
    found, viewer_id = AfterDecision(), viewer.user_id
    if proposal.decided_at is not None:
        mine = set(session.scalars(select(AgreementAcceptance.committee_id).where(
            AgreementAcceptance.proposal_id == proposal.id, AgreementAcceptance.user_id == viewer_id)))
        found.agreements = [AgreementView(committee, committee.agreement_version, agreement_text(committee, session) or "",
                                          committee.id in mine) for committee in agreements_due_for(session, proposal)]
        found.waiting_for = pending_acceptances(session, proposal)
        found.grants = grants.grants_of(proposal.id)
        found.report = session.scalar(select(FinalReport).where(FinalReport.proposal_id == proposal.id))
    found.linked = [child for child in session.scalars(select(Proposal).where(Proposal.parent_id == proposal.id)
                                                       .order_by(Proposal.id))
                    if can_view_proposal(standing(viewer, child, session), child)]
    if proposal.parent_id is not None:
        found.parent = session.get(Proposal, proposal.parent_id)
        found.changes = [(FIELD_LABELS.get(key, key), old, new) for key, old, new
                         in diff(_snapshot(session, found.parent), _snapshot(session, proposal))]
    return found
