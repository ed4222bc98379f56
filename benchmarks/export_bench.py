"""How long one dataset's landing page, Turtle and JSON-LD take to serve.

Builds a temporary SQLite app with the demo catalog (`harmony demo load`: 200 real registry
records), or with N factory datasets (`--factories N`), then requests `/datasets/<pid>`,
`/datasets/<pid>.ttl` and `/datasets/<pid>.jsonld` for every one through the Flask test client
and prints mean, median and p95 in milliseconds (whole request: query, rendering or graph and
serialisation). Also times one catalog page of 100 datasets in each RDF format.

    .venv/bin/python benchmarks/export_bench.py [--factories 200] [--rounds 2]
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

from harmony import migrate  # noqa: E402
from harmony.app import create_app  # noqa: E402
from tests import factories  # noqa: E402

DISEASES = ["DOID:9119", "DOID:9952", "DOID:9538", "DOID:1040", "DOID:8567", "DOID:0050908", "DOID:0050745"]
COUNTRIES = ["NL", "BE", "DE", "FR", "IT", "ES", "SE", "GB", "AT", "DK"]
CONDITIONS = [["GRU"], ["HMB", "IRB"], ["DS", "PUB", "COL"], ["GRU", "NCU", "TS"]]


def build_demo(app) -> list[str]:
    from harmony.catalog import services
    from harmony.demo import load_demo

    with app.app_context():
        for _line in load_demo():
            pass
        return [dataset.pid for dataset, _version in services.published_datasets()]


def build(app, count: int) -> list[str]:
    with app.app_context():
        group = factories.group("HOVON")
        curator = factories.curator("bench", group)
        pids = []
        for n in range(count):
            dataset = factories.dataset(
                curator, group, title=f"Benchmark trial {n}",
                diseases=DISEASES[n % 3: n % 3 + 1 + n % 4],
                countries=COUNTRIES[n % 5: n % 5 + 2 + n % 4],
                data_use=CONDITIONS[n % len(CONDITIONS)],
                registrations=[f"NCT{10000000 + n}"],
                publications=[f"10.1000/bench.{n}"],
            )
            pids.append(dataset.pid)
        return pids


def timed(client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return elapsed


def summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (f"{label:<22} n={len(samples):<4} mean {statistics.fmean(samples):6.1f} ms   "
            f"median {statistics.median(samples):6.1f} ms   p95 {p95:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factories", type=int, default=0, help="factory datasets instead of the demo catalog")
    parser.add_argument("--rounds", type=int, default=2, help="passes over all datasets per format")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url,
                          "BASE_URL": "http://harmony.bench", "LOG_LEVEL": "WARNING",
                          "SEARCH_INDEX_DIR": f"{tmp}/index"})
        started = time.perf_counter()
        pids = build(app, args.factories) if args.factories else build_demo(app)
        print(f"built {len(pids)} published datasets in {time.perf_counter() - started:.1f} s")
        client = app.test_client()
        timed(client, f"/datasets/{pids[0]}.ttl")  # warm up: vocabularies, first query
        forms = (("", "landing page (HTML)"), (".ttl", "Turtle, one dataset"), (".jsonld", "JSON-LD, one dataset"))
        for suffix, label in forms:
            samples = [timed(client, f"/datasets/{pid}{suffix}") for _ in range(args.rounds) for pid in pids]
            print(summary(label, samples))
        for suffix in ("ttl", "jsonld"):
            samples = [timed(client, f"/catalog.{suffix}?page=1") for _ in range(3)]
            print(summary(f"catalog page of 100 ({suffix})", samples))


if __name__ == "__main__":
    main()
