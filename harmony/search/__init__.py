"""Search: a whoosh index kept in step with the database's change log."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Hook the index to the change log (filled in by the search package)."""
