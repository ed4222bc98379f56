"""Co-applicants: invited by e-mail with a signed, expiring link, and joining once they have signed in."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import audit
from harmony.access_requests.models import DRAFT, RETURNED, SUBMITTED, UNDER_REVIEW, CoApplicant, Proposal
from harmony.access_requests.proposals import editable_proposal
from harmony.accounts.models import User
from harmony.accounts.permissions import Principal
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, StateConflict
from harmony.notifications.services import mail_address
from harmony.validation import Email

INVITATION_SALT = "harmony-co-applicant-invitation"
INVITATION_DAYS = 14
MAX_CO_APPLICANTS = 20
JOINABLE_STATES = (DRAFT, SUBMITTED, RETURNED, UNDER_REVIEW)  # before the decision


class InvitationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email


def _invitations() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=INVITATION_SALT)


def invite_co_applicant(principal: Principal, proposal_id: int, data: InvitationInput) -> CoApplicant:
    """Invite someone by e-mail; they join by following the signed link within INVITATION_DAYS, signed in."""
    email = str(data.email).lower()
    with db.unit_of_work() as uow:
        proposal, found = editable_proposal(uow.session, principal, proposal_id)
        if not found.applicant:
            raise PermissionDenied("Only the applicant can invite co-applicants.")
        invited = uow.session.scalars(select(CoApplicant).where(CoApplicant.proposal_id == proposal_id)).all()
        if any(person.email == email for person in invited):
            raise StateConflict(fields={"email": [f"{email} is invited already."]})
        if len(invited) >= MAX_CO_APPLICANTS:
            raise StateConflict(fields={"email": [f"A proposal has at most {MAX_CO_APPLICANTS} co-applicants."]})
        invitation = CoApplicant(proposal_id=proposal_id, email=email, invited_by=principal.user_id)
        uow.session.add(invitation)
        uow.session.flush()
        token = _invitations().dumps({"invitation": invitation.id, "email": email})
        locked = audit.lock(uow.session, proposal_id)
        audit.append(uow.session, locked, actor_id=principal.user_id, actor_name=principal.display_name,
                     action="invite", at=clock.now(), from_state=locked.state, to_state=locked.state,
                     payload={"email": email})
        title = proposal.content.get("title") or f"Proposal {proposal_id}"
        mail_address(uow, email, "co-applicant-invited", subject=f"You are invited to join a proposal: {title}",
                     summary=f"{principal.display_name} invites you to join the proposal \u201c{title}\u201d as a "
                             f"co-applicant. The link works for {INVITATION_DAYS} days; sign in to accept.",
                     link=f"/requests/invitations/{token}")
    return invitation


def accept_invitation(principal: Principal, token: str) -> Proposal:
    """Join the proposal an invitation names: once, before it expires and before the decision, and only
    as the person the invitation was sent to (a forwarded link must not become someone else's access)."""
    if not principal.is_authenticated:
        raise PermissionDenied("Sign in to accept the invitation.")
    try:
        claims = _invitations().loads(token, max_age=INVITATION_DAYS * 86400)
    except SignatureExpired:
        raise StateConflict("This invitation has expired; ask the applicant to invite you again.") from None
    except BadSignature:
        raise NotFound("This invitation link is not valid.") from None
    with db.unit_of_work() as uow:
        invitation = uow.session.get(CoApplicant, claims.get("invitation"))
        if invitation is None or invitation.email != claims.get("email"):
            raise NotFound("This invitation was withdrawn.")
        if invitation.accepted_at is not None and invitation.user_id == principal.user_id:
            return uow.session.get(Proposal, invitation.proposal_id)  # followed the link twice
        locked = audit.lock(uow.session, invitation.proposal_id)
        uow.session.refresh(invitation)  # read again under the lock: two people cannot both take it
        if invitation.accepted_at is not None:
            raise Conflict("This invitation was accepted already.")
        if locked.state not in JOINABLE_STATES:
            raise InvalidTransition("The proposal is no longer open to new co-applicants.")
        if locked.applicant_id == principal.user_id:
            raise StateConflict("You are the applicant of this proposal already.")
        email = (uow.session.get(User, principal.user_id).email or "").lower()
        if email != invitation.email:
            raise PermissionDenied(f"This invitation was sent to {invitation.email}, and you are signed in as "
                                   f"{email or 'someone without an e-mail address'}. Sign in with that address, "
                                   "or ask the applicant to invite yours.")
        invitation.user_id, invitation.accepted_at = principal.user_id, clock.now()
        audit.append(uow.session, locked, actor_id=principal.user_id, actor_name=principal.display_name,
                     action="join", at=invitation.accepted_at, from_state=locked.state, to_state=locked.state,
                     payload={"email": invitation.email})
    return db.session().get(Proposal, invitation.proposal_id)
