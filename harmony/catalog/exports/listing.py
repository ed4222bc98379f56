"""What the exports read: published datasets a page at a time, with their groups and dates.

Read-only queries, filtered by `permissions.listed_publicly` (the rule the catalog listing and the
harvesters share), so a draft or a withdrawn dataset never appears in a catalog page or a sitemap.
They live here rather than in `services.py` because they are shaped for the exports: one query per
page instead of one per dataset.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select

from harmony import db
from harmony.accounts.permissions import ANONYMOUS
from harmony.catalog import permissions
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup


class Entry(NamedTuple):
    """A published dataset with what its export needs."""

    dataset: Dataset
    version: DatasetVersion
    group: StudyGroup
    issued: datetime  # first publication


def _published():
    return (
        select(Dataset, DatasetVersion, StudyGroup)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id)
              & (DatasetVersion.version == Dataset.published_version))
        .join(StudyGroup, StudyGroup.id == Dataset.group_id)
        .where(permissions.listed_publicly(ANONYMOUS))
    )


def count_published() -> int:
    return db.session().scalar(select(func.count()).select_from(Dataset).where(permissions.listed_publicly(ANONYMOUS)))


def published_page(page: int, per_page: int) -> list[Entry]:
    """Page `page` (from 1) of the live published datasets, oldest first."""
    rows = db.session().execute(_published().order_by(Dataset.id).offset((page - 1) * per_page).limit(per_page)).all()
    issued = first_issued([dataset.id for dataset, _, _ in rows])
    return [Entry(dataset, version, group, issued.get(dataset.id, version.issued_at)) for dataset, version, group in rows]


def first_issued(dataset_ids: list[int]) -> dict[int, datetime]:
    """When each dataset was first published (its version 1)."""
    if not dataset_ids:
        return {}
    rows = db.session().execute(
        select(DatasetVersion.dataset_id, DatasetVersion.issued_at)
        .where(DatasetVersion.dataset_id.in_(dataset_ids), DatasetVersion.version == 1)
    ).all()
    return {dataset_id: issued for dataset_id, issued in rows}


def group_of(dataset: Dataset) -> StudyGroup:
    return db.session().get(StudyGroup, dataset.group_id)


class SitemapEntry(NamedTuple):
    pid: str
    modified: datetime


def sitemap_datasets() -> list[SitemapEntry]:
    """Every live published dataset's PID and when its newest version appeared."""
    rows = db.session().execute(
        select(Dataset.pid, DatasetVersion.issued_at)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id)
              & (DatasetVersion.version == Dataset.published_version))
        .where(permissions.listed_publicly(ANONYMOUS))
        .order_by(Dataset.id)
    ).all()
    return [SitemapEntry(pid, modified) for pid, modified in rows]


def group_acronyms() -> list[str]:
    return list(db.session().scalars(select(StudyGroup.acronym).order_by(StudyGroup.acronym)))
