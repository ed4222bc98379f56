"""The only code that writes accounts' tables. Every function takes the acting Principal."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, select

from harmony import clock, db
from harmony.accounts import permissions, scopes
from harmony.accounts.models import ROLE_SCOPES, ApiToken, Identity, LoginState, RoleGrant, User, UserSession
from harmony.accounts.permissions import Principal
from harmony.errors import Conflict, NotFound, PermissionDenied, StateConflict, ValidationError

TOKEN_PREFIX = "hm_"
SESSION_LIFETIME = timedelta(hours=12)
# The command line runs on the server, by its operator.
COMMAND_LINE = Principal(user_id=None, display_name="command line", grants=frozenset({("admin", "platform", 0)}))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- profile ---------------------------------------------------------------------------------


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2, the check digit of an ORCID iD."""
    digits = orcid.replace("-", "")
    if len(digits) != 16 or not digits[:15].isdigit():
        return False
    total = 0
    for char in digits[:15]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    return digits[15].upper() == ("X" if check == 10 else str(check))


class ProfileUpdate(BaseModel):
    affiliation: str | None = Field(default=None, max_length=300)
    orcid: str | None = None

    @field_validator("affiliation", "orcid", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("https://orcid.org/").removeprefix("http://orcid.org/").upper()
        if len(value) == 16 and "-" not in value:
            value = "-".join(value[i : i + 4] for i in range(0, 16, 4))
        if len(value) != 19 or not orcid_checksum_ok(value):
            raise ValueError("not a valid ORCID iD (expected 0000-0002-1825-0097 with a correct check digit)")
        return value


def update_profile(actor: Principal, user_id: int, update: ProfileUpdate) -> User:
    if actor.user_id != user_id:
        raise PermissionDenied("You can only change your own profile.")
    with db.unit_of_work() as uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        user.affiliation = update.affiliation
        user.orcid = update.orcid
        uow.session.add(user)
    return user


# --- sign-in and sessions -------------------------------------------------------------------


def _upsert_identity(session: Any, issuer: str, subject: str, claims: dict[str, Any]) -> tuple[User, Identity]:
    """Find or create the user of (issuer, subject) and refresh name and e-mail from the claims."""
    name = str(claims.get("name") or claims.get("preferred_username") or subject)[:200]
    email = claims.get("email") if claims.get("email_verified", True) is not False else None
    identity = session.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == subject))
    if identity is None:
        user = User(display_name=name, email=email)
        session.add(user)
        session.flush()
        identity = Identity(user_id=user.id, issuer=issuer, subject=subject)
        session.add(identity)
        session.flush()
        return user, identity
    user = session.get(User, identity.user_id)
    user.display_name = name
    if email:
        user.email = email
    return user, identity


def sign_in(issuer: str, subject: str, claims: dict[str, Any], id_token: str | None,
            claim_roles: set[str] | None = None) -> str:
    """Find or create the user of (issuer, subject), refresh them from the claims, open a session.

    Returns the new session key for the cookie. `claim_roles` (platform roles from a token claim)
    replace the roles that earlier sign-ins took from the claim.
    """
    now = clock.now()
    key = secrets.token_urlsafe(32)
    with db.unit_of_work() as uow:
        user, identity = _upsert_identity(uow.session, issuer, subject, claims)
        user.last_login_at = now
        identity.last_login_at = now
        if claim_roles is not None:
            _sync_claim_roles(uow.session, user.id, claim_roles)
        uow.session.add(UserSession(user_id=user.id, identity_id=identity.id, key_hash=_digest(key),
                                    id_token=id_token, expires_at=now + SESSION_LIFETIME))
    return key


def provision_user(issuer: str, subject: str, claims: dict[str, Any], affiliation: str | None = None) -> User:
    """Create or refresh a user before their first sign-in (the demo personas)."""
    with db.unit_of_work() as uow:
        user, _identity = _upsert_identity(uow.session, issuer, subject, claims)
        if affiliation and not user.affiliation:
            user.affiliation = affiliation
    return user


