"""`harmony platforms add|list|revoke|deliver`: data platforms, their service tokens and webhooks."""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from harmony.accounts.cli import _fail
from harmony.accounts.services import COMMAND_LINE
from harmony.errors import HarmonyError
from harmony.notifications import worker
from harmony.platforms import tokens, webhooks
from harmony.validation import parse

log = logging.getLogger("harmony.webhooks")
platforms_cli = AppGroup("platforms", help="Data platforms: service tokens and signed webhooks.")


@platforms_cli.command("add")
@click.argument("name")
@click.option("--webhook", metavar="URL", help="Where to post the signed grant events (optional).")
def add(name: str, webhook: str | None) -> None:
    """Register the data platform NAME; print its webhook secret and, alone on the last line, its service
    token (shown only this once)."""
    try:
        platform, token = tokens.register_platform(COMMAND_LINE, parse(tokens.PlatformInput, {
            "name": name, "webhook_url": webhook or None}))
    except HarmonyError as error:
        _fail(error)
    click.echo(f"Data platform {platform.name} is registered.")
    if platform.webhook_secret:
        click.echo(f"Webhook: {platform.webhook_url}")
        click.echo(f"Webhook secret (verify X-Harmony-Signature with it): {platform.webhook_secret}")
    click.echo("Service token (shown only now; send it as 'Authorization: Bearer <token>'):")
    click.echo(token)


@platforms_cli.command("list")
def list_platforms() -> None:
    """List the data platforms: token prefix, webhook, last use, and whether revoked."""
    found = tokens.platforms()
    if not found:
        click.echo("No data platform is registered.")
    for platform in found:
        used = platform.last_used_at.strftime("%Y-%m-%d %H:%M") if platform.last_used_at else "never"
        status = f"revoked {platform.revoked_at:%Y-%m-%d}" if platform.revoked_at else "active"
        pending = webhooks.pending_count(platform.id)
        click.echo(f"{platform.name}: token {platform.token_prefix}…, webhook {platform.webhook_url or 'none'}"
                   f"{f' ({pending} waiting)' if pending else ''}, last used {used}, {status}")


@platforms_cli.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the data platform NAME: its token stops working and it gets no more webhooks."""
    try:
        platform = tokens.revoke_platform(COMMAND_LINE, name)
    except HarmonyError as error:
        _fail(error)
    click.echo(f"Data platform {platform.name} is revoked.")


@platforms_cli.command("deliver")
@click.option("--follow", is_flag=True, help="Keep delivering until interrupted (Ctrl-C or SIGTERM).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds between two looks for due webhooks with --follow.")
def deliver(follow: bool, interval: float) -> None:
    """Post the webhooks that are due (new ones and retries) and print: sent N, retrying N, failed N."""
    worker.run(webhooks.deliver_due, follow, interval, "webhooks", log)
