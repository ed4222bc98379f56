"""`harmony search reindex` and `harmony search sync`."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from harmony.search import store
from harmony.search.index import LOCK_TIMEOUT, search_index

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
@click.option("--procs", type=int, default=None,
              help="Indexing processes (default: HARMONY_SEARCH_INDEX_PROCS, else 1).")
def reindex(procs: int | None) -> None:
    """Rebuild the index from the database beside the live one, then switch to it (searches go on)."""
    procs = procs or current_app.config["SEARCH_INDEX_PROCS"]
    started = time.monotonic()

    def progress(count: int) -> None:
        click.echo(f"  {count:,} datasets …", err=True)

    count = search_index().rebuild(procs=max(1, procs), progress=progress)
    click.echo(f"Indexed {count:,} published datasets in {time.monotonic() - started:.1f} s "
               f"into {current_app.config['SEARCH_INDEX_DIR']}.")


@search_cli.command("sync")
@click.option("--timeout", type=float, default=LOCK_TIMEOUT, show_default=True,
              help="Seconds to wait for another process that is writing the index.")
def sync(timeout: float) -> None:
    """Apply the changes committed since the index last caught up."""
    try:
        applied = search_index().sync(timeout=timeout)
    except store.LockTimeout as error:
        raise click.ClickException(f"{error}; try again later") from None
    click.echo(f"Applied {applied:,} change-log rows.")
