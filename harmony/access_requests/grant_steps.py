"""What the actions after a decision do: accepting the agreements, which makes the proposal active and its
grants live; the final report; renewals and amendments (new proposals linked to the original);
removing a co-applicant; revoking, closing and expiring. `actions` runs them in the one order."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from harmony.access_requests import audit, grants
from harmony.access_requests.models import (
    ACTIVE,
    AGREEMENT,
    AMENDMENT,
    APPROVED,
    DRAFT,
    EXPIRED,
    FINISHED,
    GRANT_CLOSED,
    GRANT_EXPIRED,
    GRANT_REMOVED,
    GRANT_REVOKED,
    RENEWAL,
    RETURNED,
    REVOKED,
    SUBMITTED,
    UNDER_REVIEW,
    AgreementAcceptance,
    CoApplicant,
    Committee,
    FinalReport,
    Grant,
    Proposal,
    ProposalDataset,
)
from harmony.access_requests.permissions import chaired_committees
from harmony.access_requests.proposals import standing
from harmony.access_requests.steps import Step, applicants, coordinators, tell
from harmony.accounts.models import User
from harmony.catalog.models import Dataset
from harmony.errors import Conflict, InvalidTransition, NotFound, StateConflict, ValidationError

OPEN_STATES = (DRAFT, SUBMITTED, RETURNED, UNDER_REVIEW, AGREEMENT)  # a linked proposal still on its way


def agreements_due_for(session: Session, proposal: Proposal) -> list[Committee]:
    """The committees that approved something and have an agreement text: each must be accepted."""
    ids = set(session.scalars(select(ProposalDataset.committee_id).where(
        ProposalDataset.proposal_id == proposal.id, ProposalDataset.outcome == APPROVED)))
    return [committee for committee in session.scalars(select(Committee).where(Committee.id.in_(ids))
                                                       .order_by(Committee.name))
            if committee.agreement_version > 0]


def agreements_due(step: Step) -> list[Committee]:
    return agreements_due_for(step.session, step.proposal)


def after_approval(step: Step) -> str:
    """Where an approved proposal goes: to the agreement, or straight to active when no approving committee
    has an agreement to accept."""
    if agreements_due(step):
        tell(step, applicants(step.session, step.proposal), "agreement-due", "Accept the data access agreement",
             "Your proposal was approved. Read and accept the data access agreement; access begins when every "
             "applicant has accepted it.")
        return AGREEMENT
    _activate(step)
    return ACTIVE


def _activate(step: Step) -> None:
    made = grants.start_grants(step.session, step.proposal, step.now)
    step.payload["grants"] = len(made)
    if step.proposal.parent_id is not None:
        step.payload["replaces"] = step.proposal.parent_id
        _close_parent(step)
    tell(step, applicants(step.session, step.proposal), "access-granted", "Access granted",
         f"Access to {len({grant.dataset_id for grant in made})} dataset(s) begins now; see the end dates.")


def _close_parent(step: Step) -> None:
    """The original of a renewal or amendment is finished once its successor is active and nothing of it is
    left (its grants for the successor's datasets ended with `replaced` in `start_grants`); the original's
    own trail says so."""
    parent = audit.lock(step.session, step.proposal.parent_id)
    before = parent.state
    finished = before == ACTIVE and grants.live_count(step.session, parent.id, step.now) == 0
    if finished:
        step.session.execute(Proposal.__table__.update().where(Proposal.id == parent.id, Proposal.state == ACTIVE)
                             .values(state=FINISHED, state_changed_at=step.now, updated_at=step.now))
    audit.append(step.session, parent, actor_id=step.actor.user_id, actor_name=step.actor.display_name,
                 action="replaced", at=step.now, from_state=before, to_state=FINISHED if finished else before,
                 payload={"by": step.proposal.id, "kind": step.proposal.kind})


# --- the agreement --------------------------------------------------------------------------


def _accept_agreement(step: Step) -> None:
    due = agreements_due(step)
    shown = step.data.agreements or {}
    accepted = set(step.session.scalars(select(AgreementAcceptance.committee_id).where(
        AgreementAcceptance.proposal_id == step.proposal.id, AgreementAcceptance.user_id == step.actor.user_id)))
    if accepted >= {committee.id for committee in due}:
        raise InvalidTransition("You have accepted the agreement already; the others have still to accept it.")
    for committee in due:
        seen = shown.get(committee.id, committee.agreement_version)
        if seen != committee.agreement_version:
            raise Conflict(f"{committee.name} changed its agreement (version {committee.agreement_version}); "
                           "read the new version and accept it.")
        if committee.id not in accepted:
            step.session.add(AgreementAcceptance(proposal_id=step.proposal.id, user_id=step.actor.user_id,
                                                 committee_id=committee.id, version=committee.agreement_version,
                                                 accepted_at=step.now))
    step.payload["agreements"] = {committee.name: committee.agreement_version for committee in due}
    step.session.flush()
    _activate_when_all_accepted(step, due)


def _activate_when_all_accepted(step: Step, due: list[Committee]) -> None:
    needed = {(person, committee.id) for person in grants.people(step.session, step.proposal) for committee in due}
    have = set(step.session.execute(select(AgreementAcceptance.user_id, AgreementAcceptance.committee_id).where(
        AgreementAcceptance.proposal_id == step.proposal.id)).all())
    if needed <= have:
        _activate(step)
        step.to_state = ACTIVE


def pending_acceptances(session: Session, proposal: Proposal) -> list[tuple[User, list[Committee]]]:
    """Who has still to accept which agreement, for the proposal page and the reminders."""
    if proposal.state != AGREEMENT:
        return []
    due = agreements_due_for(session, proposal)
    have = set(session.execute(select(AgreementAcceptance.user_id, AgreementAcceptance.committee_id).where(
        AgreementAcceptance.proposal_id == proposal.id)).all())
    waiting = []
    for user_id in grants.people(session, proposal):
        missing = [committee for committee in due if (user_id, committee.id) not in have]
        if missing:
            waiting.append((session.get(User, user_id), missing))
    return waiting


# --- during the project ---------------------------------------------------------------------


def _file_report(step: Step) -> None:
    if step.data.data_deleted is None:
        raise ValidationError("Say whether the data were deleted.", {"data_deleted": [
            "Say whether the data were deleted (or when they will be)."]})
    report = step.session.scalar(select(FinalReport).where(FinalReport.proposal_id == step.proposal.id))
    if report is None:
        report = FinalReport(proposal_id=step.proposal.id, data_deleted=step.data.data_deleted,
                             filed_by=step.actor.user_id, filed_at=step.now)
        step.session.add(report)
    report.publications, report.data_deleted = step.data.publications or [], step.data.data_deleted
    report.summary, report.filed_by, report.filed_at = step.data.comment, step.actor.user_id, step.now
    step.payload.update(publications=report.publications, data_deleted=report.data_deleted)


def _linked(kind: str) -> Callable[[Step], None]:
    def start(step: Step) -> None:
        """A draft linked to this proposal with its content, approved datasets and co-applicants, to change
        and submit; the committees concerned review it, and it replaces this one when it becomes active."""
        busy = step.session.scalar(select(Proposal.id).where(Proposal.parent_id == step.proposal.id,
                                                             Proposal.state.in_(OPEN_STATES)))
        if busy is not None:
            raise Conflict(f"Proposal {busy}, linked to this one, is still open: finish or withdraw it first.")
        child = Proposal(applicant_id=step.proposal.applicant_id, content=dict(step.proposal.content), kind=kind,
                         parent_id=step.proposal.id, created_at=step.now, updated_at=step.now,
                         state_changed_at=step.now)
        step.session.add(child)
        step.session.flush()
        for dataset_id in carried_datasets(step.session, step.proposal.id):
            step.session.add(ProposalDataset(proposal_id=child.id, dataset_id=dataset_id))
        for co in step.session.scalars(select(CoApplicant).where(CoApplicant.proposal_id == step.proposal.id,
                                                                 CoApplicant.accepted_at.is_not(None),
                                                                 CoApplicant.removed_at.is_(None))):
            step.session.add(CoApplicant(proposal_id=child.id, email=co.email, user_id=co.user_id,
                                         invited_by=co.invited_by, invited_at=step.now, accepted_at=step.now))
        locked = audit.lock(step.session, child.id)
        audit.append(step.session, locked, actor_id=step.actor.user_id, actor_name=step.actor.display_name,
                     action="create", at=step.now, to_state=DRAFT, payload={kind + "_of": step.proposal.id})
        step.payload["linked"] = child.id
        step.payload["kind"] = kind
    return start


def carried_datasets(session: Session, proposal_id: int) -> list[int]:
    """What a renewal or amendment carries over from its original: the approved datasets whose access was
    not revoked (a revoked one can be asked for again, and its committee then reviews it)."""
    revoked = select(Grant.dataset_id).where(Grant.proposal_id == proposal_id, Grant.end_reason == GRANT_REVOKED)
    return list(session.scalars(select(ProposalDataset.dataset_id).where(
        ProposalDataset.proposal_id == proposal_id, ProposalDataset.outcome == APPROVED,
        ProposalDataset.dataset_id.not_in(revoked)).order_by(ProposalDataset.dataset_id)))


def _remove_co_applicant(step: Step) -> None:
    if not step.data.co_applicant:  # the input lacks what the action needs: 422
        raise ValidationError("Choose a co-applicant of this proposal.", {"co_applicant": [
            "Choose one of the proposal's co-applicants."]})
    co = step.session.get(CoApplicant, step.data.co_applicant)
    if co is None or co.proposal_id != step.proposal.id or co.removed_at is not None:  # not (or no longer) one: 409
        raise StateConflict("Choose a co-applicant of this proposal.", {"co_applicant": [
            "Choose one of the proposal's co-applicants."]})
    step.payload["email"] = co.email
    if step.proposal.state in (DRAFT, RETURNED) or co.accepted_at is None:
        step.session.execute(delete(CoApplicant).where(CoApplicant.id == co.id))  # before any access: forget it
        return
    co.removed_at = step.now
    ended = grants.end_grants(step.session, and_(Grant.proposal_id == step.proposal.id, Grant.user_id == co.user_id),
                              GRANT_REMOVED, step.now)
    _remove_from_linked(step, co)
    step.payload["grants_ended"] = len(ended)
    removed = step.session.get(User, co.user_id)
    tell(step, [removed], "co-applicant-removed", "You were removed from a proposal",
         "You are no longer a co-applicant of the proposal; your access through it has ended.")
    if step.proposal.state == AGREEMENT:
        step.session.flush()
        _activate_when_all_accepted(step, agreements_due(step))


def _remove_from_linked(step: Step, co: CoApplicant) -> None:
    """A renewal or amendment on its way carries the co-applicants over: the removal reaches it too, so the
    removed person gets no access through it later."""
    for child in step.session.scalars(select(Proposal).where(Proposal.parent_id == step.proposal.id,
                                                             Proposal.state.in_(OPEN_STATES))):
        carried = step.session.scalar(select(CoApplicant).where(CoApplicant.proposal_id == child.id,
                                                                CoApplicant.email == co.email,
                                                                CoApplicant.removed_at.is_(None)))
        if carried is None:
            continue
        locked = audit.lock(step.session, child.id)
        carried.removed_at = step.now
        audit.append(step.session, locked, actor_id=step.actor.user_id, actor_name=step.actor.display_name,
                     action="remove-co-applicant", at=step.now, from_state=locked.state, to_state=locked.state,
                     payload={"email": co.email, "removed_from": step.proposal.id})


def _revoke(step: Step) -> None:
    where = Grant.proposal_id == step.proposal.id
    if not step.actor.is_admin:
        where = and_(where, Grant.committee_id.in_(chaired_committees(standing(step.actor, step.proposal,
                                                                                step.session))))
    if step.data.dataset:
        dataset_id = step.session.scalar(select(Dataset.id).where(Dataset.pid == step.data.dataset))
        if dataset_id is None:
            raise NotFound(f"No dataset {step.data.dataset}.")
        where = and_(where, Grant.dataset_id == dataset_id)
    ended = grants.end_grants(step.session, where, GRANT_REVOKED, step.now, revoked_by=step.actor.user_id,
                              revoke_reason=step.data.comment)
    if not ended:
        raise InvalidTransition("No live access here that you may revoke.")
    pids = sorted(set(step.session.scalars(select(Dataset.pid).where(
        Dataset.id.in_({grant.dataset_id for grant in ended})))))
    step.payload.update(datasets=pids, grants=len(ended))
    if grants.live_count(step.session, step.proposal.id, step.now) == 0:
        step.to_state = REVOKED
    tell(step, applicants(step.session, step.proposal), "access-revoked", "Access revoked",
         f"{step.actor.display_name} revoked access to {', '.join(pids)}: {step.data.comment}")
    tell(step, coordinators(step.session), "access-revoked", "Access revoked",
         f"{step.actor.display_name} revoked access to {', '.join(pids)}.")


def _close(step: Step) -> None:
    if not step.actor.is_admin or step.proposal.applicant_id == step.actor.user_id:
        filed = step.session.scalar(select(FinalReport.id).where(FinalReport.proposal_id == step.proposal.id))
        if filed is None:
            raise StateConflict("File the final report before closing the project.", {"report": [
                "File the final report (publications, whether the data were deleted) first."]})
    ended = grants.end_grants(step.session, Grant.proposal_id == step.proposal.id, GRANT_CLOSED, step.now)
    step.payload["grants"] = len(ended)


def _expire(step: Step) -> None:
    """`harmony requests tick`: end the grants whose end has come; the proposal expires with its last one."""
    ended = grants.end_grants(step.session, and_(Grant.proposal_id == step.proposal.id, Grant.end <= step.now),
                              GRANT_EXPIRED, step.now)
    if not ended:
        raise InvalidTransition("No access of this proposal has reached its end.")
    step.payload["grants"] = len(ended)
    if grants.live_count(step.session, step.proposal.id, step.now) == 0:
        step.to_state = EXPIRED
        tell(step, applicants(step.session, step.proposal), "access-expired", "Access ended",
             "Access through the proposal has reached its end date. File the final report if you have not yet.")


GRANT_HANDLERS: dict[str, Callable[[Step], None]] = {
    "accept-agreement": _accept_agreement, "file-report": _file_report, "renew": _linked(RENEWAL),
    "amend": _linked(AMENDMENT), "remove-co-applicant": _remove_co_applicant, "revoke": _revoke,
    "close": _close, "expire": _expire,
}
