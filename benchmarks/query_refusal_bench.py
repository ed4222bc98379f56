"""How fast queries over the limits are refused, against reading an ordinary query in the same run.

The tests show that a query over the length limit is refused before any work is done
(tests/search/test_query.py, tests/search/test_page.py); this measures what the refusals cost.
Baseline: parsing an ordinary query (`AML AND country:NL AND "complete remission"`). Each case is
timed over --rounds repetitions; printed: median microseconds and the ratio to the baseline. Through
the app (test client, an empty SQLite catalog): `/datasets?q=<20 KB>` and `/api/v1/datasets?q=<20 KB>`
against `/api/v1/datasets?q=AML`.

    .venv/bin/python benchmarks/query_refusal_bench.py [--rounds 200]

These replace wall-clock limits the tests used to hold (0.5 s for the three parses together, 1 s
for the two refused requests); compare the ratios between runs rather than the absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harmony import migrate  # noqa: E402
from harmony.app import create_app  # noqa: E402
from harmony.search.query import QueryError, parse  # noqa: E402


def median_us(call: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def refused(text: str) -> Callable[[], None]:
    def call() -> None:
        try:
            parse(text)
        except QueryError:
            return
        raise SystemExit(f"not refused: {text[:40]}…")
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds

    baseline = median_us(lambda: parse('AML AND country:NL AND "complete remission"'), rounds)
    print(f"{'case':<44} {'median µs':>10} {'× baseline':>11}")
    print(f"{'baseline: an ordinary query':<44} {baseline:>10.1f} {1.0:>11.2f}")
    for name, text in [("too long (20,000 characters)", "leukaemia " * 2000),
                       ("too deep (40 parentheses)", "(" * 40 + "AML" + ")" * 40),
                       ("too many terms (60 ORs)", " OR ".join(f"w{n}" for n in range(60)))]:
        cost = median_us(refused(text), rounds)
        print(f"{'parse, ' + name:<44} {cost:>10.1f} {cost / baseline:>11.2f}")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'harmony.db'}"
        migrate.upgrade(url)
        app = create_app({"TESTING": True, "SECRET_KEY": "benchmark-secret-key-0123", "DATABASE_URL": url,
                          "BASE_URL": "http://harmony.test", "SEARCH_INDEX_DIR": str(Path(folder) / "index"),
                          "LOG_LEVEL": "ERROR"})
        client = app.test_client()
        client.get("/api/v1/datasets", query_string={"q": "AML"})  # build the (empty) index once
        request_rounds = max(rounds // 10, 10)
        ordinary = median_us(lambda: client.get("/api/v1/datasets", query_string={"q": "AML"}), request_rounds)
        print(f"{'request baseline: /api/v1/datasets?q=AML':<44} {ordinary:>10.1f} {1.0:>11.2f}")
        for name, path in [("/datasets?q=<20 KB> (422)", "/datasets"), ("/api/v1/datasets?q=<20 KB> (422)",
                                                                         "/api/v1/datasets")]:
            def call(path=path):
                response = client.get(path, query_string={"q": "x" * 20_000})
                assert response.status_code == 422, response.status_code
            cost = median_us(call, request_rounds)
            print(f"{name:<44} {cost:>10.1f} {cost / ordinary:>11.2f}")


if __name__ == "__main__":
    main()
