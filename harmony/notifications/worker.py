"""The delivery worker behind `harmony mail send` and `harmony platforms deliver`: batches of whatever is
due (mails, webhooks), once or until Ctrl-C/SIGTERM, surviving a database that restarts meanwhile."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from harmony.notifications.outbox import DeliveryReport

BATCH = 100
DeliverDue = Callable[..., DeliveryReport]  # deliver_due(limit=…): one batch


def run(deliver_due: DeliverDue, follow: bool, interval: float, what: str, log: logging.Logger) -> None:
    """Deliver what is due and print the report; with `follow`, look again every `interval` seconds."""
    if not follow:
        click.echo(str(deliver_all(deliver_due)))
        return
    stop = threading.Event()
    with stop_on_signals(stop):
        click.echo(f"Delivering {what} every {interval:g} s; Ctrl-C stops.")
        while not stop.is_set():
            try:
                report = deliver_all(deliver_due, stop)
            except Exception:  # the database may be restarting: keep the worker alive and try again
                log.exception("delivering %s failed; trying again in %g s", what, interval)
            else:
                if report.sent or report.retrying or report.failed:
                    click.echo(str(report))
            stop.wait(interval)
    click.echo("Stopped.")


def deliver_all(deliver_due: DeliverDue, stop: threading.Event | None = None) -> DeliveryReport:
    """Batches until fewer than a full batch was due (or a stop was asked for)."""
    total = DeliveryReport()
    while True:
        report = deliver_due(limit=BATCH)
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        if report.sent + report.retrying + report.failed < BATCH or (stop is not None and stop.is_set()):
            return total


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM finish the delivery under way, then end the loop (no half-recorded sends)."""
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
