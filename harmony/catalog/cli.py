"""`harmony catalog …`."""

from __future__ import annotations

from flask.cli import AppGroup

catalog_cli = AppGroup("catalog", help="Import, export and check dataset descriptions.")
