"""Whether the change log may have moved since this process last read it, known without asking the database.

The catalog caches (`catalog.position_cache`) are keyed by the change log's position. Reading it
on every request costs a round trip to PostgreSQL, several in fact (checkout, ping, query,
rollback), which is most of the work of serving a cached page. So each process remembers the
position it read last and reads it again only when a change may have happened:

- on PostgreSQL every statement that inserts change-log rows notifies the channel
  `harmony_change_log` (a trigger, from migration 4d1f0c2b7a9e), and each process keeps one
  connection listening to it: a request looks at that connection's socket (a system call, no
  round trip) and reads the position again only when a notification has arrived;
- on SQLite a connection of the process's own answers `PRAGMA data_version`, which moves whenever
  any other connection commits;
- a commit made by this process that wrote change-log rows forgets the position at once (a change
  listener), so a worker never serves what it has itself just changed;
- whatever happens to the listening connection, a remembered position is trusted for at most
  TRUST_SECONDS, and a broken signal is replaced (at most every RETRY_SECONDS; until then every
  request reads the position, as if there were no watch).

Another worker's commit is seen once its notification has crossed the loopback connection: the
committing transaction's NOTIFY is sent to listeners as it commits.
"""

from __future__ import annotations

import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

CHANNEL = "harmony_change_log"
TRUST_SECONDS = 2.0
RETRY_SECONDS = 5.0
T = TypeVar("T")
log = logging.getLogger(__name__)


class Signal(Protocol):
    def fired(self) -> bool:
        """True when a change may have been committed since the last call (or since the signal was made)."""

    def close(self) -> None: ...


class PostgresSignal:
    """A connection of its own, listening to CHANNEL; its socket is readable when a notification arrived."""

    def __init__(self, engine: Engine):
        pooled = engine.raw_connection()
        self._connection = pooled.driver_connection
        pooled.detach()  # ours for good: the pool neither reuses nor counts it
        self._connection.rollback()  # the pool's liveness check may have begun a transaction
        self._connection.autocommit = True
        self._connection.execute(f"LISTEN {CHANNEL}")

    def fired(self) -> bool:
        pgconn = self._connection.pgconn
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
        if not readable:
            return False
        pgconn.consume_input()  # raises when the server has gone: the watch then replaces the signal
        while pgconn.notifies() is not None:
            pass
        return True

    def close(self) -> None:
        self._connection.close()


class SqliteSignal:
    """A connection of its own asking `PRAGMA data_version`, which moves when another connection commits."""

    def __init__(self, path: str):
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._version = self._read()

    def _read(self) -> int:
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def fired(self) -> bool:
        version = self._read()
        moved, self._version = version != self._version, version
        return moved

    def close(self) -> None:
        self._connection.close()


def make_signal(engine: Engine) -> Signal | None:
    """The signal for the engine's database, or None where none can be had (every read goes to the database)."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return PostgresSignal(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        return SqliteSignal(database)
    return None


class ChangeWatch:
    """The last value read from the change log (its position), with what tells when to read it again."""

    def __init__(self, engine: Engine, make: Callable[[Engine], Signal | None] = make_signal):
        self._engine = engine
        self._make = make
        self._lock = threading.Lock()
        self._signal: Signal | None = None
        self._signal_pid = 0
        self._next_attempt = 0.0
        self._known: tuple[Any, float] | None = None  # value, when it was read (monotonic)
        self._generation = 0  # moves whenever what was read may be out of date
        self.reads = 0
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def current(self, read: Callable[[], T]) -> T:
        """What `read()` gave last, unless the change log may have moved since; then `read()` again."""
        with self._lock:
            if not self._signal_quiet():
                self._forget_locked()
            elif self._known is not None and time.monotonic() - self._known[1] < TRUST_SECONDS:
                return self._known[0]
            generation = self._generation
        value = read()  # after the signal was looked at: a change it has not shown yet fires it later
        self.reads += 1
        with self._lock:
            if generation == self._generation:
                self._known = (value, time.monotonic())
        return value

    @property
    def remembers(self) -> bool:
        """Whether a value is held (the next call may answer without reading)."""
        return self._known is not None

    def forget(self) -> None:
        """This process committed a change: the next request reads the position again."""
        with self._lock:
            self._forget_locked()

    def close(self) -> None:
        with self._lock:
            self._forget_locked()
            self._drop_signal()

    def _forget_locked(self) -> None:
        self._known = None
        self._generation += 1

    def _signal_quiet(self) -> bool:
        """False when a change may have happened, or when there is no signal to say otherwise."""
        if self._signal is not None and self._signal_pid != os.getpid():
            self._signal = None  # made before a fork: the parent's; not closed here, which would end it for the parent
        if self._signal is None:
            if time.monotonic() < self._next_attempt:
                return False
            try:
                self._signal = self._make(self._engine)
            except Exception:
                log.warning("no change signal from the database; reading the change log on every request", exc_info=True)
                self._signal = None
            self._signal_pid = os.getpid()
            if self._signal is None:
                self._next_attempt = time.monotonic() + RETRY_SECONDS
            return False  # a new signal knows nothing of what happened before it
        try:
            return not self._signal.fired()
        except Exception:
            log.warning("the change signal broke; making a new one", exc_info=True)
            self._drop_signal()
            return False

    def _drop_signal(self) -> None:
        signal, self._signal = self._signal, None
        if signal is not None and self._signal_pid == os.getpid():
            try:
                signal.close()
            except Exception:
                log.debug("closing the change signal failed", exc_info=True)
        self._next_attempt = time.monotonic() + RETRY_SECONDS
