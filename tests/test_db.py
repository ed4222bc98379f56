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


def test_two_writers_at_once_both_succeed(app):
    """Both threads read and then write. On SQLite a deferred transaction would fail with
    'database is locked' here; BEGIN IMMEDIATE makes the second writer wait instead."""
    first_has_read = threading.Event()
    second_has_read = threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with app.app_context():
                with db.unit_of_work() as uow:
                    count_changes()
                    first_has_read.set()
                    second_has_read.wait(timeout=0.5)  # give the other writer every chance to interleave
                    uow.record_change("dataset", "first", "created")
        except BaseException as error:  # reported below
            errors.append(error)

    def second():
        try:
            first_has_read.wait(timeout=10)
            with app.app_context():
                with db.unit_of_work() as uow:
                    count_changes()
                    second_has_read.set()
                    uow.record_change("dataset", "second", "created")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
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
