"""Publish or withdraw racing an edit: the lifecycle step is compare-and-set on the lock version, so an
edit saved between its read and its write makes it a 409 instead of publishing (or withdrawing) a
description its curator never saw.

Two threads, each with its own app context (so its own session and connection, as two requests). The
acting one is held right after it read the dataset until the edit has committed, so the interleaving
is not left to chance. On PostgreSQL that is what happens; SQLite takes the write lock when the
transaction begins, so there the edit waits for the action and the two run one after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from harmony import db
from harmony.catalog import services as catalog
from harmony.catalog.models import PUBLISHED, WITHDRAWN
from harmony.errors import Conflict, HarmonyError, InvalidTransition
from tests import factories

HANG_GUARD_SECONDS = 60  # only a guard against a deadlock; nothing waits this long when all is well


@pytest.fixture
def world(app):
    with app.app_context():
        group = factories.group("HOVON")
        cora = factories.curator("cora", group)
        kai = factories.curator("kai", group)
    return {"group": group, "cora": cora, "kai": kai}


def run_in_threads(app, calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each call in its own named thread and app context; returns each one's result or HarmonyError."""
    outcomes: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                outcomes[name] = call()
            except HarmonyError as error:
                outcomes[name] = error
            except BaseException as error:  # noqa: BLE001 - reported by the test
                outcomes[name] = error

    threads = [threading.Thread(target=run, args=(name, call), name=name, daemon=True) for name, call in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    crashed = {name: o for name, o in outcomes.items() if isinstance(o, BaseException) and not isinstance(o, HarmonyError)}
    assert not crashed, crashed
    return outcomes


@pytest.mark.parametrize("action", ["publish", "withdraw"])
def test_publish_or_withdraw_racing_an_edit_never_loses_the_edit(app, world, monkeypatch, action):
    cora, kai = world["cora"], world["kai"]
    with app.app_context():
        dataset_id = factories.dataset(cora, world["group"], title="First version").id
        if action == "publish":
            catalog.update_dataset(cora, dataset_id, factories.content(title="Ready for version two"))
        on_postgres = db.engine().dialect.name == "postgresql"

    action_has_read, edit_done = threading.Event(), threading.Event()
    read_dataset = catalog._for_curation

    def held_after_reading(session, actor, key):
        found = read_dataset(session, actor, key)
        if threading.current_thread().name == "acting":
            action_has_read.set()
            if on_postgres:  # SQLite: the edit cannot begin before this transaction ends
                assert edit_done.wait(HANG_GUARD_SECONDS)
        return found

    def edit():
        try:
            assert action_has_read.wait(HANG_GUARD_SECONDS)
            return catalog.update_dataset(kai, dataset_id, factories.content(title="Edited meanwhile"))
        finally:
            edit_done.set()

    def act():
        if action == "publish":
            return catalog.publish(cora, dataset_id)
        return catalog.withdraw(cora, dataset_id, "Withdrawn at the request of the study group.")

    monkeypatch.setattr(catalog, "_for_curation", held_after_reading)
    outcome = run_in_threads(app, {"acting": act, "editing": edit})
    monkeypatch.undo()

    with app.app_context():
        dataset = catalog.get_dataset(cora, dataset_id)
        latest = catalog.latest_version(dataset)
        # whatever the order, an edit is never marked published unless a version holds it
        assert dataset.has_unpublished_changes or latest.content == dataset.content
        # and a withdrawal and an edit never both go through: one of them did not see the other
        if action == "withdraw":
            assert any(isinstance(value, HarmonyError) for value in outcome.values()), outcome
        if on_postgres:  # the edit landed between the action's read and its write
            assert isinstance(outcome["acting"], Conflict), outcome["acting"]
            assert not isinstance(outcome["editing"], HarmonyError), outcome["editing"]
            assert dataset.state == PUBLISHED and dataset.content["title"] == "Edited meanwhile"
            assert dataset.has_unpublished_changes
            assert dataset.published_version == 1 and latest.content["title"] == "First version"
        elif action == "publish":  # one after the other: version two, then the edit on top
            assert not isinstance(outcome["acting"], HarmonyError) and outcome["acting"].version == 2
            assert latest.content["title"] == "Ready for version two"
            assert dataset.content["title"] == "Edited meanwhile" and dataset.has_unpublished_changes
        else:
            assert dataset.state == WITHDRAWN
            assert isinstance(outcome["editing"], InvalidTransition)
