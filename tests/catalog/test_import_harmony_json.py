"""Harmony JSON lines: export everything, import it into an empty catalog, export again: the same lines."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from harmony import clock, db
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.catalog.importers import harmony_json, runner
from harmony.catalog.models import Dataset
from tests import factories
from tests.conftest import empty_tables

LEUKAEMIA = Path(__file__).parents[1] / "data" / "ctgov" / "aact" / "xml" / "NCT01339988.xml"


def start_afresh() -> None:
    """Empty every table (ending this context's read transaction first, which PostgreSQL's TRUNCATE waits for)."""
    db.session().close()
    empty_tables()


def make_catalog() -> None:
    """A draft, a dataset with two versions and unsaved changes, a withdrawn one, and a registry import."""
    hovon, gmall = factories.group("HOVON"), factories.group("GMALL", country="DE")
    cora = factories.curator("cora", hovon)
    factories.dataset(cora, hovon, publish=False, title="A draft nobody has published yet")
    with clock.frozen(datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)):
        versioned = factories.dataset(cora, hovon, acronym="HOVON-150")
    catalog.update_dataset(cora, versioned.id, factories.content(acronym="HOVON-150", n_patients=812,
                                                                 version_notes="Final patient count"))
    with clock.frozen(datetime(2025, 1, 2, tzinfo=UTC)):
        catalog.publish(cora, versioned.id)
    catalog.update_dataset(cora, versioned.id, factories.content(acronym="HOVON-150", n_patients=815))
    gone = factories.dataset(COMMAND_LINE, gmall, title="GMALL 08/2013 registry")
    with clock.frozen(datetime(2025, 6, 1, 12, 0, tzinfo=UTC)):
        catalog.withdraw(COMMAND_LINE, gone.id, "Consent for sharing was withdrawn by the centres.")
    runner.import_paths(COMMAND_LINE, [LEUKAEMIA], group_id=gmall.id, publish=True)


def test_export_import_export_gives_the_same_lines(app, tmp_path):
    with app.app_context():
        make_catalog()
        first = list(harmony_json.export_lines(COMMAND_LINE))
        start_afresh()
        factories.group("HOVON")
        factories.group("GMALL", country="DE")
        (tmp_path / "catalog.jsonl").write_text("\n".join(first) + "\n")
        report = runner.import_paths(COMMAND_LINE, [tmp_path / "catalog.jsonl"])
        assert (len(report.created), report.rejected, report.notes) == (4, [], [])
        second = list(harmony_json.export_lines(COMMAND_LINE))
    assert second == first
    records = [json.loads(line) for line in first]
    assert [r["state"] for r in records] == ["draft", "published", "withdrawn", "published"]
    assert [len(r["versions"]) for r in records] == [0, 2, 1, 1]
    assert records[1]["versions"][0]["issued_at"] == "2024-03-01T09:30:15.123456+00:00"
    assert records[1]["versions"][1]["notes"] == "Final patient count"
    assert records[1]["content"]["n_patients"] == 815  # the unpublished working copy travels too
    assert records[2]["withdrawn_at"] == "2025-06-01T12:00:00+00:00"
    assert records[3]["source_key"] == "ctgov:NCT01339988"


def test_importing_the_export_again_changes_nothing(app, tmp_path):
    with app.app_context():
        make_catalog()
        path = tmp_path / "catalog.jsonl"
        path.write_text("\n".join(harmony_json.export_lines(COMMAND_LINE)) + "\n")
        report = runner.import_paths(COMMAND_LINE, [path], fmt="harmony-json")
        assert (len(report.created), len(report.updated), len(report.unchanged)) == (0, 0, 4)
        assert db.session().scalar(select(func.count()).select_from(Dataset)) == 4


def test_bad_lines_are_rejected_and_the_others_import(app, tmp_path):
    with app.app_context():
        group = factories.group("HOVON")
        factories.dataset(COMMAND_LINE, group)
        (good,) = harmony_json.export_records(COMMAND_LINE)
        start_afresh()
        factories.group("HOVON")
        lines = [
            "{not json",
            json.dumps({**good, "surprise": 1}),
            json.dumps({**good, "group": "NOPE"}),
            json.dumps({**good, "state": "draft"}),
            json.dumps({**good, "content": {**good["content"], "population": "martians"}}),
            json.dumps(good),
        ]
        (tmp_path / "mixed.jsonl").write_text("\n".join(lines))
        report = runner.import_paths(COMMAND_LINE, [tmp_path / "mixed.jsonl"])
        reasons = [(p.identifier, p.reason) for p in report.rejected]
        assert reasons[0][0] == "line 1" and reasons[0][1].startswith("not JSON")
        assert reasons[1] == ("HM-000001", "surprise: Extra inputs are not permitted")
        assert reasons[2] == ("HM-000001", "No study group NOPE.")
        assert reasons[3][1].startswith("state: a draft has no versions")
        assert reasons[4][1].startswith("population: Input should be")
        assert [i.pid for i in report.created] == ["HM-000001"]


def test_a_line_from_another_instance_is_recognised_by_its_origin(app, tmp_path):
    with app.app_context():
        group = factories.group("HOVON")
        factories.dataset(COMMAND_LINE, group)
        (record,) = harmony_json.export_records(COMMAND_LINE)
        foreign = {**record, "origin": "https://harmony.elsewhere.example"}
        (tmp_path / "foreign.jsonl").write_text(json.dumps(foreign) + "\n")
        first = runner.import_paths(COMMAND_LINE, [tmp_path / "foreign.jsonl"])
        again = runner.import_paths(COMMAND_LINE, [tmp_path / "foreign.jsonl"])
        (created,) = first.created
        assert created.pid == "HM-000002" and len(again.unchanged) == 1
        assert first.notes[0].reason == "HM-000001 was given the PID HM-000002 here"
        copy = catalog.get_dataset(COMMAND_LINE, "HM-000002")
        assert copy.source_key == "harmony:https://harmony.elsewhere.example/datasets/HM-000001"
        assert copy.published_version == 1


@pytest.mark.parametrize("where", ["file", "stdout"])
def test_export_command(app, tmp_path, where):
    with app.app_context():
        factories.dataset(COMMAND_LINE, factories.group("HOVON"))
        expected = list(harmony_json.export_lines(COMMAND_LINE))
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "catalog.jsonl"
    result = app.test_cli_runner().invoke(args=["catalog", "export", str(target) if where == "file" else "-"])
    assert result.exit_code == 0, result.output
    written = target.read_text() if where == "file" else result.stdout
    assert written.splitlines() == expected
    assert [p.name for p in (tmp_path / "out").iterdir()] == (["catalog.jsonl"] if where == "file" else [])
