"""How long the home page and a page of the catalog in RDF take, with and without the position cache.

Grows a fresh migrated SQLite database to each N of --sizes published datasets in turn, created and
published through the services by the test factories (as export_bench.py does; varied diseases,
countries and populations). With --archive, the first N ClinicalTrials.gov records of
../shared/data/ctgov/all-6786-ctgov-xml.tar.gz are imported with --publish instead; only the
records that carry every mandatory field get published (about 4%), so N records give far fewer
published datasets. At each size it
requests, through the Flask test client as an anonymous visitor (whole requests):

- landing pages `/datasets/<pid>` of different datasets: the reference;
- `/` and `/catalog.ttl?page=1` with the cache off (HARMONY_CATALOG_CACHE_BYTES=0: computed on
  every request, as before the cache), and with it on (after one request has filled it);
- the change-log position read alone, the whole price of an unchanged catalog.

Prints p50 and p95 in milliseconds and each as a ratio to the landing page's in the same run
(a ratio of p50 at most 2 is "at least half a landing page's throughput").

    .venv/bin/python benchmarks/home_catalog_bench.py [--sizes 200 2000 6786] [--requests 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.export_bench import COUNTRIES, DISEASES, timed  # noqa: E402
from harmony import db, migrate  # noqa: E402
from harmony.accounts.services import COMMAND_LINE  # noqa: E402
from harmony.app import create_app  # noqa: E402
from harmony.catalog import position_cache, services  # noqa: E402
from harmony.catalog.importers import runner  # noqa: E402
from tests import factories  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "data" / "ctgov" / "all-6786-ctgov-xml.tar.gz"


def grow_from_archive(app, group_id: int, count: int, folder: Path) -> None:
    """Import the first `count` records (the ones already imported come back unchanged)."""
    from harmony.catalog.importers import sources

    folder.mkdir(exist_ok=True)
    for number, source in enumerate(sources.iter_files([ARCHIVE])):
        if number >= count:
            break
        target = folder / source.name
        if not source.problem and not target.exists():
            target.write_bytes(source.data)
    with app.app_context():
        runner.import_paths(COMMAND_LINE, [folder], "ctgov", group_id, publish=True)


def grow_from_factories(app, group_id: int, curator, count: int) -> None:
    with app.app_context():
        group = services.group_by_id(group_id)
        with db.batch():  # one commit per dataset, the change listeners once at the end (as an import)
            for n in range(len(services.published_datasets()), count):
                factories.dataset(curator, group, title=f"Benchmark trial {n}", registrations=[f"NCT{10000000 + n}"],
                                  diseases=DISEASES[n % 3: n % 3 + 1 + n % 4],
                                  countries=COUNTRIES[n % 5: n % 5 + 2 + n % 4],
                                  population=["adult", "paediatric", "both"][n % 3], n_patients=50 + n % 700)


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def measure(app, client, requests: int, before_requests: int) -> None:
    with app.app_context():
        pids = [dataset.pid for dataset, _ in services.published_datasets()]
    print(f"\n{len(pids)} published datasets")
    timed(client, f"/datasets/{pids[0]}")  # warm up: vocabularies, templates
    reference = p50_p95([timed(client, f"/datasets/{pids[n * 7 % len(pids)]}") for n in range(requests)])
    rows = [("landing page (reference)", requests, reference)]
    for path, label in (("/", "home page"), ("/catalog.ttl?page=1", "catalog.ttl page 1")):
        app.config["CATALOG_CACHE_BYTES"] = 0
        rows.append((f"{label}, cache off", before_requests,
                     p50_p95([timed(client, path) for _ in range(before_requests)])))
        app.config["CATALOG_CACHE_BYTES"] = 32 * 1024 * 1024
        fill = timed(client, path)
        rows.append((f"{label}, cache on", requests, p50_p95([timed(client, path) for _ in range(requests)])))
        print(f"  ({label}: the request that fills the cache after a change took {fill:.1f} ms)")
    with app.test_request_context("/"):
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            position_cache.read_position()
            db.session().rollback()
            samples.append((time.perf_counter() - start) * 1000)
        rows.append(("change-log position read", requests, p50_p95(samples)))
    print(f"  {'':<30} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'p50 ratio':>10} {'p95 ratio':>10}")
    for label, n, (p50, p95) in rows:
        print(f"  {label:<30} {n:>4} {p50:>9.2f} {p95:>9.2f} {p50 / reference[0]:>9.2f}x {p95 / reference[1]:>9.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 6786])
    parser.add_argument("--requests", type=int, default=60, help="requests per measurement with the cache on")
    parser.add_argument("--before-requests", type=int, default=8, help="requests per measurement, cache off")
    parser.add_argument("--archive", action="store_true", help="import registry records instead of factories")
    args = parser.parse_args()
    use_archive = args.archive and ARCHIVE.exists()
    print(f"data: {'first N records of ' + str(ARCHIVE) if use_archive else 'factory datasets'}"
          + (f" ({ARCHIVE} is absent)" if args.archive and not use_archive else ""))
    with tempfile.TemporaryDirectory(prefix="harmony-home-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        app = create_app({"SECRET_KEY": "benchmark-secret-key-0123456789", "DATABASE_URL": url,
                          "BASE_URL": "http://harmony.bench", "LOG_LEVEL": "ERROR", "SEARCH_INDEX_DIR": f"{tmp}/index"})
        client = app.test_client()
        with app.app_context():
            group = services.create_group(COMMAND_LINE, services.GroupInput(name="Benchmark group", acronym="BENCH"))
            curator = factories.curator("bench", group)
        for size in sorted(args.sizes):
            started = time.perf_counter()
            if use_archive:
                grow_from_archive(app, group.id, size, Path(tmp) / "records")
            else:
                grow_from_factories(app, group.id, curator, size)
            print(f"\ngrew the catalog to {size} records in {time.perf_counter() - started:.1f} s", end="")
            measure(app, client, args.requests, args.before_requests)
        with app.app_context():
            db.engine().dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
