"""The only code that writes the catalog's tables. Every function takes the acting Principal.

Each write is one unit of work that also writes a change-log row, so the search index and
other derived copies catch up after commit. Writes to a dataset are compare-and-set on its
state or lock version: two curators saving at once get a clear 409, not a lost update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select, update

from harmony import clock, db
from harmony.accounts.permissions import Principal
from harmony.catalog import permissions
from harmony.catalog.content import DatasetContent, country_codes, publication_problems
from harmony.catalog.models import DRAFT, PUBLISHED, WITHDRAWN, Dataset, DatasetVersion, StudyGroup
from harmony.catalog.vocabularies import country
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, StateConflict, ValidationError
from harmony.validation import value_from

PID_PATTERN = re.compile(r"^HM-\d{6}$")


def pid_for(dataset_id: int) -> str:
    return f"HM-{dataset_id:06d}"


# --- study groups ---------------------------------------------------------------------------


class GroupInput(BaseModel):
    name: str = Field(min_length=2, max_length=300)
    acronym: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_.]*$")
    country: str | None = Field(default=None, json_schema_extra=value_from(country_codes, blank=True))
    ror: str | None = Field(default=None, json_schema_extra={
        "pattern": r"^\s*((https://ror\.org/)?0[a-hj-km-np-tv-z0-9]{6}[0-9]{2})?\s*$"})
    website: str | None = Field(default=None, max_length=500, json_schema_extra={"pattern": r"^(https?://.*)?$"})
    description: str | None = Field(default=None, max_length=5000)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if not value:
            return None
        found = country(value)
        if found is None:
            raise ValueError(f"unknown country: {value}")
        return found.alpha2

    @field_validator("ror")
    @classmethod
    def _ror(cls, value: str | None) -> str | None:
        value = (value or "").strip().removeprefix("https://ror.org/")
        if not value:
            return None
        if not re.fullmatch(r"0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}", value):
            raise ValueError("a ROR id looks like 03yrm5c26")
        return value

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("the website must start with https://")
        return value or None


def create_group(actor: Principal, data: GroupInput) -> StudyGroup:
    if not permissions.can_manage_groups(actor):
        raise PermissionDenied("Only admins can create study groups.")
    with db.unit_of_work() as uow:
        if uow.session.scalar(select(StudyGroup).where(func.lower(StudyGroup.acronym) == data.acronym.lower())):
            raise StateConflict(fields={"acronym": [f"a study group {data.acronym} exists already"]})
        group = StudyGroup(**data.model_dump())
        uow.session.add(group)
        uow.session.flush()
        uow.record_change("group", group.id, "created")
    return group


def update_group(actor: Principal, group_id: int, data: GroupInput) -> StudyGroup:
    if not permissions.can_manage_groups(actor):
        raise PermissionDenied("Only admins can change study groups.")
    with db.unit_of_work() as uow:
        group = uow.session.get(StudyGroup, group_id)
        if group is None:
            raise NotFound("No such study group.")
        clash = uow.session.scalar(select(StudyGroup).where(func.lower(StudyGroup.acronym) == data.acronym.lower(),
                                                            StudyGroup.id != group_id))
        if clash is not None:
            raise StateConflict(fields={"acronym": [f"a study group {data.acronym} exists already"]})
        for key, value in data.model_dump().items():
            setattr(group, key, value)
        uow.record_change("group", group.id, "updated")
    return group


def set_group_committee(actor: Principal, group_id: int, committee_id: int | None) -> None:
    if not permissions.can_manage_groups(actor):
        raise PermissionDenied("Only admins can say which committee governs a study group.")
    with db.unit_of_work() as uow:
        group = uow.session.get(StudyGroup, group_id)
        if group is None:
            raise NotFound("No such study group.")
        group.committee_id = committee_id


def groups() -> list[StudyGroup]:
    return list(db.session().scalars(select(StudyGroup).order_by(StudyGroup.acronym)))


def group_by_id(group_id: int) -> StudyGroup:
    group = db.session().get(StudyGroup, group_id)
    if group is None:
        raise NotFound("No such study group.")
    return group


def published_counts() -> dict[int, int]:
    """Published datasets per study group id."""
    rows = db.session().execute(select(Dataset.group_id, func.count()).where(Dataset.state == PUBLISHED)
                                .group_by(Dataset.group_id)).all()
    return {group_id: count for group_id, count in rows}


def group_by_acronym(acronym: str) -> StudyGroup:
    group = db.session().scalar(select(StudyGroup).where(func.lower(StudyGroup.acronym) == acronym.lower()))
    if group is None:
        raise NotFound(f"No study group {acronym}.")
    return group


# --- datasets -------------------------------------------------------------------------------


def create_dataset(actor: Principal, group_id: int, content: DatasetContent, source_key: str | None = None) -> Dataset:
    if not permissions.can_curate(actor, group_id):
        raise PermissionDenied("Only the study group's curators can add datasets.")
    with db.unit_of_work() as uow:
        if uow.session.get(StudyGroup, group_id) is None:
            raise StateConflict(fields={"group_id": ["no such study group"]})
        dataset = Dataset(group_id=group_id, content=content.stored(), source_key=source_key)
        uow.session.add(dataset)
        uow.session.flush()
        dataset.pid = pid_for(dataset.id)
        uow.session.flush()  # a publish() in the same unit of work refreshes the row: the PID must be written
        uow.record_change("dataset", dataset.id, "created")
    return dataset


def update_dataset(actor: Principal, dataset_id: int, content: DatasetContent,
                   expected_lock_version: int | None = None) -> Dataset:
    """Replace the working copy. With `expected_lock_version`, refuse if someone saved meanwhile."""
    with db.unit_of_work() as uow:
        dataset = _for_curation(uow.session, actor, dataset_id)
        if dataset.state == WITHDRAWN:
            raise InvalidTransition("A withdrawn dataset cannot be edited.")
        expected = dataset.lock_version if expected_lock_version is None else expected_lock_version
        changed = uow.session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id, Dataset.lock_version == expected)
            .values(content=content.stored(), has_unpublished_changes=True, updated_at=clock.now(),
                    lock_version=Dataset.lock_version + 1)
        ).rowcount
        if changed != 1:
            raise Conflict("Someone else saved this dataset after you opened it. Reload to see their changes.")
        uow.record_change("dataset", dataset_id, "updated")
    return get_dataset(actor, dataset_id)


@dataclass(frozen=True)
class Transition:
    """A lifecycle step: from which states, to which state."""

    name: str
    from_states: frozenset[str]
    to_state: str


TRANSITIONS = {
    "publish": Transition("publish", frozenset({DRAFT, PUBLISHED}), PUBLISHED),
    "withdraw": Transition("withdraw", frozenset({PUBLISHED}), WITHDRAWN),
}


def _apply(session: Any, dataset: Dataset, name: str, at: datetime | None = None, **values: Any) -> None:
    """Compare-and-set on the state: exactly one row moves, or the caller gets a 409."""
    transition = TRANSITIONS[name]
    if dataset.state not in transition.from_states:
        raise InvalidTransition(f"A {dataset.state} dataset cannot be {name}ed.")
    now = at or clock.now()
    moved = session.execute(
        update(Dataset)
        .where(Dataset.id == dataset.id, Dataset.state == dataset.state, Dataset.lock_version == dataset.lock_version)
        .values(state=transition.to_state, updated_at=now, public_changed_at=now,
                lock_version=Dataset.lock_version + 1, **values)
    ).rowcount
    if moved != 1:
        raise Conflict("The dataset changed while this was being done; reload and try again.")


def publish(actor: Principal, dataset_id: int, notes: str | None = None,
            issued_at: datetime | None = None) -> DatasetVersion:
    """Publish the working copy as a new immutable version.

    `issued_at` replays a publication made elsewhere (importing an export); otherwise it is now.
    """
    with db.unit_of_work() as uow:
        dataset = _for_curation(uow.session, actor, dataset_id)
        problems = publication_problems(dataset.content)
        if problems:
            raise StateConflict("Fill in the mandatory fields before publishing.", problems)
        if dataset.state == PUBLISHED and not dataset.has_unpublished_changes:
            raise InvalidTransition("Nothing changed since the last version was published.")
        number = dataset.published_version + 1
        issued_at = issued_at or clock.now()
        _apply(uow.session, dataset, "publish", at=issued_at, published_version=number, has_unpublished_changes=False)
        version = DatasetVersion(dataset_id=dataset.id, version=number, content=dict(dataset.content), issued_at=issued_at,
                                 notes=notes or dataset.content.get("version_notes"), published_by=actor.user_id)
        uow.session.add(version)
        uow.record_change("dataset", dataset.id, "published")
    return version


def withdraw(actor: Principal, dataset_id: int, reason: str, at: datetime | None = None) -> Dataset:
    """Withdraw a published dataset; its page becomes a tombstone. `at` replays an earlier withdrawal."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError(fields={"reason": ["Say in a sentence why the dataset is withdrawn (shown on its page)."]})
    with db.unit_of_work() as uow:
        dataset = _for_curation(uow.session, actor, dataset_id)
        at = at or clock.now()
        _apply(uow.session, dataset, "withdraw", at=at, withdrawn_reason=reason, withdrawn_at=at)
        uow.record_change("dataset", dataset.id, "withdrawn")
    return get_dataset(actor, dataset_id)


