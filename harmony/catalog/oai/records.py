"""Which datasets a harvester sees, and how they are named, stamped and grouped in sets.

A record is a dataset an anonymous visitor may see (`permissions.visible_datasets(ANONYMOUS)`):
published datasets are live records, withdrawn ones are deleted records (their tombstones are
kept for good, hence deletedRecord=persistent). Drafts never appear, whoever asks.

Identifiers are `oai:<host of BASE_URL>:<PID>`; datestamps are the dataset's `public_changed_at` in UTC
(its last publication or withdrawal: editing a working copy does not make harvesters fetch again)
at seconds granularity. Sets follow the study groups: `group` holds every record, and
`group:<ACRONYM>` (e.g. `group:HOVON`) the records of one group, leaving room for other
set families later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import aliased

from harmony import db
from harmony.accounts.permissions import ANONYMOUS
from harmony.catalog import permissions
from harmony.catalog.models import WITHDRAWN, Dataset, DatasetVersion, StudyGroup

GROUP_SETS = "group"


@dataclass(frozen=True)
class Record:
    dataset: Dataset
    group: StudyGroup
    version: DatasetVersion  # the newest published version, what the metadata is made from
    first_issued: datetime  # when version 1 was published

    @property
    def deleted(self) -> bool:
        return self.dataset.state == WITHDRAWN

    @property
    def identifier(self) -> str:
        return identifier(str(self.dataset.pid))

    @property
    def datestamp(self) -> datetime:
        return self.dataset.public_changed_at

    @property
    def set_specs(self) -> list[str]:
        return [group_set(self.group)]


@dataclass(frozen=True)
class Selection:
    """What a list request asks for: a datestamp window (start inclusive, end exclusive) and
    the groups of a set (None: no set given)."""

    start: datetime | None = None
    end: datetime | None = None
    group_ids: frozenset[int] | None = None


def repository_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def identifier(pid: str) -> str:
    return f"oai:{repository_host()}:{pid}"


def pid_of(oai_identifier: str) -> str | None:
    """The PID inside one of our identifiers; None for anybody else's."""
    prefix = f"oai:{repository_host()}:"
    return oai_identifier.removeprefix(prefix) if oai_identifier.startswith(prefix) else None


def group_set(group: StudyGroup) -> str:
    return f"{GROUP_SETS}:{group.acronym}"


def groups_of_set(set_spec: str, groups: list[StudyGroup]) -> frozenset[int]:
    """The ids of the groups a setSpec covers (empty if the set does not exist)."""
    if set_spec == GROUP_SETS:
        return frozenset(group.id for group in groups if group.id is not None)
    return frozenset(group.id for group in groups if group.id is not None and group_set(group) == set_spec)


def _harvestable() -> ColumnElement[bool]:
    return permissions.visible_datasets(ANONYMOUS) & (Dataset.published_version > 0)


def _filtered(query: Select, selection: Selection) -> Select:
    query = query.where(_harvestable())
    if selection.start is not None:
        query = query.where(Dataset.public_changed_at >= selection.start)
    if selection.end is not None:
        query = query.where(Dataset.public_changed_at < selection.end)
    if selection.group_ids is not None:
        query = query.where(Dataset.group_id.in_(selection.group_ids))
    return query


def _records_query() -> Select:
    first = aliased(DatasetVersion)
    return (
        select(Dataset, StudyGroup, DatasetVersion, first.issued_at)
        .join(StudyGroup, StudyGroup.id == Dataset.group_id)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id)
              & (DatasetVersion.version == Dataset.published_version))
        .join(first, (first.dataset_id == Dataset.id) & (first.version == 1))
    )


def find(pid: str) -> Record | None:
    row = db.session().execute(_filtered(_records_query(), Selection()).where(Dataset.pid == pid)).first()
    return Record(*row) if row else None


def count(selection: Selection) -> int:
    return db.session().scalar(_filtered(select(func.count(Dataset.id)), selection)) or 0


def page(selection: Selection, after_id: int, limit: int) -> list[Record]:
    """Up to `limit` records with ids above `after_id`, in id order (a keyset page: records
    changing between pages never shift the ones not yet harvested)."""
    query = _filtered(_records_query(), selection).where(Dataset.id > after_id).order_by(Dataset.id).limit(limit)
    return [Record(*row) for row in db.session().execute(query)]


def earliest_datestamp() -> datetime | None:
    return db.session().scalar(_filtered(select(func.min(Dataset.public_changed_at)), Selection()))
