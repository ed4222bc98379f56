"""`harmony mail send [--follow]`: the worker that delivers the outbox and retries what failed."""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from harmony.notifications import outbox, worker

log = logging.getLogger("harmony.mail")


@click.group("mail", cls=AppGroup)
def mail_cli() -> None:
    """Outgoing e-mail."""


@mail_cli.command("send")
@click.option("--follow", is_flag=True, help="Keep delivering until interrupted (Ctrl-C or SIGTERM).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds between two looks at the outbox with --follow.")
def send(follow: bool, interval: float) -> None:
    """Deliver the e-mails that are due and print: sent N, retrying N, failed N."""
    worker.run(outbox.deliver_due, follow, interval, "the outbox", log)
