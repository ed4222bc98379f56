"""Registering data platforms and recognising their service tokens.

A service token belongs to a platform, not to a person: it reads every grant (entitlements and
passports) and writes nothing. Only its SHA-256 hash is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from sqlalchemy import select

from harmony import clock, db
from harmony.accounts.permissions import Principal
from harmony.errors import Conflict, NotFound, PermissionDenied
from harmony.platforms.models import DataPlatform

SERVICE_TOKEN_PREFIX = "hms_"


class PlatformInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=200)
    webhook_url: HttpUrl | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def can_manage_platforms(principal: Principal) -> bool:
    return principal.is_admin


def register_platform(actor: Principal, data: PlatformInput) -> tuple[DataPlatform, str]:
    """A new platform with its service token (returned once, in plain text) and, when it has a webhook URL,
    a secret for the webhook signatures (kept on the row: `webhook_secret`)."""
    if not can_manage_platforms(actor):
        raise PermissionDenied("Only admins register data platforms.")
    plain = SERVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.unit_of_work() as uow:
        if uow.session.scalar(select(DataPlatform.id).where(DataPlatform.name == data.name)) is not None:
            raise Conflict(f"A data platform called {data.name!r} exists already.")
        platform = DataPlatform(name=data.name, token_hash=_digest(plain), token_prefix=plain[:10],
                                webhook_url=str(data.webhook_url) if data.webhook_url else None,
                                webhook_secret=secrets.token_hex(32) if data.webhook_url else None,
                                created_by=actor.user_id)
        uow.session.add(platform)
    return platform, plain


def revoke_platform(actor: Principal, name: str) -> DataPlatform:
    if not can_manage_platforms(actor):
        raise PermissionDenied("Only admins revoke data platforms.")
    with db.unit_of_work() as uow:
        platform = uow.session.scalar(select(DataPlatform).where(DataPlatform.name == name))
        if platform is None:
            raise NotFound(f"No data platform called {name!r}.")
        platform.revoked_at = platform.revoked_at or clock.now()
    return platform


def platforms() -> list[DataPlatform]:
    return list(db.session().scalars(select(DataPlatform).order_by(DataPlatform.name)))


def authenticate(plain: str) -> DataPlatform | None:
    """The platform of a live service token; records when it was last used (at most once a minute)."""
    platform = db.session().scalar(select(DataPlatform).where(DataPlatform.token_hash == _digest(plain)))
    if platform is None or platform.revoked_at is not None:
        return None
    now = clock.now()
    if platform.last_used_at is None or now - platform.last_used_at > timedelta(minutes=1):
        with db.unit_of_work() as uow:
            uow.session.get(DataPlatform, platform.id).last_used_at = now
    return platform


def get_platform(platform_id: int) -> DataPlatform:
    platform = db.session().get(DataPlatform, platform_id)
    if platform is None:
        raise NotFound("No such data platform.")
    return platform
