"""A registered data platform (its read-only service token and its webhook) and the webhook deliveries
waiting to go out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlmodel import Field, SQLModel

from harmony import clock
from harmony.db import UTCDateTime


class DataPlatform(SQLModel, table=True):
    """A system that enforces access. Its service token (only the SHA-256 hash is kept) reads entitlements
    and passports; its webhook URL, if any, is told when a grant starts, ends or is revoked, signed with
    HMAC-SHA256 under `webhook_secret` (kept, since each delivery is signed with it)."""

    __tablename__ = "data_platform"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), unique=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    token_prefix: str = Field(sa_type=String(12))
    webhook_url: str | None = Field(default=None, sa_type=String(500))
    webhook_secret: str | None = Field(default=None, sa_type=String(128))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one platform, written in the transaction that causes it and delivered after commit
    and by `harmony mail send`'s sibling loop, with backoff, until the platform answers 2xx."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="data_platform.id", ondelete="CASCADE", index=True)
    event: str = Field(sa_type=String(40))
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=Text)
