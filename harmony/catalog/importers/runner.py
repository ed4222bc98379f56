"""Import dataset descriptions in bulk, one record at a time, and say what became of each.

Every record runs in its own unit of work through the catalog services, so a record that fails
half-way (invalid, refused, a database error) leaves nothing behind and the others still import.
Records are recognised again by `Dataset.source_key` ("ctgov:NCT01234567"), so importing the same
files twice creates nothing new; a changed record updates its dataset and, with `publish`,
publishes a new version only if the description changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from harmony import db
from harmony.accounts.permissions import Principal
from harmony.catalog import services
from harmony.catalog.content import DatasetContent, publication_problems
from harmony.catalog.importers import ctgov, harmony_json, sources
from harmony.catalog.importers import ctgov_mapping as mapping
from harmony.catalog.models import DRAFT, Dataset, StudyGroup
from harmony.errors import Conflict, HarmonyError, StateConflict
from harmony.validation import parse

log = logging.getLogger(__name__)
FORMATS = ("ctgov", "harmony-json")


@dataclass(frozen=True)
class Imported:
    source: str
    identifier: str
    pid: str | None


@dataclass(frozen=True)
class Problem:
    source: str
    identifier: str
    reason: str


@dataclass
class ImportReport:
    created: list[Imported] = field(default_factory=list)
    updated: list[Imported] = field(default_factory=list)
    unchanged: list[Imported] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    drafts: list[Problem] = field(default_factory=list)  # asked to publish, kept as drafts: what is missing
    notes: list[Problem] = field(default_factory=list)
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # files of no format this importer reads

    @property
    def records(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged) + len(self.rejected)

    @property
    def imported_anything(self) -> bool:
        return self.records > len(self.rejected)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.rejected)} rejected ({self.records} records in {self.files} files"
                + (f"; {len(self.drafts)} kept as drafts" if self.drafts else "")
                + (f"; {len(self.skipped)} files skipped" if self.skipped else "") + ")")

    def as_dict(self) -> dict[str, Any]:
        counts = {name: len(getattr(self, name)) for name in ("created", "updated", "unchanged", "rejected")}
        return {"counts": counts, "files": self.files, "skipped": self.skipped,
                **{name: [asdict(item) for item in getattr(self, name)]
                   for name in ("created", "updated", "unchanged", "rejected", "drafts", "notes")}}


def detect_format(source: sources.SourceFile) -> str | None:
    """ctgov for XML and the registry's JSON, harmony-json for JSON lines; None for anything else."""
    head = source.data.lstrip()[:1]
    if head == b"<":
        return "ctgov"
    if source.name.lower().endswith((".jsonl", ".ndjson")):
        return "harmony-json"
    if head in (b"{", b"["):
        try:
            first = json.loads(source.data.lstrip().split(b"\n", 1)[0])
        except ValueError:
            return "ctgov"  # a pretty-printed document, not JSON lines
        is_ours = isinstance(first, dict) and (first.get("format") == harmony_json.FORMAT or "content" in first)
        return "harmony-json" if is_ours else "ctgov"
    return None


