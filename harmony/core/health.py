"""The health report: is the database reachable, and is its schema at the newest migration?"""

from __future__ import annotations

import logging

from sqlalchemy import text

from harmony import db
from harmony.migrate import current_revision, head_revision

log = logging.getLogger(__name__)


def check() -> dict:
    head = head_revision()
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            current = current_revision(connection)
    except Exception as error:  # report, never raise: this is what monitoring reads
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return {"status": "error", "database": "unreachable", "schema": {"head": head, "current": None}}
    at_head = current == head
    return {
        "status": "ok" if at_head else "degraded",
        "database": "ok",
        "schema": {"head": head, "current": current, "at_head": at_head},
    }
