"""`harmony search reindex` and `harmony search sync`."""

from __future__ import annotations

from flask.cli import AppGroup

search_cli = AppGroup("search", help="The search index.")