def _sync_claim_roles(session: Any, user_id: int, roles: set[str]) -> None:
    wanted = {role for role in roles if ROLE_SCOPES.get(role, "x") is None}
    held = session.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.source == "claim")).all()
    for grant in held:
        if grant.role not in wanted:
            session.delete(grant)
    have = {grant.role for grant in held}
    manual = set(session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id,
                                                              RoleGrant.scope_kind == "platform")).all())
    for role in wanted - have - manual:
        session.add(RoleGrant(user_id=user_id, role=role, source="claim"))


def session_user(key: str | None) -> tuple[User, UserSession] | None:
    """The user of a live session key, or None when it is unknown, expired or signed out."""
    if not key:
        return None
    row = db.session().execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id).where(UserSession.key_hash == _digest(key))
    ).first()
    if row is None:
        return None
    user_session, user = row
    if user_session.revoked_at is not None or user_session.expires_at <= clock.now():
        return None
    return user, user_session


def end_session(key: str) -> str | None:
    """Revoke a session; returns its ID token for the provider's sign-out hint."""
    with db.unit_of_work() as uow:
        user_session = uow.session.scalar(select(UserSession).where(UserSession.key_hash == _digest(key)))
        if user_session is None or user_session.revoked_at is not None:
            return None
        user_session.revoked_at = clock.now()
        return user_session.id_token


def principal_for(user: User) -> Principal:
    grants = db.session().execute(
        select(RoleGrant.role, RoleGrant.scope_kind, RoleGrant.scope_id).where(RoleGrant.user_id == user.id)
    ).all()
    expanded = set()
    for role, kind, scope_id in grants:
        expanded.add((role, kind, scope_id))
        if role == "chair":  # a chair is a member of the committee too
            expanded.add(("member", kind, scope_id))
    return Principal(user_id=user.id, display_name=user.display_name, grants=frozenset(expanded))


# --- roles ----------------------------------------------------------------------------------


class RoleGrantInput(BaseModel):
    user_id: int
    role: str
    scope_id: int | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLE_SCOPES:
            raise ValueError(f"unknown role; choose one of {', '.join(ROLE_SCOPES)}")
        return value


def grant_role(actor: Principal, grant: RoleGrantInput, source: str = "manual") -> RoleGrant:
    if not permissions.can_manage_roles(actor):
        raise PermissionDenied("Only admins can grant roles.")
    scope_kind = ROLE_SCOPES[grant.role] or "platform"
    if scope_kind == "platform":
        scope_id = 0
    else:
        kind = scopes.get(scope_kind)
        if grant.scope_id is None:
            raise ValidationError(fields={"scope_id": [f"a {grant.role} needs a {scope_kind}"]})
        if kind is None or grant.scope_id not in dict(kind.choices()):
            raise StateConflict(fields={"scope_id": [f"no such {scope_kind}"]})
        scope_id = grant.scope_id
    with db.unit_of_work() as uow:
        if uow.session.get(User, grant.user_id) is None:
            raise StateConflict(fields={"user_id": ["no such user"]})
        existing = uow.session.scalar(select(RoleGrant).where(
            RoleGrant.user_id == grant.user_id, RoleGrant.role == grant.role,
            RoleGrant.scope_kind == scope_kind, RoleGrant.scope_id == scope_id))
        if existing is not None:
            return existing
        row = RoleGrant(user_id=grant.user_id, role=grant.role, scope_kind=scope_kind, scope_id=scope_id,
                        source=source, granted_by=actor.user_id)
        uow.session.add(row)
    return row


def revoke_role(actor: Principal, grant_id: int) -> None:
    if not permissions.can_manage_roles(actor):
        raise PermissionDenied("Only admins can revoke roles.")
    with db.unit_of_work() as uow:
        grant = uow.session.get(RoleGrant, grant_id)
        if grant is None:
            raise NotFound("That role grant no longer exists.")
        if grant.role == "admin" and grant.user_id == actor.user_id:
            others = uow.session.scalars(select(RoleGrant).where(RoleGrant.role == "admin", RoleGrant.id != grant_id)).first()
            if others is None:
                raise Conflict("You are the last admin; grant the role to someone else first.")
        uow.session.delete(grant)


