"""Whether the change log may have moved since this process last read it, known without asking the database.

The catalog caches (`catalog.position_cache`) are keyed by the change log's position. Reading it
on every request costs a round trip to PostgreSQL, several in fact (checkout, ping, query,
rollback), which is most of the work of serving a cached page. So each process remembers the
position it read last and reads it again only when a change may have happened:

- on PostgreSQL every statement that inserts change-log rows notifies the channel
  `harmony_change_log` (a trigger, from migration 4d1f0c2b7a9e), and a thread of each process
  listens to it on a connection of its own (one more connection per worker): a request looks at
  a flag the thread raises, and reads the position again only when it is raised;
- on SQLite a connection of the process's own answers `PRAGMA data_version`, which moves whenever
  any other connection commits;
- a commit made by this process that wrote change-log rows forgets the position at once (a change
  listener), so a worker never serves what it has itself just changed;
- whatever happens to the listening connection, a remembered position is trusted for at most
  TRUST_SECONDS. Notifications that cannot arrive without an error being seen (a pooler such as
  PgBouncer in transaction mode between Harmony and PostgreSQL; a connection cut without a word,
  until the TCP keepalives notice) leave that bound: another worker's change is then seen within
  TRUST_SECONDS rather than at once.

Another worker's commit is otherwise seen once its notification has crossed the loopback
connection: PostgreSQL sends it to listeners as the transaction commits.

A request that has already read in its transaction does not use the remembered position: its
snapshot (SQLite's, for one) may be older than the position, and what it computes would be kept
under a newer key than its data (`position_cache.current_position`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
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
    """A thread of this process listening to CHANNEL over a connection of its own.

    The thread sleeps in `select` on the connection's socket and raises a flag for each
    notification, so notifications are taken off the socket even while no request comes (an
    idle worker never holds up PostgreSQL's notification queue). Until it is listening, and
    whenever it is not (connection lost; it tries again every RETRY_SECONDS), `fired` says yes:
    every request reads the position, as if there were no watch.
    """

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._flag = threading.Event()
        self._listening = False
        self._closed = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._thread = threading.Thread(target=self._run, name="harmony-change-watch", daemon=True)
        self._thread.start()

    def fired(self) -> bool:
        if not self._listening:
            return True
        if self._flag.is_set():
            self._flag.clear()  # one that arrives now sets it again; this caller reads after it anyway
            return True
        return False

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            os.close(self._wake_read)
            os.close(self._wake_write)

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self._closed:
                try:
                    self._listen(selector)
                except Exception:
                    if not self._closed:
                        log.warning("the change log's notifications stopped; listening again in %s s", RETRY_SECONDS,
                                    exc_info=True)
                finally:
                    self._listening = False
                if not self._closed:
                    selector.select(timeout=RETRY_SECONDS)  # or until close()

    def _listen(self, selector: selectors.BaseSelector) -> None:
        import psycopg

        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10, keepalives=1, keepalives_idle=30,
                             keepalives_interval=10, keepalives_count=3,
                             application_name="harmony change watch") as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            pgconn = connection.pgconn
            socket = pgconn.socket
            selector.register(socket, selectors.EVENT_READ)
            try:
                self._listening = True
                self._flag.set()  # what changed before LISTEN took effect was never notified: read once more
                while not self._closed:
                    for key, _events in selector.select():
                        if key.fd == self._wake_read:
                            return
                        pgconn.consume_input()  # raises when the server has gone
                        while pgconn.notifies() is not None:
                            pass
                        self._flag.set()
            finally:
                selector.unregister(socket)  # by number: a lost connection no longer tells its socket


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
    url = engine.url
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return PostgresSignal(url.set(drivername="postgresql").render_as_string(hide_password=False))
    database = url.database
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
        with self._lock:
            self.reads += 1
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