def import_paths(actor: Principal, paths: Iterable[Path], fmt: str | None = None, group_id: int | None = None,
                 publish: bool = False, progress: Callable[[str], None] | None = None, *,
                 data_use: Iterable[str] | None = None) -> ImportReport:
    """Import every record in the files, folders and archives; `fmt` None detects it per file.

    ClinicalTrials.gov records go into the study group `group_id` (required for them); Harmony
    JSON lines go into the group each line names, or `group_id` when given. `data_use` replaces
    the default data-use conditions of registry records.
    """
    if fmt not in (None, *FORMATS):
        raise ValueError(f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    report = ImportReport()
    group = next((g for g in services.groups() if g.id == group_id), None) if group_id is not None else None
    if group_id is not None and group is None:
        raise StateConflict(fields={"group_id": ["no such study group"]})
    defaults = None
    if group is not None:
        defaults = mapping.Defaults(mapping.group_contact(group.name, group.acronym),
                                    data_use=tuple(data_use) if data_use else mapping.DEFAULT_DATA_USE)
    with db.batch():  # derived copies (the search index) catch up once, after the last record
        for source in sources.iter_files(paths):
            report.files += 1
            if source.problem:
                report.rejected.append(Problem(source.label, "", source.problem))
            elif (kind := fmt or detect_format(source)) == "ctgov":
                _import_registry_file(actor, source, group, defaults, publish, report)
            elif kind == "harmony-json":
                _import_harmony_file(actor, source, group_id, report)
            else:
                report.skipped.append(source.label)
            if progress is not None:
                progress(source.label)
    return report


def _import_registry_file(actor: Principal, source: sources.SourceFile, group: StudyGroup | None,
                          defaults: mapping.Defaults | None, publish: bool, report: ImportReport) -> None:
    try:
        records = ctgov.parse(source.data)
    except ctgov.ParseError as error:
        report.rejected.append(Problem(source.label, "", str(error)))
        return
    for record in records:
        identifier = record.nct_id or ""
        problem, note = ctgov.check_ids(record, source.name if len(records) == 1 else None)
        if problem is None and group is None:
            problem = "ClinicalTrials.gov records go into a study group: name one (--group)"
        if problem is not None:
            report.rejected.append(Problem(source.label, identifier, problem))
            continue
        if note:
            report.notes.append(Problem(source.label, identifier, note))
        mapped = mapping.to_content(record, defaults)
        notes = f"Imported from ClinicalTrials.gov {identifier}."

        def work(identifier: str = identifier, mapped: Any = mapped, notes: str = notes) -> tuple[str, Dataset]:
            outcome, dataset, held_back = upsert(actor, group.id, mapping.source_key(identifier), mapped.content,
                                                 mapped.owned, publish, notes)
            if held_back:
                report.drafts.append(Problem(source.label, identifier, f"{dataset.pid} kept as a draft; {held_back}"))
            return outcome, dataset

        record_outcome(report, source.label, identifier, work)


def _import_harmony_file(actor: Principal, source: sources.SourceFile, group_id: int | None,
                         report: ImportReport) -> None:
    if source.data.strip() and not source.data.lstrip().startswith(b"{"):
        report.rejected.append(Problem(source.label, "", "not Harmony JSON lines (one JSON object per line)"))
        return
    for number, data, problem in harmony_json.read_lines(source.data):
        identifier = str((data or {}).get("pid") or (data or {}).get("source_key") or f"line {number}")
        if problem is not None:
            report.rejected.append(Problem(source.label, f"line {number}", problem))
            continue

        def work(data: dict[str, Any] = data, identifier: str = identifier) -> tuple[str, Dataset]:
            with db.unit_of_work():
                outcome, dataset, notes = harmony_json.import_record(actor, data, group_id)
            report.notes.extend(Problem(source.label, identifier, note) for note in notes)
            return outcome, dataset

        record_outcome(report, source.label, identifier, work)


def record_outcome(report: ImportReport, source: str, identifier: str,
                   work: Callable[[], tuple[str, Dataset]]) -> bool:
    """Run one record's work and file its outcome; any failure becomes a rejection with its reason."""
    try:
        outcome, dataset = work()
    except HarmonyError as error:
        report.rejected.append(Problem(source, identifier, reason(error)))
    except IntegrityError:
        report.rejected.append(Problem(source, identifier, "another import wrote the same dataset at the same time"))
    except Exception as error:  # one broken record must not stop the batch; the log has the traceback
        log.exception("import of %s from %s failed", identifier, source)
        report.rejected.append(Problem(source, identifier, f"failed unexpectedly ({type(error).__name__}: {error})"))
    else:
        getattr(report, outcome).append(Imported(source, identifier, dataset.pid))
        return True
    return False


def reason(error: HarmonyError) -> str:
    """One line for the report: the missing fields, or each field with its problem."""
    fields = getattr(error, "fields", None) or {}
    if not fields:
        return error.detail
    missing = [name for name, messages in fields.items() if all("needed before publishing" in m for m in messages)]
    if missing and len(missing) == len(fields):
        return "cannot be published; missing: " + ", ".join(missing)
    return "; ".join(" ".join(messages) if name == "__root__" else f"{name}: {' '.join(messages)}"
                     for name, messages in fields.items())


def _missing(content: DatasetContent) -> str | None:
    """What keeps a description from being published, in one line (None: nothing)."""
    problems = publication_problems(content.stored())
    return "missing: " + ", ".join(problems) if problems else None


def upsert(actor: Principal, group_id: int, key: str, data: dict[str, Any], owned: Iterable[str],
           publish: bool, notes: str | None = None) -> tuple[str, Dataset, str | None]:
    """Create the dataset of `key`, or update it: the `owned` fields come from `data` (and go when
    `data` lacks them), the others keep what the curator chose. One unit of work.

    With `publish`, a description that lacks mandatory fields is still imported, as a draft for a
    curator to complete; the third value says what it lacks."""
    owned = set(owned)
    with db.unit_of_work() as uow:
        existing = uow.session.scalar(select(Dataset).where(Dataset.source_key == key))
        if existing is None:
            content = parse(DatasetContent, data)
            held_back = _missing(content) if publish else None
            dataset = services.create_dataset(actor, group_id, content, source_key=key)
            if publish and not held_back:
                services.publish(actor, dataset.id, notes)
            return "created", services.get_dataset(actor, dataset.id), held_back
        if existing.group_id != group_id:
            raise Conflict(f"already imported as {existing.pid} into another study group; it was not moved.")
        merged = {k: v for k, v in existing.content.items() if k not in owned}
        merged.update({k: v for k, v in data.items() if k in owned or k not in merged})
        content = parse(DatasetContent, merged)
        changed = content.stored() != existing.content
        held_back = _missing(content) if publish else None
        was_draft = existing.state == DRAFT
        if changed:
            services.update_dataset(actor, existing.id, content)
        if publish and not held_back and (changed or was_draft):
            services.publish(actor, existing.id, notes)
            changed = True
        return ("updated" if changed else "unchanged"), services.get_dataset(actor, existing.id), held_back
