"""Study groups, dataset descriptions (a working copy) and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from harmony import clock
from harmony.db import UTCDateTime

DRAFT, PUBLISHED, WITHDRAWN = "draft", "published", "withdrawn"


class StudyGroup(SQLModel, table=True):
    """A data provider: a clinical study group with the committee that governs its datasets."""

    __tablename__ = "study_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(300))
    acronym: str = Field(sa_type=String(40), unique=True)
    country: str | None = Field(default=None, sa_type=String(2))
    ror: str | None = Field(default=None, sa_type=String(9))
    website: str | None = Field(default=None, sa_type=String(500))
    description: str | None = Field(default=None, sa_type=Text)
    committee_id: int | None = Field(default=None)  # set by the access-request package
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Dataset(SQLModel, table=True):
    """One trial or cohort dataset. `content` is the working copy curators edit; visitors read
    the newest DatasetVersion. `pid` is stable for life, also after withdrawal."""

    __tablename__ = "dataset"

    id: int | None = Field(default=None, primary_key=True)
    pid: str | None = Field(default=None, sa_type=String(20), unique=True)
    group_id: int = Field(foreign_key="study_group.id", index=True)
    state: str = Field(default=DRAFT, sa_type=String(20), index=True)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    source_key: str | None = Field(default=None, sa_type=String(100), unique=True)  # e.g. "ctgov:NCT01234567"
    published_version: int = Field(default=0)  # 0: never published
    has_unpublished_changes: bool = Field(default=True)
    withdrawn_reason: str | None = Field(default=None, sa_type=Text)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    # when what visitors and harvesters see last changed (a publication or the withdrawal)
    public_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    lock_version: int = Field(default=1)  # compare-and-set on every write


class DatasetVersion(SQLModel, table=True):
    """An immutable snapshot made at each publication."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    version: int
    content: dict[str, Any] = Field(sa_type=JSON)
    notes: str | None = Field(default=None, sa_type=Text)
    issued_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    published_by: int | None = Field(default=None)
