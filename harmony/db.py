"""Database access: one engine per app, one session per app context, and the unit of work.

Reads use the session of the current app context. Writes happen inside `unit_of_work()`,
which opens a write transaction (``BEGIN IMMEDIATE`` on SQLite, so concurrent writers queue on
the busy timeout instead of failing), commits, and only then runs the after-commit work
(sending mail, updating the search index). Work registered in a transaction that rolls back is
dropped. Catalog changes are written to the change log in the same transaction, so derived
copies can catch up from it after a crash.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, String, TypeDecorator, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from harmony import clock
from harmony.change_watch import ChangeWatch

log = logging.getLogger(__name__)

# Stable constraint names, so that migrations can name what they alter on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

ROW_ID_MAX = 2**31 - 1  # the largest id an integer column holds on PostgreSQL
_ENGINE_KEY = "harmony.db.engine"
_WATCH_KEY = "harmony.db.change_watch"
_WRITE_OPTION = "harmony_write"


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use harmony.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid.
SequenceInteger = BigInteger().with_variant(Integer(), "sqlite")


class ChangeLog(SQLModel, table=True):
    """One row per change to a catalog entity, in commit order of its sequence number."""

    __tablename__ = "change_log"

    seq: int | None = Field(default=None, primary_key=True, sa_type=SequenceInteger)
    entity_kind: str = Field(sa_type=String(40), index=True)
    entity_id: str = Field(sa_type=String(64))
    action: str = Field(sa_type=String(20))
    changed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


def create_engine(url: str, *, sqlite_busy_timeout_ms: int = 15000) -> Engine:
    """An engine with Harmony's connection settings for SQLite or PostgreSQL."""
    if url.startswith("sqlite"):
        engine = sa_create_engine(
            url,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    return sa_create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN, instead of the driver's own guesswork.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front: a second writer waits on the busy
        # timeout here rather than failing later when it tries to upgrade a read lock.
        immediate = connection.get_execution_options().get(_WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app: Flask) -> None:
    """Create the app's engine and close the session at the end of each request and app context."""
    app.extensions[_ENGINE_KEY] = create_engine(
        app.config["DATABASE_URL"], sqlite_busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )
    watch = app.extensions[_WATCH_KEY] = ChangeWatch(app.extensions[_ENGINE_KEY])
    add_change_listener(app, watch.forget)  # this process's own commits: known at once
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions[_ENGINE_KEY]


def change_watch() -> ChangeWatch:
    """What tells this process whether the change log may have moved since it last read it."""
    return current_app.extensions[_WATCH_KEY]


def _owner() -> object:
    """What a session belongs to: the command line invocation, else the request, else the app context.

    One app context can outlive several requests or commands (a test that keeps a request context
    pushed, as pytest-flask does, or the CLI runner inside it); each of them gets a session of its
    own, since a session kept across them would go on reading the snapshot of its first transaction.
    """
    command = click.get_current_context(silent=True)  # thread-local: request threads have none
    if command is not None:
        return command
    return request._get_current_object() if has_request_context() else g._get_current_object()


def session() -> Session:
    """The session of the current request, command or app context."""
    owner = _owner()
    held = g.get("_harmony_session")
    if held is not None and held[0]() is owner:
        return held[1]
    if held is not None:
        held[1].close()
    current = Session(engine(), expire_on_commit=False)
    g._harmony_session = (weakref.ref(owner), current)
    return current


def _close_session(_exc: BaseException | None) -> None:
    held = g.pop("_harmony_session", None)
    if held is not None:
        held[1].close()


_LISTENERS_KEY = "harmony.db.change_listeners"


def add_change_listener(app: Flask, listener: Callable[[], None]) -> None:
    """Call `listener` after every commit that wrote change-log rows (e.g. to update the search index).

    Packages that keep derived copies register here, so the packages that write need not know them.
    """
    app.extensions.setdefault(_LISTENERS_KEY, []).append(listener)


class UnitOfWork:
    """A write transaction with work to run once it has committed."""

    def __init__(self, db_session: Session):
        self.session = db_session
        self._after_commit: list[Callable[[], None]] = []
        self.changes_recorded = 0

    def after_commit(self, work: Callable[[], None]) -> None:
        """Run `work` after a successful commit; dropped if the transaction rolls back."""
        self._after_commit.append(work)

    def record_change(self, entity_kind: str, entity_id: Any, action: str) -> None:
        """Write a change-log row in this transaction, for derived copies to catch up from."""
        self.session.add(ChangeLog(entity_kind=entity_kind, entity_id=str(entity_id), action=action))
        self.changes_recorded += 1

    def _run_after_commit(self) -> None:
        if self.changes_recorded:
            if g.get("_harmony_batch") is not None:
                g._harmony_batch["changes"] += self.changes_recorded  # the batch runs listeners once, at its end
            else:
                self._after_commit.extend(current_app.extensions.get(_LISTENERS_KEY, []))
        for work in self._after_commit:
            try:
                work()
            except Exception:  # the transaction is committed; retries come from the outbox/log
                log.exception("after-commit work failed: %r", work)
        self._after_commit.clear()


@contextmanager
def batch() -> Iterator[None]:
    """Many units of work in a row (a bulk import): each commits on its own, but the change
    listeners run once at the end instead of after every commit."""
    if g.get("_harmony_batch") is not None:
        yield
        return
    g._harmony_batch = {"changes": 0}
    try:
        yield
    finally:
        changes = g._harmony_batch["changes"]
        g._harmony_batch = None
        if changes:
            for listener in current_app.extensions.get(_LISTENERS_KEY, []):
                try:
                    listener()
                except Exception:
                    log.exception("change listener failed after a batch: %r", listener)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Open a write transaction; commit on success, then run after-commit work.

    Nested calls join the outer unit of work, so services can call each other.
    """
    outer: UnitOfWork | None = g.get("_harmony_uow")
    if outer is not None:
        yield outer
        return
    db_session = session()
    if db_session.in_transaction():
        if db_session.new or db_session.dirty or db_session.deleted:
            raise RuntimeError("changes were made outside a unit of work")
        db_session.commit()  # end the read transaction so the write one can begin afresh
    db_session.connection(execution_options={_WRITE_OPTION: True})
    uow = UnitOfWork(db_session)
    g._harmony_uow = uow
    try:
        yield uow
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        g._harmony_uow = None
    uow._run_after_commit()
