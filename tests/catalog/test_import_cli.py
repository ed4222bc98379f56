"""`harmony catalog import`: progress, the report on screen and as JSON, exit codes."""

import json
from pathlib import Path

from sqlalchemy import select

from harmony import db
from harmony.catalog.models import Dataset
from tests import factories

AACT = Path(__file__).parents[1] / "data" / "ctgov" / "aact"
LEUKAEMIA = AACT / "xml" / "NCT01339988.xml"
MISMATCH = AACT / "json" / "NCT02278341.json"


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["catalog", "import", *args])


def test_import_prints_a_report_and_writes_it_as_json(app, tmp_path):
    with app.app_context():
        factories.group("NHTG")
    report_file = tmp_path / "report.json"
    result = invoke(app, "--group", "NHTG", "--publish", "--data-use", "GRU,PUB", "--report", str(report_file),
                    str(LEUKAEMIA), str(MISMATCH))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Import: 1 created, 0 updated, 0 unchanged, 1 rejected (2 records in 2 files)."
    assert lines[1] == (f"  rejected NCT02552212 ({MISMATCH}): identifier mismatch: the file is named NCT02278341 "
                        "but holds the record NCT02552212")
    assert "Importing" in result.stderr  # the progress bar
    report = json.loads(report_file.read_text())
    assert report["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert report["created"][0]["identifier"] == "NCT01339988" and report["created"][0]["pid"].startswith("HM-")
    with app.app_context():
        dataset = db.session().scalar(select(Dataset))
        assert dataset.state == "published" and dataset.content["data_use"] == ["DUO:0000042", "DUO:0000019"]


def test_exit_code_is_1_when_every_record_is_rejected(app):
    with app.app_context():
        factories.group("NHTG")
    result = invoke(app, "--group", "NHTG", str(MISMATCH))
    assert result.exit_code == 1
    assert "0 created" in result.stdout and "rejected NCT02552212" in result.stdout


def test_usage_errors(app):
    with app.app_context():
        factories.group("NHTG")
    assert "give --group" in invoke(app, "--format", "ctgov", str(LEUKAEMIA)).stderr
    assert "There is no study group NOPE" in invoke(app, "--group", "NOPE", str(LEUKAEMIA)).stderr
    result = invoke(app, "--group", "NHTG", "--data-use", "GRU,XYZ", str(LEUKAEMIA))
    assert result.exit_code == 2 and "XYZ is not a DUO term" in result.stderr


def test_add_group_from_the_command_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "add-group", "NHTG", "Northern Haematology Trials Group", "--country", "NL"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["catalog", "add-group", "nhtg", "Another"])
    assert again.exit_code != 0 and "acronym" in again.output
    bad = runner.invoke(args=["catalog", "add-group", "X1", "Group", "--country", "Atlantis"])
    assert bad.exit_code != 0 and "country" in bad.output
