"""change log notify: every insert into change_log notifies harmony_change_log (PostgreSQL)

Each process's change watch (harmony/change_watch.py) listens to the channel, so it need not read
the change log's position on every request to know whether its catalog caches still hold.
SQLite has no notifications; there the watch asks `PRAGMA data_version`.

Revision ID: 4d1f0c2b7a9e
Revises: 71ccad09a76a
Create Date: 2026-11-29 21:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '4d1f0c2b7a9e'
down_revision: str | None = '71ccad09a76a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION harmony_change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('harmony_change_log', '');
            RETURN NULL;
        END
        $$
    """)
    op.execute("CREATE TRIGGER change_log_notify AFTER INSERT ON change_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION harmony_change_log_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER change_log_notify ON change_log")
    op.execute("DROP FUNCTION harmony_change_log_notify()")
