"""`harmony committees …`, `harmony requests tick` and `harmony audit verify`."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from harmony import clock, db
from harmony.access_requests import audit, committees, deadlines
from harmony.access_requests.models import RULES
from harmony.accounts.cli import _fail
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.errors import HarmonyError
from harmony.validation import parse

committees_cli = AppGroup("committees", help="Data access committees.")
requests_cli = AppGroup("requests", help="The access-request workflow.")
audit_cli = AppGroup("audit", help="The proposals' audit trails.")


def _quorum(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise click.BadParameter("a whole number of votes (2) or a fraction of the members (0.5)") from None
    return number


@committees_cli.command("add")
@click.argument("name")
@click.option("--rule", type=click.Choice(RULES), default="majority", show_default=True)
@click.option("--quorum", default="0.5", show_default=True, help="Votes needed: a count (2) or a fraction (0.5).")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 365), help="Voting period in days.")
@click.option("--answer-days", default=14, show_default=True, type=click.IntRange(1, 365),
              help="Days the applicant has to answer the committee's question.")
@click.option("--agreement-days", default=30, show_default=True, type=click.IntRange(1, 365),
              help="Days the applicants have to accept the agreement after an approval.")
@click.option("--agreement", type=click.File("r"), help="A file with the data access agreement's text.")
def add(name: str, rule: str, quorum: str, days: int, answer_days: int, agreement_days: int, agreement) -> None:
    """Create the committee NAME."""
    try:
        created = committees.create_committee(COMMAND_LINE, parse(committees.CommitteeInput, {
            "name": name, "rule": rule, "quorum": _quorum(quorum), "voting_days": days, "answer_days": answer_days,
            "agreement_days": agreement_days, "agreement": agreement.read() if agreement else None}))
    except HarmonyError as error:
        _fail(error)
    click.echo(f"Committee {created.name}: {rule}, quorum {committees.quorum_label(created.quorum)}, "
               f"{days} days to vote, {answer_days} to answer a question, {agreement_days} to accept the agreement.")


@committees_cli.command("govern")
@click.argument("name")
@click.argument("acronym")
def govern(name: str, acronym: str) -> None:
    """Let committee NAME decide on the datasets of study group ACRONYM."""
    try:
        committee = committees.committee_by_name(name)
        group = catalog.group_by_acronym(acronym)
        committees.govern(COMMAND_LINE, committee.id, group.id)
    except HarmonyError as error:
        _fail(error)
    click.echo(f"{committee.name} now governs the datasets of {group.acronym}.")


@committees_cli.command("list")
def list_committees() -> None:
    """List the committees with their rules, groups and members."""
    for committee in committees.committees():
        groups = ", ".join(g.acronym for g in committees.governed_groups(committee.id)) or "no study group"
        people = ", ".join(m.user.display_name + (" (chair)" if m.chair else "") for m in committees.members(committee.id))
        click.echo(f"{committee.name}: {committee.rule}, quorum {committees.quorum_label(committee.quorum)}, "
                   f"{committee.voting_days} days to vote, {committee.answer_days} to answer, "
                   f"{committee.agreement_days} to accept the agreement; governs {groups}; members: {people or 'none'}")


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 moment such as 2027-03-02T09:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@requests_cli.command("tick")
@click.option("--now", "now", envvar="HARMONY_TICK_NOW", metavar="MOMENT",
              help="Act as if it were this moment (ISO 8601, UTC unless it says otherwise). Debug, test and demo "
                   "instances only (HARMONY_DEBUG, HARMONY_TESTING or HARMONY_DEMO); also HARMONY_TICK_NOW.")
def tick(now: str | None) -> None:
    """Apply the deadlines (run it from cron; safe to run twice at once): close the voting of reviews past their
    deadline, expire access whose end has come, remind before due dates and escalate after them (each reminder
    goes out once)."""
    moment = _moment(now)
    if moment is not None and not (current_app.debug or current_app.testing or current_app.config.get("DEMO")):
        raise click.UsageError("--now (HARMONY_TICK_NOW) moves the clock: only on debug, test and demo instances.")
    with clock.frozen(moment) if moment is not None else nullcontext():
        report = deadlines.tick()
    for line in report.lines():
        click.echo(line)


@audit_cli.command("verify")
def verify() -> None:
    """Check every proposal's hash chain; exit 1 and name the first broken event of each broken chain."""
    broken = list(audit.verify(db.session()))
    for found in broken:
        click.echo(f"proposal {found.proposal_id}, event {found.seq}: {found.problem}", err=True)
    if broken:
        raise SystemExit(1)
    click.echo("Every audit trail verifies.")
