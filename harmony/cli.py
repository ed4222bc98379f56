"""The `harmony` command: Flask's own commands plus one group per package."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from harmony import migrate
from harmony.config import ConfigError


def _create_app():
    from harmony.app import create_app

    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"harmony: configuration error: {error}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=True, load_dotenv=False)
def cli() -> None:
    """Harmony: a FAIR catalog of haematology trial datasets and governed access to them."""


def main() -> None:
    cli.main(prog_name="harmony")


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest schema)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_downgrade(revision: str, yes: bool) -> None:
    """Migrate the database back to REVISION ('base' removes every table)."""
    if not yes:
        click.confirm(f"Downgrade the database to {revision}? Data in dropped tables is lost", abort=True)
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at {revision}.")


@db_group.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the newest one."""
    from harmony import db

    with db.engine().connect() as connection:
        current = migrate.current_revision(connection)
    click.echo(f"current: {current or 'empty'}\nhead:    {migrate.head_revision()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(current_app.config["DATABASE_URL"], message)


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
def demo_load() -> None:
    """Load the demo study groups, committees, users and datasets (idempotent)."""
    from harmony.demo import load_demo

    for line in load_demo():
        click.echo(line)


@demo_group.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_run(host: str, port: int) -> None:
    """Start the development OpenID provider and the app, and say how to sign in as each persona."""
    from harmony.demo.run import run_demo

    run_demo(host, port)


def register_commands(app: Flask) -> None:
    from harmony.access_requests.cli import audit_cli, committees_cli, requests_cli
    from harmony.accounts.cli import dev_idp, users
    from harmony.catalog.cli import catalog_cli
    from harmony.notifications.cli import mail_cli
    from harmony.passports.cli import keys_cli
    from harmony.platforms.cli import platforms_cli
    from harmony.search.cli import search_cli

    app.cli.add_command(db_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(users)
    app.cli.add_command(dev_idp)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(committees_cli)
    app.cli.add_command(requests_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(platforms_cli)
