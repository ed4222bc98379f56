"""Bulk import through the catalog services: idempotent, one unit of work per record, reported."""

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from harmony import db
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent
from harmony.catalog.importers import runner, sources
from harmony.catalog.models import Dataset, DatasetVersion
from harmony.db import ChangeLog
from tests import factories

AACT = Path(__file__).parents[1] / "data" / "ctgov" / "aact"
LEUKAEMIA = AACT / "xml" / "NCT01339988.xml"  # a publishable haematology record


def count(model) -> int:
    return db.session().scalar(select(func.count()).select_from(model))


@pytest.fixture
def group(app):
    with app.app_context():
        return factories.group("NHTG", name="Northern Haematology Trials Group")


@pytest.fixture
def three(tmp_path) -> Path:
    """One record of each shape: legacy XML, classic JSON and v2 JSON."""
    folder = tmp_path / "records"
    (folder / "json").mkdir(parents=True)
    shutil.copy(LEUKAEMIA, folder)
    shutil.copy(AACT / "json" / "NCT02028676.json", folder / "json")
    shutil.copy(AACT / "json" / "NCT02552212.json", folder / "json")
    (folder / "LICENSE").write_text("not a record")
    return folder


def tar_gz(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return path


def test_a_folder_imports_drafts_and_importing_again_changes_nothing(app, group, three):
    with app.app_context():
        first = runner.import_paths(COMMAND_LINE, [three], group_id=group.id)
        assert (len(first.created), first.rejected, first.files, first.skipped) == (3, [], 3, [])
        datasets = db.session().scalars(select(Dataset).order_by(Dataset.source_key)).all()
        assert [d.source_key for d in datasets] == ["ctgov:NCT01339988", "ctgov:NCT02028676", "ctgov:NCT02552212"]
        assert {d.state for d in datasets} == {"draft"} and {d.group_id for d in datasets} == {group.id}
        again = runner.import_paths(COMMAND_LINE, [three], group_id=group.id)
        assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 3)
        assert count(Dataset) == 3


def test_a_changed_record_makes_a_new_version_and_keeps_the_curators_choices(app, group, tmp_path):
    with app.app_context():
        report = runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=group.id, publish=True)
        (created,) = report.created
        dataset = catalog.get_dataset(COMMAND_LINE, created.pid)
        assert dataset.state == "published" and dataset.published_version == 1
        curated = DatasetContent.model_validate({**dataset.content, "data_types": ["clinical", "cytogenetics"],
                                                 "standards": ["iscn"]})
        catalog.update_dataset(COMMAND_LINE, dataset.id, curated)
        catalog.publish(COMMAND_LINE, dataset.id)

        changed = tmp_path / "NCT01339988.xml"
        changed.write_bytes(LEUKAEMIA.read_bytes().replace(b'type="Anticipated">10<', b'type="Actual">12<'))
        report = runner.import_paths(COMMAND_LINE, [changed], group_id=group.id, publish=True)
        assert [i.pid for i in report.updated] == [dataset.pid]
        dataset = catalog.get_dataset(COMMAND_LINE, dataset.id)
        assert dataset.published_version == 3 and dataset.content["n_patients"] == 12
        assert dataset.content["data_types"] == ["clinical", "cytogenetics"] and dataset.content["standards"] == ["iscn"]

        report = runner.import_paths(COMMAND_LINE, [changed], group_id=group.id, publish=True)
        assert len(report.unchanged) == 1
        assert catalog.get_dataset(COMMAND_LINE, dataset.id).published_version == 3
        assert count(Dataset) == 1 and count(DatasetVersion) == 3


def test_archives_are_read_safely(app, group, tmp_path):
    archive = tar_gz(tmp_path / "batch.tar.gz", {
        "batch/NCT01339988.xml": LEUKAEMIA.read_bytes(),
        "batch/json/NCT02552212.json": (AACT / "json" / "NCT02552212.json").read_bytes(),
        "batch/README.md": b"# not a record",
        "../evil.xml": LEUKAEMIA.read_bytes(),
        "/absolute.xml": LEUKAEMIA.read_bytes(),
    }, links=("batch/link.xml",))
    assert sources.count_files([archive]) == 5
    with app.app_context():
        report = runner.import_paths(COMMAND_LINE, [archive], group_id=group.id)
    assert sorted(i.identifier for i in report.created) == ["NCT01339988", "NCT02552212"]
    reasons = {p.source.rsplit(":", 1)[1]: p.reason for p in report.rejected}
    assert reasons == {"../evil.xml": "refused: a path that climbs out of the archive",
                       "/absolute.xml": "refused: an absolute path inside the archive",
                       "batch/link.xml": "refused: not a regular file (link or device)"}


