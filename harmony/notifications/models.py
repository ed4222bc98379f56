"""The outbox (e-mails written in the transaction that causes them) and in-app notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from harmony import clock
from harmony.db import UTCDateTime


class OutboxMail(SQLModel, table=True):
    """An e-mail to send. Written in the same transaction as the action that causes it; delivered
    after commit and by `harmony mail send`, which retries with backoff until it goes out."""

    __tablename__ = "outbox_mail"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    to_address: str = Field(sa_type=String(320))
    subject: str = Field(sa_type=String(300))
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(sa_type=Text)
    kind: str = Field(sa_type=String(40))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # gave up after the last attempt
    last_error: str | None = Field(default=None, sa_type=Text)


class Notice(SQLModel, table=True):
    """What a person sees on /notices (the header counts the unread ones)."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    text: str = Field(sa_type=String(500))
    link: str = Field(sa_type=String(500))
    kind: str = Field(sa_type=String(40))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
