"""`harmony mail send [--follow]`: the worker that delivers the outbox and retries what failed."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from harmony.notifications import outbox

log = logging.getLogger("harmony.mail")
BATCH = 100


@click.group("mail", cls=AppGroup)
def mail_cli() -> None:
    """Outgoing e-mail."""


@mail_cli.command("send")
@click.option("--follow", is_flag=True, help="Keep delivering until interrupted (Ctrl-C or SIGTERM).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds between two looks at the outbox with --follow.")
def send(follow: bool, interval: float) -> None:
    """Deliver the e-mails that are due and print: sent N, retrying N, failed N."""
    if not follow:
        click.echo(str(_deliver_all()))
        return
    stop = threading.Event()
    with _stop_on_signals(stop):
        click.echo(f"Delivering the outbox every {interval:g} s; Ctrl-C stops.")
        while not stop.is_set():
            try:
                report = _deliver_all(stop)
            except Exception:  # the database may be restarting: keep the worker alive and try again
                log.exception("delivering the outbox failed; trying again in %g s", interval)
            else:
                if report.sent or report.retrying or report.failed:
                    click.echo(str(report))
            stop.wait(interval)
    click.echo("Stopped.")


def _deliver_all(stop: threading.Event | None = None) -> outbox.DeliveryReport:
    """Batches until fewer than a full batch was due (or a stop was asked for)."""
    total = outbox.DeliveryReport()
    while True:
        report = outbox.deliver_due(limit=BATCH)
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        if report.sent + report.retrying + report.failed < BATCH or (stop is not None and stop.is_set()):
            return total


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM finish the mail being sent, then end the loop (no half-recorded sends)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda _signum, _frame: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
