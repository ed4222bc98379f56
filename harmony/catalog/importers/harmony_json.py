"""Harmony's own exchange format: JSON lines, one dataset per line, with its published history.

A line holds `format`, `origin` (the exporting instance's base URL), `pid`, `group` (acronym),
`state`, `source_key`, `content` (the working copy), `versions` (every published version's
content, notes and issue time) and, for a withdrawn dataset, the reason and time. Keys are sorted,
so two exports of the same catalog are byte for byte the same.

Import goes through the catalog services: create, then one update and publish per missing
version, then the working copy, then withdrawal, all in the caller's unit of work. A dataset is
recognised again by its `source_key`, or, for a line exported by this same instance, by its PID,
so importing a file twice changes nothing. A line from another instance without a source key is
filed under "harmony:{origin}/datasets/{pid}", so that it too is recognised next time.

Publication and withdrawal times are kept: the services take them as arguments. A new
dataset gets the next free PID; only an import into an empty catalog keeps the exported PIDs
(differences are reported as notes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from flask import current_app
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from harmony import db
from harmony.accounts.permissions import Principal
from harmony.catalog import services
from harmony.catalog.content import DatasetContent
from harmony.catalog.models import DRAFT, PUBLISHED, WITHDRAWN, Dataset
from harmony.errors import Conflict, InvalidTransition
from harmony.validation import parse

FORMAT = "harmony-dataset/1"


class VersionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    content: dict[str, Any]
    notes: str | None = None
    issued_at: AwareDatetime


class DatasetRecord(BaseModel):
    """One line of the export; unknown keys are refused rather than silently lost."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["harmony-dataset/1"] = FORMAT
    origin: str | None = None
    pid: str | None = Field(default=None, pattern=r"^HM-\d{6}$")
    group: str = Field(min_length=1)
    state: Literal["draft", "published", "withdrawn"]
    source_key: str | None = Field(default=None, max_length=100)
    content: dict[str, Any]
    versions: list[VersionRecord] = Field(default_factory=list)
    withdrawn_reason: str | None = None
    withdrawn_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _history(self) -> DatasetRecord:
        if [v.version for v in self.versions] != list(range(1, len(self.versions) + 1)):
            raise ValueError("versions: numbered 1, 2, 3 … in order")
        if (self.state == DRAFT) != (not self.versions):
            raise ValueError("state: a draft has no versions; a published or withdrawn dataset has some")
        if self.state == WITHDRAWN and not self.withdrawn_reason:
            raise ValueError("withdrawn_reason: a withdrawn dataset says why")
        return self


# --- export ----------------------------------------------------------------------------------


def export_records(actor: Principal) -> Iterator[dict[str, Any]]:
    """Every dataset the actor may see, in PID order, as the dicts written one per line."""
    origin = current_app.config.get("BASE_URL")
    datasets = [(group.acronym, dataset) for group in services.groups()
                for dataset in services.datasets_of_group(actor, group.id)]
    for acronym, dataset in sorted(datasets, key=lambda item: item[1].pid or ""):
        yield {
            "format": FORMAT,
            "origin": origin,
            "pid": dataset.pid,
            "group": acronym,
            "state": dataset.state,
            "source_key": dataset.source_key,
            "content": dataset.content,
            "versions": [{"version": v.version, "content": v.content, "notes": v.notes,
                          "issued_at": v.issued_at.isoformat()} for v in services.versions(dataset.id)],
            "withdrawn_reason": dataset.withdrawn_reason,
            "withdrawn_at": dataset.withdrawn_at.isoformat() if dataset.withdrawn_at else None,
        }


def export_lines(actor: Principal) -> Iterator[str]:
    for record in export_records(actor):
        yield json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- import ----------------------------------------------------------------------------------


def read_lines(data: bytes) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, object, problem) for every non-blank line."""
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, UnicodeDecodeError) as error:
            yield number, None, f"not JSON: {error}"
            continue
        if not isinstance(value, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, value, None


def import_record(actor: Principal, data: dict[str, Any], group_id: int | None = None) -> tuple[str, Dataset, list[str]]:
    """Create or bring up to date the dataset of one line: ("created" | "updated" | "unchanged", dataset, notes).

    Call it inside a unit of work, so that a failure half-way leaves nothing behind.
    """
    record = parse(DatasetRecord, data)
    for content in [record.content, *(version.content for version in record.versions)]:
        parse(DatasetContent, content)  # refuse bad content before anything is written
    if group_id is None:
        group_id = services.group_by_acronym(record.group).id
    origin = current_app.config.get("BASE_URL")
    same_origin = record.origin is None or record.origin == origin
    key = record.source_key
    if key is None and not same_origin and record.pid:
        key = f"harmony:{record.origin.rstrip('/')}/datasets/{record.pid}"[:100]
    notes: list[str] = []
    dataset = _existing(record, key, same_origin, group_id)
    outcome = "unchanged"
    if dataset is None:
        first = record.versions[0].content if record.versions else record.content
        dataset = services.create_dataset(actor, group_id, parse(DatasetContent, first), source_key=key)
        db.session().flush()  # write the PID before publish() refreshes the row inside this transaction
        outcome = "created"
        if record.pid and dataset.pid != record.pid:
            notes.append(f"{record.pid} was given the PID {dataset.pid} here")
    if _bring_up_to_date(actor, dataset.id, record) and outcome == "unchanged":
        outcome = "updated"
    return outcome, services.get_dataset(actor, dataset.id), notes


def _existing(record: DatasetRecord, key: str | None, same_origin: bool, group_id: int) -> Dataset | None:
    session = db.session()
    if key is not None:
        found = session.scalar(select(Dataset).where(Dataset.source_key == key))
    elif same_origin and record.pid:
        found = session.scalar(select(Dataset).where(Dataset.pid == record.pid))
        if found is not None and found.source_key is not None:
            raise Conflict(f"{record.pid} here is a different dataset (imported from {found.source_key}).")
    else:
        return None
    if found is not None and found.group_id != group_id:
        raise Conflict(f"{found.pid} belongs to another study group here; it was not moved.")
    return found


def _bring_up_to_date(actor: Principal, dataset_id: int, record: DatasetRecord) -> bool:
    """Publish the versions missing here, then set the working copy and the state; True if anything changed."""
    dataset = services.get_dataset(actor, dataset_id)
    if dataset.state == WITHDRAWN:
        if record.state == WITHDRAWN:
            return False
        raise InvalidTransition(f"{dataset.pid} is withdrawn here; it is not brought back by an import.")
    if len(record.versions) < dataset.published_version:
        raise Conflict(f"{dataset.pid} has {dataset.published_version} published versions here, "
                       f"the file only {len(record.versions)}: it comes from an older export.")
    changed = False
    for version in record.versions[dataset.published_version:]:
        content = parse(DatasetContent, version.content)
        dataset = services.get_dataset(actor, dataset_id)
        stale = dataset.state == PUBLISHED and not dataset.has_unpublished_changes
        if stale or dataset.content != content.stored():
            services.update_dataset(actor, dataset_id, content)
        services.publish(actor, dataset_id, version.notes, issued_at=version.issued_at)
        changed = True
    working = parse(DatasetContent, record.content)
    if services.get_dataset(actor, dataset_id).content != working.stored():
        services.update_dataset(actor, dataset_id, working)
        changed = True
    if record.state == WITHDRAWN:
        services.withdraw(actor, dataset_id, record.withdrawn_reason or "", at=record.withdrawn_at)
        changed = True
    return changed
