"""`harmony catalog …`: import dataset descriptions from registries and Harmony JSON, export them."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup

from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services
from harmony.catalog.importers import harmony_json, runner, sources
from harmony.catalog.vocabularies import duo
from harmony.errors import NotFound

catalog_cli = AppGroup("catalog", help="Import, export and check dataset descriptions.")

SHOWN_NOTES = 20


def _data_use(value: str | None) -> list[str] | None:
    if not value:
        return None
    terms = []
    for code in (part.strip() for part in value.split(",") if part.strip()):
        term = duo().get(code) or duo().by_shorthand(code)
        if term is None:
            raise click.BadParameter(f"{code} is not a DUO term (use a shorthand such as GRU, HMB, IRB, or an id)")
        terms.append(term.id)
    return terms


@catalog_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(runner.FORMATS), help="Default: detected for each file.")
@click.option("--group", "acronym", metavar="ACRONYM", help="Study group (acronym) the records go into; required for ctgov.")
@click.option("--publish", is_flag=True,
              help="Publish each registry record; those missing mandatory fields are rejected. "
                   "(Harmony JSON lines keep the state they were exported in.)")
@click.option("--data-use", "data_use", metavar="TERMS",
              help="Data-use conditions for registry records, e.g. GRU,IRB (default HMB,IRB).")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the report as JSON to this file.")
def import_command(paths: tuple[Path, ...], fmt: str | None, acronym: str | None, publish: bool,
                   data_use: str | None, report_file: Path | None) -> None:
    """Import ClinicalTrials.gov records (XML or JSON) or Harmony JSON lines from files, folders
    and .tar.gz archives. Exits 1 when every record was rejected."""
    terms = _data_use(data_use)
    if fmt == "ctgov" and not acronym:
        raise click.UsageError("ClinicalTrials.gov records go into a study group: give --group ACRONYM.")
    group_id = None
    if acronym:
        try:
            group_id = services.group_by_acronym(acronym).id
        except NotFound:
            raise click.UsageError(f"There is no study group {acronym}.") from None
    total = sources.count_files(paths)
    with click.progressbar(length=total, label="Importing", file=sys.stderr, show_pos=True,
                           item_show_func=lambda label: Path(label).name if label else "") as bar:
        report = runner.import_paths(COMMAND_LINE, paths, fmt, group_id, publish,
                                     progress=lambda label: bar.update(1, label), data_use=terms)
    _print_report(report)
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"Report written to {report_file}.")
    if not report.imported_anything:
        raise SystemExit(1)


def _print_report(report: runner.ImportReport) -> None:
    click.echo(f"Import: {report.summary()}.")
    for problem in report.rejected:
        what = f"{problem.identifier} " if problem.identifier else ""
        click.echo(f"  rejected {what}({problem.source}): {problem.reason}")
    for problem in report.drafts[:SHOWN_NOTES]:
        click.echo(f"  draft {problem.identifier}: {problem.reason}")
    if len(report.drafts) > SHOWN_NOTES:
        click.echo(f"  … and {len(report.drafts) - SHOWN_NOTES} more kept as drafts (see --report).")
    for label in report.skipped[:SHOWN_NOTES]:
        click.echo(f"  skipped {label}: neither registry records nor Harmony JSON lines")
    for problem in report.notes[:SHOWN_NOTES]:
        click.echo(f"  note {problem.identifier} ({problem.source}): {problem.reason}")
    if len(report.notes) > SHOWN_NOTES:
        click.echo(f"  … and {len(report.notes) - SHOWN_NOTES} more notes (see --report).")


@catalog_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
def export_command(path: str) -> None:
    """Write every dataset description, with its published versions, as Harmony JSON lines
    (re-importable with `harmony catalog import`); "-" writes to standard output."""
    lines = harmony_json.export_lines(COMMAND_LINE)
    if path == "-":
        for line in lines:
            click.echo(line)
        return
    target = Path(path)
    # Write beside the target and rename, so a failed export never leaves half a file behind.
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent or ".", prefix=f".{target.name}.",
                                         delete=False)
    count = 0
    try:
        with handle:
            for line in lines:
                handle.write(line + "\n")
                count += 1
        os.replace(handle.name, target)
    except BaseException:
        os.unlink(handle.name)
        raise
    click.echo(f"Exported {count} dataset descriptions to {target}.", err=True)


@catalog_cli.command("validate")
@click.option("--show", default=SHOWN_NOTES, show_default=True, help="How many violations to print.")
def validate_command(show: int) -> None:
    """Check every published dataset's RDF against the DCAT-AP 3.0.1 and HealthDCAT-AP shapes."""
    from flask import current_app

    from harmony.catalog.exports.conformance import check_published

    total, violations, warnings = 0, [], 0
    count = len(services.published_datasets())
    with click.progressbar(length=count, label="Validating", file=sys.stderr) as bar:
        for pids, report in check_published(current_app.config["BASE_URL"]):
            total += len(pids)
            violations += report.violations
            warnings += len(report.warnings)
            bar.update(len(pids))
    click.echo(f"{total} published datasets: {len(violations)} violations, {warnings} warnings.")
    for line in violations[:show]:
        click.echo(f"  {line}")
    if violations:
        raise SystemExit(1)


@catalog_cli.command("add-group")
@click.argument("acronym")
@click.argument("name")
@click.option("--country", help="ISO code or name of the country.")
@click.option("--ror", help="ROR id of the organisation, e.g. 03yrm5c26.")
@click.option("--website", help="https://…")
def add_group_command(acronym: str, name: str, country: str | None, ror: str | None, website: str | None) -> None:
    """Create the study group ACRONYM called NAME (admins can also do this on the API)."""
    from harmony.errors import ValidationError
    from harmony.validation import parse

    try:
        data = parse(services.GroupInput, {"acronym": acronym, "name": name, "country": country, "ror": ror,
                                           "website": website})
        group = services.create_group(COMMAND_LINE, data)
    except ValidationError as error:
        problems = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in error.fields.items())
        raise click.ClickException(problems or error.detail) from None
    click.echo(f"Study group {group.acronym} ({group.name}) created.")