def test_oversized_members_and_broken_archives_are_refused(app, group, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_MEMBER_BYTES", 1000)
    archive = tar_gz(tmp_path / "big.tar.gz", {"NCT01339988.xml": LEUKAEMIA.read_bytes()})
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with app.app_context():
        report = runner.import_paths(COMMAND_LINE, [archive, broken], group_id=group.id)
        assert count(Dataset) == 0
    assert report.rejected[0].reason == "refused: larger than 0 MB"
    assert report.rejected[1].reason.startswith("not a readable archive")


def test_rejected_records_come_with_reasons_and_the_others_import(app, group):
    files = [AACT / "json" / "NCT02278341.json", AACT / "xml" / "NCT00980226-id-mismatch.xml",
             AACT / "json" / "NCT02210780.json", LEUKAEMIA]
    with app.app_context():
        report = runner.import_paths(COMMAND_LINE, files, group_id=group.id, publish=True)
        assert [(p.identifier, p.reason) for p in report.rejected] == [
            ("NCT02552212", "identifier mismatch: the file is named NCT02278341 but holds the record NCT02552212"),
        ]
        # records that lack what publication needs are imported all the same, as drafts to complete
        assert [(p.identifier, p.reason.split(" ", 1)[1]) for p in report.drafts] == [
            ("NCT00081588", "kept as a draft; missing: diseases"),
            ("NCT02210780", "kept as a draft; missing: diseases"),
        ]
        assert [n.reason for n in report.notes] == ["NCT00980226 (the file name) is an alias of NCT00081588; "
                                                    "imported as NCT00081588"]
        assert [i.identifier for i in report.created] == ["NCT00081588", "NCT02210780", "NCT01339988"]
        assert count(Dataset) == 3 and report.imported_anything
        assert len(catalog.published_datasets()) == 1
        assert report.summary() == ("3 created, 0 updated, 0 unchanged, 1 rejected (4 records in 4 files; "
                                    "2 kept as drafts)")


def _refuse_new_versions(refuse: bool) -> None:
    """A real failure half-way through a record: the database refuses to store its version."""
    engine = db.engine()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            if refuse:
                connection.exec_driver_sql(
                    "CREATE FUNCTION refuse_version() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END; $$"
                    " LANGUAGE plpgsql")
                connection.exec_driver_sql("CREATE TRIGGER refuse_version BEFORE INSERT ON dataset_version "
                                           "FOR EACH ROW EXECUTE FUNCTION refuse_version()")
            else:
                connection.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_version ON dataset_version")
                connection.exec_driver_sql("DROP FUNCTION IF EXISTS refuse_version()")
        elif refuse:
            connection.exec_driver_sql("CREATE TRIGGER refuse_version BEFORE INSERT ON dataset_version "
                                       "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_version")


def test_a_record_that_fails_half_way_leaves_nothing_behind(app, group):
    with app.app_context():
        _refuse_new_versions(True)
        try:
            report = runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=group.id, publish=True)
        finally:
            _refuse_new_versions(False)
        assert len(report.rejected) == 1 and report.created == []  # the database refused; the record is reported
        assert count(Dataset) == 0 and count(DatasetVersion) == 0
        assert db.session().scalar(select(func.count()).where(ChangeLog.entity_kind == "dataset")) == 0


def test_registry_records_need_a_group_and_stay_in_theirs(app, group):
    with app.app_context():
        report = runner.import_paths(COMMAND_LINE, [LEUKAEMIA])
        assert report.rejected[0].reason == "ClinicalTrials.gov records go into a study group: name one (--group)"
        runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=group.id)
        other = factories.group("EPLN", country="DE")
        report = runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=other.id)
        assert "into another study group" in report.rejected[0].reason
        assert count(Dataset) == 1


def test_a_withdrawn_dataset_is_not_revived(app, group, tmp_path):
    with app.app_context():
        (created,) = runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=group.id, publish=True).created
        catalog.withdraw(COMMAND_LINE, catalog.get_dataset(COMMAND_LINE, created.pid).id, "Consent was withdrawn.")
        changed = tmp_path / "NCT01339988.xml"
        changed.write_bytes(LEUKAEMIA.read_bytes().replace(b"Acute Leukemias", b"Acute Myeloid Leukemia"))
        report = runner.import_paths(COMMAND_LINE, [changed], group_id=group.id)
        assert report.rejected[0].reason == "A withdrawn dataset cannot be edited."


def test_data_use_can_be_chosen(app, group):
    with app.app_context():
        runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=group.id, data_use=["DUO:0000042", "DUO:0000019"])
        assert db.session().scalar(select(Dataset)).content["data_use"] == ["DUO:0000042", "DUO:0000019"]


def test_files_of_another_kind_are_skipped_or_refused_whole(app, group, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("minutes of the steering committee")
    with app.app_context():
        report = runner.import_paths(COMMAND_LINE, [notes, LEUKAEMIA], fmt=None, group_id=group.id)
        assert report.skipped == [str(notes)] and len(report.created) == 1
        forced = runner.import_paths(COMMAND_LINE, [LEUKAEMIA], fmt="harmony-json")
        assert [p.reason for p in forced.rejected] == ["not Harmony JSON lines (one JSON object per line)"]


def test_modified_fixtures_update_the_same_dataset(app, group):
    xml = AACT / "xml"
    with app.app_context():
        runner.import_paths(COMMAND_LINE, [xml / "NCT00513591.xml", xml / "NCT02028676.xml"], group_id=group.id)
        arrow = db.session().scalar(select(Dataset).where(Dataset.source_key == "ctgov:NCT02028676"))
        assert {"name": "GlaxoSmithKline"} in arrow.content["creators"]
        report = runner.import_paths(COMMAND_LINE, [xml / "NCT00513591_mod.xml", xml / "NCT02028676_modified.xml"],
                                     group_id=group.id)
        assert sorted(i.identifier for i in report.updated) == ["NCT00513591", "NCT02028676"]
        assert count(Dataset) == 2
        registry = catalog.get_dataset(COMMAND_LINE, report.updated[0].pid).content
        assert registry["description"].startswith("Official title: This Is An Updated Title")
        # the modified record has no collaborators: neither has the description any more
        arrow = catalog.get_dataset(COMMAND_LINE, arrow.id)
        assert {"name": "GlaxoSmithKline"} not in arrow.content["creators"]
        assert arrow.content["creators"][-1] == {"name": "Medical Research Council"}
