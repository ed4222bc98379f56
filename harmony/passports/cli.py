"""`harmony keys rotate` and `harmony keys list`: the keys that sign GA4GH visas."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from harmony import clock
from harmony.passports import keys

keys_cli = AppGroup("keys", help="The keys that sign GA4GH Passport visas (HARMONY_VISA_KEY_FILE).")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _state(key: keys.StoredKey, now: datetime) -> str:
    until = key.published_until(keys.lifetime())
    if until is None:
        return f"signing, made {_when(key.created_at)}"
    if until > now:
        return f"retired {_when(key.retired_at)}, published until {_when(until)}"
    return f"retired {_when(key.retired_at)}, its visas have expired: dropped at the next rotation"


@keys_cli.command("rotate")
def rotate() -> None:
    """Add a new signing key. The key that signed until now stays published in /.well-known/jwks.json until
    every visa it signed has expired (HARMONY_VISA_LIFETIME_SECONDS), then it is dropped."""
    now = clock.now()
    try:
        path, done = keys.rotate(now)
    except keys.KeysUnavailable as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"New signing key {done.new.kid} in {path}.")
    for key in done.retired:
        click.echo(f"Retired {key.kid}: published until {_when(key.published_until(keys.lifetime()))}.")
    for key in done.dropped:
        click.echo(f"Dropped {key.kid}: every visa it signed has expired.")
    click.echo("Published now:")
    for key in done.published:
        click.echo(f"  {key.kid}  {_state(key, now)}")


@keys_cli.command("list")
def list_keys() -> None:
    """The keys in the file and how long each stays published."""
    now = clock.now()
    try:
        path, found = keys.listing()
    except keys.KeysUnavailable as error:
        raise click.ClickException(error.detail) from None
    if found is None:
        click.echo(f"No key file at {path} yet; `harmony keys rotate` makes the first key.")
        return
    click.echo(f"{path}: {len(found)} key{'s' if len(found) != 1 else ''}, visas live "
               f"{current_lifetime_text()}.")
    for key in found:
        click.echo(f"  {key.kid}  {_state(key, now)}")


def current_lifetime_text() -> str:
    seconds = int(keys.lifetime().total_seconds())
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"
