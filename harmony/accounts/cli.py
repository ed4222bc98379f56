"""`harmony users …` and `harmony dev-idp`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from harmony.accounts import scopes, services
from harmony.accounts.models import ROLE_SCOPES
from harmony.errors import HarmonyError

users = AppGroup("users", help="People, their roles and their API tokens.")


def _fail(error: HarmonyError) -> None:
    detail = error.detail
    if getattr(error, "fields", None):
        detail += " " + "; ".join(f"{k}: {', '.join(v)}" for k, v in error.fields.items())
    raise click.ClickException(detail)


@users.command("grant")
@click.argument("subject")
@click.argument("role", type=click.Choice(list(ROLE_SCOPES)))
@click.option("--group", "group", help="Acronym of the study group (for curator).")
@click.option("--committee", "committee", help="Name of the committee (for member and chair).")
@click.option("--issuer", help="The provider's issuer, when the subject is known at several.")
def grant(subject: str, role: str, group: str | None, committee: str | None, issuer: str | None) -> None:
    """Grant ROLE to the user who signs in as SUBJECT."""
    scope_id = None
    wanted = ROLE_SCOPES[role]
    name = group if wanted == "group" else committee if wanted == "committee" else None
    if wanted and not name:
        raise click.UsageError(f"{role} needs --{wanted} NAME")
    if not wanted and (group or committee):
        raise click.UsageError(f"{role} is platform-wide; it takes no --group or --committee")
    try:
        user = services.find_user(subject, issuer)
        if wanted:
            kind = scopes.get(wanted)
            scope_id = kind.resolve(name) if kind else None
            if scope_id is None:
                raise click.ClickException(f"no {wanted} named {name!r}")
        services.grant_role(services.COMMAND_LINE,
                            services.RoleGrantInput(user_id=user.id, role=role, scope_id=scope_id), source="cli")
    except HarmonyError as error:
        _fail(error)
    where = f" of {wanted} {name}" if wanted else ""
    click.echo(f"{user.display_name} ({subject}) is now {role}{where}.")


@users.command("list")
def list_users() -> None:
    """List users and their roles."""
    for user in services.all_users():
        roles = ", ".join(
            grant.role + ("" if grant.scope_kind == "platform" else f" of {scopes.label_of(grant.scope_kind, grant.scope_id)}")
            for grant in services.grants_of(user.id)) or "researcher"
        click.echo(f"{user.id:>5}  {user.display_name:<30}  {user.email or '-':<35}  {roles}")


@users.command("token")
@click.argument("subject")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 365), help="Days until it expires.")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--issuer", help="The provider's issuer, when the subject is known at several.")
def token(subject: str, days: int, name: str, issuer: str | None) -> None:
    """Create a personal API token for SUBJECT and print it alone on the last line."""
    try:
        user = services.find_user(subject, issuer)
        _row, plain = services.create_token(services.COMMAND_LINE, user.id, services.TokenCreate(name=name, days=days))
    except HarmonyError as error:
        _fail(error)
    click.echo(f"Token for {user.display_name}, valid for {days} days. It is shown only now:", err=True)
    click.echo(plain)


@click.command("dev-idp")
@click.option("--port", default=None, type=int, help="Port (default: from HARMONY_DEV_IDP_URL, 9400).")
@click.option("--until-stdin-closes", is_flag=True, help="Also stop when standard input closes (its parent's end).")
def dev_idp(port: int | None, until_stdin_closes: bool) -> None:
    """Run the development OpenID provider on loopback, with the demo personas."""
    from harmony.accounts.devidp import serve

    url = current_app.config["DEV_IDP_URL"]
    serve(port or int(url.rsplit(":", 1)[1].split("/")[0]), until_stdin_closes)
