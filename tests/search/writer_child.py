"""A process that writes the catalog (or rebuilds the index) until it is killed, for crash tests.

    python -m tests.search.writer_child DATABASE_URL INDEX_DIR {update|rebuild} DATASET_ID...
"""

from __future__ import annotations

import sys

from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.search.index import search_index
from tests.conftest import make_app
from tests.factories import content


def main(database_url: str, index_dir: str, mode: str, ids: list[int]) -> None:
    app = make_app(database_url, SEARCH_INDEX_DIR=index_dir)
    with app.app_context():
        print("ready", flush=True)
        round_ = 0
        while True:
            round_ += 1
            if mode == "rebuild":
                search_index().rebuild()
                continue
            for dataset_id in ids:
                catalog.update_dataset(COMMAND_LINE, dataset_id, content(n_patients=1000 + round_ * 10 + dataset_id % 10))
                catalog.publish(COMMAND_LINE, dataset_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], [int(i) for i in sys.argv[4:]])