def _for_curation(session: Any, actor: Principal, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not permissions.can_view(actor, dataset):
        raise NotFound("No such dataset.")
    if not permissions.can_curate(actor, dataset.group_id):
        raise PermissionDenied("Only the study group's curators can change this dataset.")
    session.refresh(dataset)
    return dataset


# --- reading --------------------------------------------------------------------------------


def get_dataset(viewer: Principal, key: int | str) -> Dataset:
    """A dataset by id or PID, if the viewer may see it (404 otherwise, so drafts stay secret)."""
    column = Dataset.pid if isinstance(key, str) else Dataset.id
    dataset = db.session().scalar(select(Dataset).where(column == key))
    if dataset is None or not permissions.can_view(viewer, dataset):
        raise NotFound("No such dataset.")
    return dataset


def versions(dataset_id: int) -> list[DatasetVersion]:
    return list(db.session().scalars(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id).order_by(DatasetVersion.version)))


def version(dataset_id: int, number: int) -> DatasetVersion:
    found = db.session().scalar(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id,
                                                             DatasetVersion.version == number))
    if found is None:
        raise NotFound(f"There is no version {number}.")
    return found


def latest_version(dataset: Dataset) -> DatasetVersion | None:
    return version(dataset.id, dataset.published_version) if dataset.published_version else None


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Field-by-field differences between two contents: (field, old value, new value)."""
    keys = [k for k in DatasetContent.model_fields if k in old or k in new]
    return [(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]


def published_datasets() -> list[tuple[Dataset, DatasetVersion]]:
    """Every live published dataset with its newest version (for exports, charts, harvesters)."""
    rows = db.session().execute(
        select(Dataset, DatasetVersion)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id)
              & (DatasetVersion.version == Dataset.published_version))
        .where(Dataset.state == PUBLISHED)
        .order_by(Dataset.id)
    ).all()
    return [(dataset, ver) for dataset, ver in rows]


def datasets_of_group(viewer: Principal, group_id: int) -> list[Dataset]:
    query = select(Dataset).where(Dataset.group_id == group_id, permissions.visible_datasets(viewer))
    return list(db.session().scalars(query.order_by(Dataset.id)))


def curation_queue(viewer: Principal) -> list[Dataset]:
    """The datasets the viewer curates, drafts and unpublished changes first."""
    if not permissions.can_curate_anything(viewer):
        return []
    query = select(Dataset)
    if not viewer.is_admin:
        query = query.where(Dataset.group_id.in_(permissions.curated_groups(viewer)))
    return list(db.session().scalars(query.order_by(Dataset.has_unpublished_changes.desc(), Dataset.updated_at.desc())))


def register_group_scope() -> None:
    """Let accounts scope curator grants to study groups."""
    from harmony.accounts import scopes

    def choices() -> list[tuple[int, str]]:
        return [(group.id, group.acronym) for group in groups()]

    def resolve(name: str) -> int | None:
        try:
            return group_by_acronym(name).id
        except NotFound:
            return None

    scopes.register(scopes.ScopeKind("group", "Study group", choices, resolve))
