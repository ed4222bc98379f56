"""How fast the registry import runs, and how much memory it needs, on the full record set.

Imports the 6,786 ClinicalTrials.gov records of ../shared/data/ctgov/all-6786-ctgov-xml.tar.gz
(legacy clinical_study XML) as drafts into a fresh, migrated SQLite database in a temporary folder
(and into PostgreSQL with --postgres URL, which must name an empty database), through
`harmony.catalog.importers.runner.import_paths`: one unit of work per record, as
`harmony catalog import` does. Prints records per second, peak memory (resident set size), the
share of records that got a disease term, and, with --again, the time of a second, idempotent pass.

    .venv/bin/python benchmarks/import_bench.py [--archive PATH] [--limit N] [--again] [--postgres URL]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from harmony import db, migrate  # noqa: E402
from harmony.accounts.services import COMMAND_LINE  # noqa: E402
from harmony.app import create_app  # noqa: E402
from harmony.catalog import services  # noqa: E402
from harmony.catalog.importers import runner  # noqa: E402
from harmony.catalog.models import Dataset  # noqa: E402

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "ctgov" / "all-6786-ctgov-xml.tar.gz"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run(label: str, url: str, paths: list[Path], again: bool, work_dir: Path) -> None:
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark-secret-key-0123456789", "LOG_LEVEL": "ERROR",
                      "BASE_URL": "http://bench.test", "SEARCH_INDEX_DIR": str(work_dir / f"index-{label}")})
    with app.app_context():
        if db.session().scalar(select(func.count()).select_from(Dataset)):
            print(f"{label}: the database already holds datasets; give an empty one")
            return
        group = services.create_group(COMMAND_LINE, services.GroupInput(name="Benchmark group", acronym="BENCH"))
        for name in ["first pass"] + (["second pass"] if again else []):
            started = time.perf_counter()
            report = runner.import_paths(COMMAND_LINE, paths, "ctgov", group.id, publish=False)
            elapsed = time.perf_counter() - started
            print(f"{label} {name}: {report.summary()}")
            print(f"  {report.records} records in {elapsed:.1f} s = {report.records / elapsed:.0f} records/s; "
                  f"peak memory (RSS) so far {peak_rss_mb():.0f} MB")
        contents = db.session().scalars(select(Dataset.content)).all()
        with_disease = sum(1 for content in contents if content.get("diseases"))
        print(f"  datasets with a disease term: {with_disease}/{len(contents)} = {with_disease / len(contents):.1%}")
        for problem in report.rejected[:5]:
            print(f"  rejected {problem.identifier}: {problem.reason}")
    with app.app_context():
        db.engine().dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--limit", type=int, help="import only the first N files (copied to a folder first)")
    parser.add_argument("--again", action="store_true", help="import everything a second time (all unchanged)")
    parser.add_argument("--postgres", metavar="URL", help="also run against this empty PostgreSQL database")
    args = parser.parse_args()
    if not args.archive.exists():
        print(f"skipped: {args.archive} is not here (it lives in the shared data folder)")
        return 0
    with tempfile.TemporaryDirectory(prefix="harmony-import-bench-") as tmp:
        work_dir = Path(tmp)
        paths = [args.archive]
        if args.limit:
            paths = [_first_files(args.archive, args.limit, work_dir / "records")]
        print(f"input: {paths[0]}; peak memory before importing {peak_rss_mb():.0f} MB")
        run("sqlite", f"sqlite:///{work_dir / 'bench.db'}", paths, args.again, work_dir)
        if args.postgres:
            run("postgresql", args.postgres, paths, args.again, work_dir)
    return 0


def _first_files(archive: Path, limit: int, folder: Path) -> Path:
    from harmony.catalog.importers import sources

    folder.mkdir()
    for number, source in enumerate(sources.iter_files([archive])):
        if number >= limit:
            break
        if not source.problem:
            (folder / source.name).write_bytes(source.data)
    return folder


if __name__ == "__main__":
    raise SystemExit(main())