def role_grants(actor: Principal) -> list[tuple[RoleGrant, User]]:
    if not permissions.can_manage_roles(actor):
        raise PermissionDenied("Only admins can see all role grants.")
    rows = db.session().execute(select(RoleGrant, User).join(User, User.id == RoleGrant.user_id)
                                .order_by(User.display_name, RoleGrant.role)).all()
    return [(grant, user) for grant, user in rows]


def grants_of(user_id: int) -> list[RoleGrant]:
    return list(db.session().scalars(select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(RoleGrant.role)))


def find_user(subject: str, issuer: str | None = None) -> User:
    """The user with an identity of this subject (at `issuer`, when several providers know it)."""
    query = select(Identity).where(Identity.subject == subject)
    if issuer:
        query = query.where(Identity.issuer == issuer)
    identities = db.session().scalars(query).all()
    if not identities:
        raise NotFound(f"No user with subject {subject!r} has signed in yet; ask them to sign in once.")
    if len({identity.user_id for identity in identities}) > 1:
        issuers = ", ".join(sorted(identity.issuer for identity in identities))
        raise Conflict(f"Subject {subject!r} is known at several providers ({issuers}); name one with --issuer.")
    return db.session().get(User, identities[0].user_id)


def all_users() -> list[User]:
    return list(db.session().scalars(select(User).order_by(User.display_name)))


# --- API tokens -----------------------------------------------------------------------------


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int = Field(default=90, ge=1, le=365)


def create_token(actor: Principal, user_id: int, request: TokenCreate) -> tuple[ApiToken, str]:
    """Create a token; the plain text is returned once and never stored."""
    if actor is not COMMAND_LINE and not permissions.can_manage_tokens_of(actor, user_id):
        raise PermissionDenied("You can only create tokens for yourself.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.unit_of_work() as uow:
        token = ApiToken(user_id=user_id, name=request.name, token_hash=_digest(plain), prefix=plain[:10],
                         expires_at=clock.now() + timedelta(days=request.days))
        uow.session.add(token)
    return token, plain


def revoke_token(actor: Principal, token_id: int) -> None:
    with db.unit_of_work() as uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None or not permissions.can_manage_tokens_of(actor, token.user_id):
            raise NotFound("No such token.")
        if token.revoked_at is None:
            token.revoked_at = clock.now()


def tokens_of(user_id: int) -> list[ApiToken]:
    return list(db.session().scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())))


def authenticate_token(plain: str) -> User | None:
    """The user of a live personal token; records when it was last used (at most once a minute)."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = db.session().scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    now = clock.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token_id = token.id
        with db.unit_of_work() as uow:
            fresh = uow.session.get(ApiToken, token_id)
            fresh.last_used_at = now
    return db.session().get(User, token.user_id)


def purge_expired_sessions() -> int:
    with db.unit_of_work() as uow:
        result = uow.session.execute(delete(UserSession).where(UserSession.expires_at < clock.now() - timedelta(days=30)))
        return result.rowcount or 0


# --- sign-ins under way ---------------------------------------------------------------------

LOGIN_STATE_LIFETIME = timedelta(minutes=15)


def remember_login(state: str, nonce: str, code_verifier: str, next_path: str) -> None:
    """Keep a sign-in under way server-side (and forget abandoned ones)."""
    with db.unit_of_work() as uow:
        uow.session.execute(delete(LoginState).where(LoginState.created_at < clock.now() - LOGIN_STATE_LIFETIME))
        uow.session.add(LoginState(state=state, nonce=nonce, code_verifier=code_verifier, next_path=next_path))


def take_login(state: str) -> LoginState | None:
    """The sign-in under way with this state, removed so it can be used once only."""
    with db.unit_of_work() as uow:
        row = uow.session.get(LoginState, state)
        if row is None:
            return None
        uow.session.delete(row)
    if row.created_at < clock.now() - LOGIN_STATE_LIFETIME:
        return None
    return row
