"""The unit of work: commit then after-commit work, rollback drops it, writers queue."""

import threading

import pytest
from sqlalchemy import func, select

from harmony import db
from harmony.db import ChangeLog


def count_changes() -> int:
    return db.session().scalar(select(func.count()).select_from(ChangeLog))


def test_commit_then_after_commit_work(app):
    seen = []
    with app.app_context():
        with db.unit_of_work() as uow:
            uow.record_change("dataset", 1, "created")
            uow.after_commit(lambda: seen.append(count_changes()))
            assert seen == []  # not before the commit
        assert seen == [1]


def test_rollback_drops_changes_and_after_commit_work(app):
    seen = []
    with app.app_context():
        with pytest.raises(RuntimeError):
            with db.unit_of_work() as uow:
                uow.record_change("dataset", 1, "created")
                uow.after_commit(lambda: seen.append("sent"))
                raise RuntimeError("validation failed half-way")
        assert seen == []
        assert count_changes() == 0


def test_nested_unit_of_work_joins_the_outer_one(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with db.unit_of_work() as outer:
                outer.record_change("dataset", 1, "created")
                with db.unit_of_work() as inner:
                    assert inner is outer
                    inner.record_change("dataset", 2, "created")
                raise RuntimeError("the outer work fails")
        assert count_changes() == 0


def test_failing_after_commit_work_keeps_the_commit(app):
    with app.app_context():
        with db.unit_of_work() as uow:
            uow.record_change("dataset", 1, "created")
            uow.after_commit(lambda: 1 / 0)
        assert count_changes() == 1


def test_change_log_sequence_is_monotonic(app):
    with app.app_context():
        for entity in range(5):
            with db.unit_of_work() as uow:
                uow.record_change("dataset", entity, "updated")
        rows = db.session().scalars(select(ChangeLog).order_by(ChangeLog.seq)).all()
        assert [row.entity_id for row in rows] == ["0", "1", "2", "3", "4"]
        assert all(row.changed_at.tzinfo is not None for row in rows)


def test_reads_before_a_unit_of_work_do_not_block_it(app):
    with app.app_context():
        assert count_changes() == 0  # opens a read transaction
        with db.unit_of_work() as uow:
            uow.record_change("dataset", 1, "created")
        assert count_changes() == 1


def test_two_writers_at_once_both_succeed(app, database_url):
    """Both threads read and then write. On SQLite a deferred transaction would let the second read and
    then fail with 'database is locked' when it writes; BEGIN IMMEDIATE keeps it from beginning at all
    until the first commits. The first holds its transaction until the second has either read (as on
    PostgreSQL) or been kept out: the second's app has no busy timeout, so being kept out shows at once
    as 'locked' at its first statement (before any read), and it tries again once the first is done."""
    from sqlalchemy.exc import OperationalError

    from tests.conftest import make_app

    impatient = make_app(database_url, SQLITE_BUSY_TIMEOUT_MS=0)
    first_has_read, second_is_in, first_done = threading.Event(), threading.Event(), threading.Event()
    kept_out: list[bool] = []
    errors: list[BaseException] = []

    def first():
        try:
            with app.app_context():
                with db.unit_of_work() as uow:
                    count_changes()
                    first_has_read.set()
                    assert second_is_in.wait(timeout=30)  # a hang guard only
                    uow.record_change("dataset", "first", "created")
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            first_done.set()

    def second():
        try:
            assert first_has_read.wait(timeout=30)
            with impatient.app_context():
                while True:
                    has_read = False
                    try:
                        with db.unit_of_work() as uow:
                            count_changes()
                            has_read = True
                            second_is_in.set()
                            uow.record_change("dataset", "second", "created")
                        return
                    except OperationalError as error:
                        if has_read or "locked" not in str(error) or kept_out:
                            raise  # locked after reading: the interleaving BEGIN IMMEDIATE prevents
                        kept_out.append(True)
                        second_is_in.set()
                        assert first_done.wait(timeout=30)
        except BaseException as error:
            errors.append(error)
            second_is_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with impatient.app_context():
        db.engine().dispose()
    assert errors == []
    assert kept_out == ([True] if database_url.startswith("sqlite") else [])
    with app.app_context():
        assert count_changes() == 2


def test_timestamps_must_be_timezone_aware(app):
    from datetime import datetime

    with app.app_context():
        with pytest.raises(Exception, match="naive datetime"):
            with db.unit_of_work() as uow:
                uow.session.add(ChangeLog(entity_kind="x", entity_id="1", action="a", changed_at=datetime(2026, 1, 1)))
                uow.session.flush()


def test_change_listeners_run_after_each_commit_or_once_after_a_batch(app):
    calls = []
    db.add_change_listener(app, lambda: calls.append(count_changes()))
    with app.app_context():
        with db.unit_of_work() as uow:
            uow.record_change("dataset", 1, "created")
        with db.unit_of_work():
            pass  # no change recorded: no call
        assert calls == [1]
        with db.batch():
            for entity in (2, 3, 4):
                with db.unit_of_work() as uow:
                    uow.record_change("dataset", entity, "created")
            assert calls == [1]
        assert calls == [1, 4]
