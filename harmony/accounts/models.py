"""Users, their provider identities, role grants, sessions, API tokens and pending sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from harmony import clock
from harmony.db import UTCDateTime

PLATFORM_ROLES = ("admin", "coordinator")
GROUP_ROLES = ("curator",)
COMMITTEE_ROLES = ("member", "chair")
ROLE_SCOPES = {"admin": None, "coordinator": None, "curator": "group", "member": "committee", "chair": "committee"}


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(sa_type=String(200))
    email: str | None = Field(default=None, sa_type=String(320))
    affiliation: str | None = Field(default=None, sa_type=String(300))
    orcid: str | None = Field(default=None, sa_type=String(19))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Identity(SQLModel, table=True):
    """A user's account at one OpenID provider: (issuer, subject) never changes, an e-mail may."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    issuer: str = Field(sa_type=String(255))
    subject: str = Field(sa_type=String(255))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """A role held by a user, platform-wide or scoped to a study group or a committee."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope_kind", "scope_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    role: str = Field(sa_type=String(20))
    scope_kind: str = Field(default="platform", sa_type=String(20))
    scope_id: int = Field(default=0)
    source: str = Field(default="manual", sa_type=String(20))  # manual, cli, claim, demo
    granted_by: int | None = Field(default=None)
    granted_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A personal token for scripts; only its SHA-256 hash is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_type=String(100))
    token_hash: str = Field(sa_type=String(64), unique=True)
    prefix: str = Field(sa_type=String(12))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds only a random key; signing out revokes the row."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    key_hash: str = Field(sa_type=String(64), unique=True)
    identity_id: int | None = Field(default=None)
    id_token: str | None = Field(default=None)  # the hint the provider's sign-out wants
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginState(SQLModel, table=True):
    """A sign-in under way, kept server-side; the browser's session names it by its state value."""

    __tablename__ = "login_state"

    state: str = Field(primary_key=True, sa_type=String(64))
    nonce: str = Field(sa_type=String(64))
    code_verifier: str = Field(sa_type=String(128))
    next_path: str = Field(default="/", sa_type=String(2000))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
