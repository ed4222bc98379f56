"""The index stays in step with the database: crashes, concurrent writers, other machines, rebuilds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from harmony import db
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.catalog.models import PUBLISHED, Dataset
from harmony.search import bits, store, sync
from harmony.search import index as index_module
from harmony.search.index import search_index
from tests import factories
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]


def indexed(app) -> dict[int, int]:
    """What the index holds: dataset id → number of patients (plus one), one entry per live document."""
    with app.app_context():
        view = search_index().view()
        found: dict[int, int] = {}
        for doc in bits.ids(view.live):
            dataset_id = view.dataset_ids[doc]
            assert dataset_id not in found, f"dataset {dataset_id} indexed twice"
            found[dataset_id] = view.numbers["patients"].value(doc)
        return found


def expected(app) -> dict[int, int]:
    """What it should hold, from the database."""
    with app.app_context():
        return {dataset.id: catalog.latest_version(dataset).content["n_patients"] + 1
                for dataset in db.session().scalars(select(Dataset).where(Dataset.state == PUBLISHED))}


class SearchClock:
    """Stands in for `time` in harmony.search.index: its check intervals pass when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Just past `seconds` on (a hair more, so that float rounding cannot leave it short)."""
        self.now += seconds + 1e-6


@pytest.fixture
def search_clock(monkeypatch) -> SearchClock:
    clock = SearchClock()
    monkeypatch.setattr(index_module, "time", clock)
    return clock


@pytest.fixture
def another_app(database_url):
    """More apps on the same database (other worker processes, other machines); closed afterwards."""
    made = []

    def make(index_dir) -> object:
        made.append(make_app(database_url, SEARCH_INDEX_DIR=str(index_dir)))
        return made[-1]

    yield make
    for application in made:
        with application.app_context():
            db.engine().dispose()


@pytest.fixture
def seeded(app):
    with app.app_context():
        group = factories.group("HOVON")
        made = [factories.dataset(COMMAND_LINE, group, n_patients=100 + n, acronym=f"T{n}") for n in range(6)]
    return [dataset.id for dataset in made]


def test_another_machine_with_its_own_folder_converges(app, another_app, seeded, tmp_path, search_clock):
    other = another_app(tmp_path / "machine-b")
    assert indexed(other) == expected(app)  # built from the database on first use
    with app.app_context():
        catalog.update_dataset(COMMAND_LINE, seeded[0], factories.content(n_patients=4321))
        catalog.publish(COMMAND_LINE, seeded[0])
        catalog.withdraw(COMMAND_LINE, seeded[1], "Withdrawn at the request of the study group.")
    with other.app_context():  # machine B wrote nothing itself
        catalog.update_dataset(COMMAND_LINE, seeded[2], factories.content(n_patients=77))
        catalog.publish(COMMAND_LINE, seeded[2])
    search_clock.advance(index_module.CHECK_INTERVAL)  # when a process looks for others' commits again
    assert indexed(app) == indexed(other) == expected(app)
    assert indexed(app)[seeded[2]] == 78


def test_a_commit_is_searchable_within_a_second_everywhere(app, another_app, seeded, tmp_path, search_clock):
    """Here at once; on another machine at its next search once CHECK_INTERVAL (under a second) has passed."""
    assert index_module.CHECK_INTERVAL < 1.0
    other = another_app(tmp_path / "machine-b")
    here, there = app.test_client(), other.test_client()
    assert there.get("/api/v1/datasets").get_json()["total"] == len(seeded)
    with app.app_context():
        catalog.update_dataset(COMMAND_LINE, seeded[4], factories.content(acronym="QUOKKA"))
        catalog.publish(COMMAND_LINE, seeded[4])
    assert here.get("/api/v1/datasets", query_string={"q": "quokka"}).get_json()["total"] == 1  # at once, here
    search_clock.advance(index_module.CHECK_INTERVAL)
    assert there.get("/api/v1/datasets", query_string={"q": "quokka"}).get_json()["total"] == 1


def test_a_crash_between_index_commit_and_position_loses_nothing(app, seeded, monkeypatch):
    def crash(*_args):
        raise RuntimeError("killed before the position was saved")

    with app.app_context():
        search_index().view()
        monkeypatch.setattr(store, "write_applied", crash)
        catalog.update_dataset(COMMAND_LINE, seeded[3], factories.content(n_patients=999))
        catalog.publish(COMMAND_LINE, seeded[3])  # the listener fails after the index committed
        monkeypatch.undo()
    assert indexed(app) == expected(app)  # applied again, idempotently: no duplicate


@pytest.mark.parametrize(("mode", "point"), [
    ("update", "transaction"), ("update", "index-write"), ("update", "position"), ("rebuild", "build"),
])
def test_killed_writers_lose_nothing(app, database_url, seeded, search_clock, mode, point):
    """A real kill -9 of a process that writes the catalog and the index, landing in the middle of a
    write: the child stops there and says so, and the state before recovery shows it was mid-write."""
    index_dir = app.config["SEARCH_INDEX_DIR"]
    root = Path(index_dir)
    indexed(app)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.search.writer_child", database_url, index_dir, mode,
                              point, "3", *map(str, seeded)],
                             cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"ready"
        paused = child.stdout.readline().decode().split()
        assert paused[:2] == ["paused", point], paused
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stdout.close()

    live = store.current_name(root)
    with app.app_context(), db.engine().connect() as connection:
        newest = sync.newest_seq(connection)
        if point == "transaction":  # the write in progress is gone as a whole
            dataset = db.session().get(Dataset, int(paused[2]))
            assert dataset.content["n_patients"] != int(paused[3])
            assert store.read_applied(root / live).seq == newest  # earlier writes were applied
        elif point in ("index-write", "position"):  # committed in the database, not yet in the index
            assert store.read_applied(root / live).seq < newest
        else:  # a half-built generation beside the live one
            assert [p for p in root.iterdir() if p.name.startswith("g-") and p.name != live]
    search_clock.advance(index_module.CHECK_INTERVAL)
    assert indexed(app) == expected(app)
    generations = [p for p in root.iterdir() if p.name.startswith("g-")]
    assert len(generations) <= 3  # live, previous and perhaps the killed rebuild's


def test_concurrent_writers_lose_nothing(app, another_app, seeded):
    """Two writers at once, each as its own app (as two worker processes sharing one folder)."""
    twin = another_app(app.config["SEARCH_INDEX_DIR"])
    errors: list[BaseException] = []

    def write(application, ids, base):
        try:
            with application.app_context():
                for round_ in range(3):
                    for dataset_id in ids:
                        catalog.update_dataset(COMMAND_LINE, dataset_id, factories.content(n_patients=base + round_))
                        catalog.publish(COMMAND_LINE, dataset_id)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(app, seeded[:3], 500)),
               threading.Thread(target=write, args=(twin, seeded[3:], 700))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert indexed(app) == indexed(twin) == expected(app)
    assert set(expected(app).values()) == {503, 703}


def test_reindex_while_searching(app, seeded):
    stop = threading.Event()
    seen: list[int] = []
    failures: list[str] = []
    client = app.test_client()  # its own: pytest-flask's `client` keeps its context, which is this thread's

    def searching():
        while not stop.is_set():
            response = client.get("/api/v1/datasets", query_string={"q": "AML"})
            if response.status_code != 200:
                failures.append(response.get_data(as_text=True))
            else:
                seen.append(response.get_json()["total"])

    thread = threading.Thread(target=searching)
    thread.start()
    try:
        with app.app_context():
            for _ in range(3):
                assert search_index().rebuild() == len(seeded)
    finally:
        stop.set()
        thread.join()
    assert not failures and seen and set(seen) == {len(seeded)}
    generations = [p for p in Path(app.config["SEARCH_INDEX_DIR"]).iterdir() if p.name.startswith("g-")]
    assert len(generations) == 2  # the live one and the previous, for searchers still on it


def test_a_deleted_index_is_rebuilt(app, seeded):
    import shutil

    indexed(app)
    with app.app_context():
        search_index()._open = None
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    assert indexed(app) == expected(app)


@pytest.mark.postgres_only  # SQLite serialises writers: its numbers are always committed in order
def test_a_late_commit_with_an_earlier_number_is_applied(app, seeded, search_clock):
    """On PostgreSQL a transaction can commit after one that took a later sequence number."""
    with app.app_context():
        search_index().view()
        catalog.update_dataset(COMMAND_LINE, seeded[0], factories.content(n_patients=1234))  # not yet published
    holding = threading.Event()
    release = threading.Event()

    def late_writer():
        with app.app_context():
            with db.unit_of_work() as uow:
                catalog.publish(COMMAND_LINE, seeded[0])
                uow.session.flush()  # the change-log row takes its number now
                holding.set()
                release.wait(10)
                uow.changes_recorded = 0  # no listener: as if the process died right after committing

    thread = threading.Thread(target=late_writer)
    thread.start()
    root = Path(app.config["SEARCH_INDEX_DIR"])
    try:
        assert holding.wait(10)
        with app.app_context():
            catalog.update_dataset(COMMAND_LINE, seeded[1], factories.content(n_patients=4321))
            catalog.publish(COMMAND_LINE, seeded[1])  # commits a later number first; the index applies it
            assert store.read_applied(root / store.current_name(root)).gaps, "the missing number is remembered"
    finally:
        release.set()
        thread.join()
    assert indexed(app)[seeded[1]] == 4322
    search_clock.advance(index_module.GAP_CHECK_INTERVAL)  # searches look for late numbers once a second
    assert indexed(app) == expected(app)
    assert indexed(app)[seeded[0]] == 1235
    assert not store.read_applied(root / store.current_name(root)).gaps


def test_gaps_are_forgotten_when_too_old(app, seeded):
    with app.app_context(), db.engine().connect() as connection:
        top = sync.newest_seq(connection)
        start = store.Applied(top - 3, {})
        _rows, after = sync.scan(connection, start, now=1000.0)
        assert after.seq == top and not after.gaps
        _rows, after = sync.scan(connection, store.Applied(top, {top + 5: 1000.0}), now=1000.0 + sync.GAP_TIMEOUT + 1)
        assert after.gaps == {}


def test_command_line(app, seeded):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 6 published datasets" in result.output
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "Applied 0 change-log rows" in result.output
