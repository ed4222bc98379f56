"""A process that writes the catalog (or rebuilds the index) and stops in the middle of a write, for
crash tests: the parent kills it there with SIGKILL.

    python -m tests.search.writer_child DATABASE_URL INDEX_DIR {update|rebuild} PAUSE_AT NTH DATASET_ID...

PAUSE_AT names where it stops, the NTH time it gets there (earlier writes complete normally):
  transaction  inside a catalog write, after its UPDATE and change-log row, before the commit
  index-write  after the database committed, with the index writer open, before a document is written
  position     after the index committed, before the folder's applied position is saved
  build        in the middle of a rebuild, some documents written to the new generation
There it prints "paused PAUSE_AT DATASET_ID N_PATIENTS" (what it was writing) and waits on stdin.
"""

from __future__ import annotations

import sys
from typing import Any

from harmony import db
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.search import bulk, store, sync
from harmony.search.index import search_index
from tests.conftest import make_app
from tests.factories import content

writing = {"dataset_id": 0, "n_patients": 0}


def pause_at(point: str, nth: int) -> None:
    """Patch the function at `point` so that its NTH call stops the process there."""
    owner, name, before = {
        "transaction": (db.UnitOfWork, "record_change", False),
        "index-write": (sync, "document", True),
        "position": (store, "write_applied", True),
        "build": (bulk, "document", True),
    }[point]
    original = getattr(owner, name)
    calls = {"n": 0}

    def stop() -> None:
        print(f"paused {point} {writing['dataset_id']} {writing['n_patients']}", flush=True)
        sys.stdin.read()  # until killed (or the parent goes away)
        raise SystemExit(3)

    def patched(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == nth and before:
            stop()
        result = original(*args, **kwargs)
        if calls["n"] == nth:
            stop()
        return result

    setattr(owner, name, patched)


def main(database_url: str, index_dir: str, mode: str, point: str, nth: int, ids: list[int]) -> None:
    app = make_app(database_url, SEARCH_INDEX_DIR=index_dir)
    with app.app_context():
        search_index().view()  # open (or catch up) before anything is patched
        pause_at(point, nth)
        print("ready", flush=True)
        round_ = 0
        while True:
            round_ += 1
            if mode == "rebuild":
                search_index().rebuild()
                continue
            for dataset_id in ids:
                writing.update(dataset_id=dataset_id, n_patients=1000 + round_ * 10 + dataset_id % 10)
                catalog.update_dataset(COMMAND_LINE, dataset_id, content(n_patients=writing["n_patients"]))
                catalog.publish(COMMAND_LINE, dataset_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), [int(i) for i in sys.argv[6:]])
