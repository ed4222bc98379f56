"""Who may see and change what in the catalog; the same rules filter lists, pages, RDF and search."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from harmony.accounts.permissions import Principal
from harmony.catalog.models import PUBLISHED, WITHDRAWN, Dataset


def curated_groups(principal: Principal) -> set[int]:
    return principal.scopes("curator", "group")


def can_curate(principal: Principal, group_id: int) -> bool:
    """Create, edit, publish and withdraw the group's datasets."""
    return principal.is_admin or group_id in curated_groups(principal)


def can_curate_anything(principal: Principal) -> bool:
    return principal.is_admin or bool(curated_groups(principal))


def can_manage_groups(principal: Principal) -> bool:
    return principal.is_admin


def can_see_working_copy(principal: Principal, dataset: Dataset) -> bool:
    return can_curate(principal, dataset.group_id)


def can_view(principal: Principal, dataset: Dataset) -> bool:
    """Published datasets (and withdrawn ones, as tombstones) are public; drafts are the curators'."""
    return dataset.state in (PUBLISHED, WITHDRAWN) or can_curate(principal, dataset.group_id)


def visible_datasets(principal: Principal) -> ColumnElement[bool]:
    """The query filter matching `can_view`."""
    if principal.is_admin:
        return true()
    groups = curated_groups(principal)
    public = Dataset.state.in_([PUBLISHED, WITHDRAWN])
    return or_(public, Dataset.group_id.in_(groups)) if groups else public


def listed_publicly(principal: Principal) -> ColumnElement[bool]:
    """Datasets a catalog listing or harvester shows as live records (not tombstones)."""
    return Dataset.state == PUBLISHED
