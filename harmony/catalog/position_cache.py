"""Figures and pages derived from the catalog, kept for as long as the catalog has not changed.

Every catalog change writes a change-log row in its own transaction (`db.UnitOfWork.record_change`),
so the change log's position says whether anything the home page's figures or a catalog page in
RDF are made of may have changed. A request finds what it needs under the current position; a
publish, a withdrawal or an import by any worker moves the position, and the next request
anywhere computes afresh.

The cache is per process: with several gunicorn workers each keeps its own copy. Each reads the
position (one statement over the newest rows of an index range) only when the change watch
(`harmony/change_watch.py`) says it may have moved: at once after this process's own commits, as
soon as another process's commit has been notified, and at least every few seconds. A cached page
thus costs no statement at all, and none is served once its change is known, one computation per
worker after each change.

The position is the newest sequence number together with the number of rows among the newest
`WINDOW`: on PostgreSQL a sequence number is taken at insert, not at commit, so number 41 can
become visible after 42. The count sees it arrive (a rolled-back transaction leaves its gap for
good, which changes nothing). The position is read before the data, in the same transaction, so
what is kept under a position is never older than it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from flask import current_app
from sqlalchemy import func, select

from harmony import db
from harmony.db import ChangeLog

WINDOW = 1000  # newest change-log rows counted, to see a late commit fill its gap
_CACHE_KEY = "harmony.catalog.position_cache"
T = TypeVar("T")


class Position(NamedTuple):
    seq: int
    recent: int  # rows among the newest WINDOW sequence numbers
    changed_at: datetime | None  # when the newest of them was written

    @property
    def key(self) -> tuple[int, int]:
        return self.seq, self.recent


def current_position() -> Position:
    """Where the change log stands: as last read by this process, unless it may have moved since
    (`change_watch`: no statement at all while nothing has changed).

    A request that has read already reads the position in its own transaction: its snapshot may
    be older than the position the process remembers, and a value computed from it must not be
    kept under a newer key than its data."""
    if db.session().in_transaction():
        return read_position()
    return db.change_watch().current(read_position)


def read_position() -> Position:
    """Where the change log stands, as seen by this request's transaction."""
    newest = select(func.max(ChangeLog.seq)).scalar_subquery()
    row = db.session().execute(
        select(func.max(ChangeLog.seq), func.count(), func.max(ChangeLog.changed_at))
        .where(ChangeLog.seq > newest - WINDOW)
    ).one()
    return Position(row[0] or 0, row[1], row[2])


class PositionCache:
    """An LRU of values computed at one change-log position, bounded in bytes (0: keep nothing)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._position: Hashable = None
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, position: Hashable, key: Hashable, compute: Callable[[], T], size: Callable[[T], int]) -> T:
        with self._lock:
            if position == self._position and key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key][0]
        self.misses += 1
        value = compute()  # outside the lock: a slow page does not hold up the others
        cost = size(value)
        if cost > self.max_bytes:
            return value
        with self._lock:
            if position != self._position:  # the catalog moved on: what was kept is of no use now
                self._entries.clear()
                self._bytes = 0
                self._position = position
            if key in self._entries:
                self._bytes -= self._entries.pop(key)[1]
            self._entries[key] = (value, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return value


def cache() -> PositionCache:
    """This process's cache for the current app (sized by HARMONY_CATALOG_CACHE_BYTES)."""
    found = current_app.extensions.get(_CACHE_KEY)
    if found is None:
        found = current_app.extensions.setdefault(_CACHE_KEY, PositionCache(current_app.config["CATALOG_CACHE_BYTES"]))
    return found


def at_position(key: Hashable, compute: Callable[[], T], size: Callable[[T], int] = lambda _value: 1024,
                position: Position | None = None) -> T:
    """`compute()`, or what it gave at the current change-log position (computed anew when the cache is off).

    `position`: one the caller has just read in this transaction, to save reading it again.
    """
    if current_app.config["CATALOG_CACHE_BYTES"] <= 0:
        return compute()
    store = cache()
    return store.get((position or current_position()).key, key, compute, size)
