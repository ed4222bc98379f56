"""The change watch (harmony/change_watch.py): a cached catalog page costs no database statement while
nothing changes, and a change committed by another process (another app on the same database, as
another gunicorn worker is) is seen by the next requests, on both databases."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text

from harmony import change_watch, db
from harmony.catalog import position_cache
from harmony.catalog import services as catalog
from tests.conftest import make_app

SEEN_WITHIN_S = 10.0  # a bound for a notification to cross loopback, far above what it takes


@pytest.fixture
def other_worker(app, database_url, tmp_path):
    """A second app on the same database: what another gunicorn worker or a command line is."""
    other = make_app(database_url, SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"],
                     ATTACHMENT_DIR=str(tmp_path / "other-attachments"))
    yield other
    with other.app_context():
        db.engine().dispose()


@pytest.fixture
def trusted_for_long(monkeypatch):
    """Only the signal can show another process's change: the watch's time bound is out of reach."""
    monkeypatch.setattr(change_watch, "TRUST_SECONDS", 3600.0)


def statements_during(app, work) -> list[str]:
    seen: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def within(found, expected=bool):
    """`found()` once `expected(found())` holds, or at SEEN_WITHIN_S (waiting on the condition, not a time)."""
    deadline = time.monotonic() + SEEN_WITHIN_S
    while True:
        value = found()
        if expected(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def answers_within(client, path: str, status: int) -> int:
    return within(lambda: client.get(path).status_code, lambda found: found == status)


def listeners(app) -> set[int]:
    """The server processes of the change watches' listening connections."""
    with app.app_context():
        found = set(db.session().execute(text("SELECT pid FROM pg_stat_activity "
                                              "WHERE application_name = 'harmony change watch'")).scalars())
        db.session().rollback()
    return found


def test_a_cached_page_costs_no_statement_while_nothing_changes(app, client, one_published, trusted_for_long):
    path = f"/datasets/{one_published['published'].pid}"
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # the position is known now, the page is kept
    assert statements_during(app, lambda: client.get(path)) == []
    with app.app_context():  # this process's own commit: the next request reads the position again
        assert db.change_watch().remembers
        catalog.withdraw(one_published["cora"], one_published["published"].id, "Consent for data sharing was revoked.")
        assert not db.change_watch().remembers  # forgotten at the commit, before any notification
    assert statements_during(app, lambda: client.get(path)) != []
    assert client.get(path).status_code == 410


def test_another_workers_change_is_seen(app, client, one_published, other_worker, trusted_for_long):
    path = f"/datasets/{one_published['published'].pid}"
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    with other_worker.app_context():
        catalog.withdraw(one_published["cora"], one_published["published"].id, "Consent for data sharing was revoked.")
    assert answers_within(client, path, 410) == 410
    with app.app_context():
        assert db.change_watch().reads >= 2  # read at the start, and again after the signal


def test_a_request_that_has_read_keys_what_it_computes_by_its_own_snapshot(app, client, one_published, other_worker,
                                                                             trusted_for_long):
    """On SQLite a transaction sees the database as at its first read: a position the process
    learnt since is newer than what that transaction would compute and keep under it."""
    path = f"/datasets/{one_published['published'].pid}"
    assert client.get(path).status_code == 200  # the process remembers the position
    with app.app_context():
        db.session().execute(text("SELECT count(*) FROM dataset")).scalar()  # this transaction's view begins
        before = position_cache.read_position()
        with other_worker.app_context():
            catalog.withdraw(one_published["cora"], one_published["published"].id, "Consent for data sharing was revoked.")
        with app.app_context():  # another request of the process, in a transaction of its own, learns the new position
            learnt = within(position_cache.current_position, lambda found: found.key != before.key)
            db.session().rollback()
        assert learnt.key != before.key and db.change_watch().remembers
        assert position_cache.current_position() == position_cache.read_position()  # as this transaction sees it


@pytest.mark.postgres_only
def test_a_lost_listening_connection_is_replaced_and_nothing_stale_is_served(app, client, one_published, other_worker,
                                                                               trusted_for_long, monkeypatch):
    monkeypatch.setattr(change_watch, "RETRY_SECONDS", 0.05)
    path = f"/datasets/{one_published['published'].pid}"
    assert client.get(path).status_code == 200
    first = within(lambda: listeners(other_worker))
    assert first
    with other_worker.app_context():  # the server ends the listening connection (a restart does the same)
        db.session().execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE application_name = 'harmony change watch'"))
        db.session().commit()
    assert within(lambda: listeners(other_worker) - first)  # listening again, on a new connection
    within(lambda: statements_during(app, lambda: client.get(path)), lambda seen: seen == [])
    assert statements_during(app, lambda: client.get(path)) == []  # and trusted again: no statement
    with other_worker.app_context():
        catalog.withdraw(one_published["cora"], one_published["published"].id, "Consent for data sharing was revoked.")
    assert answers_within(client, path, 410) == 410


class CountingSignal:
    def __init__(self):
        self.fire_next = False
        self.broken = False
        self.closed = 0

    def fired(self) -> bool:
        if self.broken:
            raise OSError("connection lost")
        fired, self.fire_next = self.fire_next, False
        return fired

    def close(self) -> None:
        self.closed += 1


def test_the_watch_reads_again_only_when_the_signal_fires_or_the_trust_runs_out(app, monkeypatch):
    signals: list[CountingSignal] = []

    def make(_engine):
        signals.append(CountingSignal())
        return signals[-1]

    with app.app_context():
        watch = change_watch.ChangeWatch(db.engine(), make)
    reads = iter(range(100))
    read = lambda: next(reads)  # noqa: E731
    assert watch.current(read) == 0  # a new signal knows nothing of before it
    assert watch.current(read) == 0 and watch.current(read) == 0
    signals[0].fire_next = True
    assert watch.current(read) == 1
    watch.forget()
    assert watch.current(read) == 2 and watch.current(read) == 2
    monkeypatch.setattr(change_watch, "TRUST_SECONDS", 0.0)
    assert watch.current(read) == 3
    monkeypatch.setattr(change_watch, "TRUST_SECONDS", 3600.0)
    signals[0].broken = True  # read on every call until a new signal is made, RETRY_SECONDS later
    assert [watch.current(read) for _ in range(3)] == [4, 5, 6]
    assert signals[0].closed == 1 and len(signals) == 1
    monkeypatch.setattr(change_watch, "RETRY_SECONDS", 0.0)
    watch._next_attempt = 0.0
    assert watch.current(read) == 7 and len(signals) == 2
    assert watch.current(read) == 7

    watch.forget()

    def read_while_a_commit_lands():
        watch.forget()  # this process commits while the position is being read
        return read()

    assert watch.current(read_while_a_commit_lands) == 8
    assert watch.current(read) == 9  # what was read during the commit is not remembered
    assert watch.current(read) == 9
    watch.close()
    assert signals[1].closed == 1
