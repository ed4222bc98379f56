"""The search index of one app in this process: kept in step, refreshed, rebuilt.

Every process (web worker, CLI) has one `SearchIndex` per index folder. After a commit that
wrote change-log rows, the committing process applies them at once (`after_commit`). Before a
search, at most every `CHECK_INTERVAL` seconds, a process asks the database for the newest
sequence number and catches up if its folder is behind, which covers commits made by other
processes and other machines with their own folders; then it reopens its searcher if the folder
changed. So a commit is searchable everywhere within a fraction of a second.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from harmony import db
from harmony.errors import HarmonyError
from harmony.search import store, sync
from harmony.search.view import SegmentCache, View

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.2  # seconds between checks for commits made elsewhere
GAP_CHECK_INTERVAL = 1.0  # seconds between looks for late sequence numbers
LOCK_TIMEOUT = 10.0  # waiting for another writer of the same folder
SEARCH_LOCK_TIMEOUT = 0.5  # a search does not wait long: whoever holds the lock is applying
REBUILD_LOCK_TIMEOUT = 300.0
_EXTENSION = "harmony.search"


class IndexUnavailable(HarmonyError):
    """There is no index yet and the process building it did not finish in time."""

    status, title, type_slug = 503, "Search is not available yet", "search-unavailable"


@dataclass(frozen=True)
class _Open:
    name: str
    index: Any
    view: View


class SearchIndex:
    def __init__(self, root: str | Path, gap_timeout: float = sync.GAP_TIMEOUT) -> None:
        self.root = Path(root)
        self.gap_timeout = gap_timeout
        self._segments = SegmentCache()
        self._open: _Open | None = None
        self._refreshing = threading.Lock()
        self._checked = 0.0
        self._gaps_checked = 0.0
        self._dirty = True
        self.opened = 0  # views opened by this process so far: a new number whenever what searches see changes

    # --- writing ---------------------------------------------------------------------------

    def _connect(self) -> Any:
        return db.engine().connect()

    def sync(self, timeout: float = LOCK_TIMEOUT) -> int:
        """Apply pending change-log rows (building the index first if there is none)."""
        with store.writer_lock(self.root, timeout):
            name = store.current_name(self.root)
            if name is None:
                self._build_locked()
                return 0
            generation = self.root / name
            with self._connect() as connection:
                if sync.newest_seq(connection) < store.read_applied(generation).seq:
                    log.warning("the change log is behind the search index (database replaced?); rebuilding")
                    self._build_locked()
                    return 0
            applied = sync.apply_pending(self._connect, generation, store.open_index(generation), self.gap_timeout)
        self._dirty = True
        return applied

    def _build_locked(self) -> int:
        generation = store.new_generation(self.root)
        try:
            with self._connect() as connection:
                count = sync.build(connection, generation)
            sync.apply_pending(self._connect, generation, store.open_index(generation), self.gap_timeout)
            store.switch_to(self.root, generation)
        except BaseException:
            store.discard(generation)
            raise
        self._dirty = True
        return count

    def rebuild(self, procs: int = 1, progress: Any = None) -> int:
        """Build a fresh generation beside the live one, catch it up and switch to it; searches
        go on against the old one meanwhile. Returns the number of datasets indexed."""
        generation = store.new_generation(self.root)
        try:
            with self._connect() as connection:
                count = sync.build(connection, generation, procs, progress)
            with store.writer_lock(self.root, REBUILD_LOCK_TIMEOUT):
                sync.apply_pending(self._connect, generation, store.open_index(generation), self.gap_timeout)
                store.switch_to(self.root, generation)
        except BaseException:
            store.discard(generation)
            raise
        self._dirty = True
        return count

    def after_commit(self) -> None:
        """The change listener: apply what the transaction that just committed wrote."""
        self._dirty = True
        try:
            self.sync()
        except store.LockTimeout as error:  # the lock holder, or the next search, applies it
            log.warning("search index not updated after commit: %s", error)
        except Exception:  # the commit stands; the next search or `harmony search sync` catches up
            log.exception("the search index could not apply the change log now")

    # --- reading ---------------------------------------------------------------------------

    def view(self) -> View:
        """A view of the index that includes every commit made before this call (within the
        check interval for commits made by other processes)."""
        now = time.monotonic()
        if self._open is None or self._dirty or now - self._checked >= CHECK_INTERVAL:
            self._checked = now
            self._dirty = False
            self._catch_up(now)
            self._refresh()
        if self._open is None:
            raise IndexUnavailable("The search index is being built. Please try again in a minute.")
        return self._open.view

    def _catch_up(self, now: float) -> None:
        name = store.current_name(self.root)
        if name is not None:
            applied = store.read_applied(self.root / name)
            with self._connect() as connection:
                newest = sync.newest_seq(connection)
            late = bool(applied.gaps) and now - self._gaps_checked >= GAP_CHECK_INTERVAL
            if newest == applied.seq and not late:
                return
            self._gaps_checked = now
        try:
            self.sync(timeout=SEARCH_LOCK_TIMEOUT if name is not None else REBUILD_LOCK_TIMEOUT)
        except store.LockTimeout:
            pass  # another process is applying; the next check picks its work up

    def _refresh(self) -> None:
        if not self._refreshing.acquire(blocking=self._open is None):
            return  # another thread is refreshing; use the current view meanwhile
        try:
            name = store.current_name(self.root)
            current = self._open
            if name is None:
                return
            if current is not None and current.name == name and current.view.searcher.up_to_date():
                return
            index = current.index if current is not None and current.name == name else store.open_index(self.root / name)
            self._open = _Open(name, index, View(index.searcher(), self._segments))
            self.opened += 1
        finally:
            self._refreshing.release()


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = SearchIndex(app.config["SEARCH_INDEX_DIR"],
                                             float(app.config["SEARCH_GAP_TIMEOUT"]))
    db.add_change_listener(app, lambda: search_index().after_commit())


def search_index(app: Flask | None = None) -> SearchIndex:
    return (app or current_app).extensions[_EXTENSION]
