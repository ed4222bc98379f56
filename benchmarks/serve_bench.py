"""Harmony in production shape: gunicorn (4 workers) on PostgreSQL with a 6,786-dataset catalog,
driven by wrk on the same machine, one page kind at a time.

What it does:

1. starts a throwaway PostgreSQL server from the machine's programs (tests/postgres.py), migrates
   it and fills it with published datasets made from the real ClinicalTrials.gov records of
   ../shared/data/ctgov (`populate` of benchmarks/search_bench.py: bulk rows, each description
   validated first), then builds the search index;
2. runs benchmarks/serve_app.py under gunicorn on loopback: Harmony as harmony/wsgi.py builds it,
   plus one bare page rendered by the same app, the reference;
3. per page kind, a warm-up (not counted), then wrk for --duration seconds with a generated Lua
   script that rotates over the kind's paths (many datasets for landing pages and Turtle, ten
   queries per search kind) and reports p50/p95/p99, non-2xx answers and socket errors;
4. prints requests/s, latency percentiles and errors, each kind's throughput as a ratio to the
   reference's in the same run (the reference runs first and again last, the ratio is to the mean
   of the two: other work on the machine shows as a difference between them), the CPU time the
   server (gunicorn, PostgreSQL) spent per request and its ratio to the reference's (what other work
   on the machine does not change), and whether the
   goals of issue 10 §7 are met (landing pages and search at least 0.5x the reference's throughput,
   p99 under 250 ms, 0 errors); writes the figures to benchmarks/results/serve-postgresql.json;
   exits with 1 when a goal is not met.

Every process it starts (PostgreSQL, gunicorn, wrk) is stopped on every way out, Ctrl-C included.
Needs wrk (Debian: apt-get install wrk) and PostgreSQL's server programs (Debian: postgresql).
The load generator shares the machine's cores with the server: compare ratios, not absolutes.

    .venv/bin/python benchmarks/serve_bench.py [--duration 60] [--connections 8] [--threads 1]
                                               [--workers 4] [--datasets 6786] [--kinds landing oai]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import search_bench  # noqa: E402

from tests.postgres import PostgresServer, find_bindir  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "serve-postgresql.json"
BARE_PATH = "/_bench/bare"  # the reference page benchmarks/serve_app.py adds
AGAIN = "reference, again at end"
GOAL_RATIO = 0.5  # landing pages and search: at least half the reference's throughput
GOAL_P99_MS = 250.0
GOAL_KINDS = ("landing page", "search: frequent term", "search: phrase", "search: combined")


# --- the page kinds ----------------------------------------------------------------------------


def _search_paths(cases: list[dict]) -> list[str]:
    return ["/datasets?" + urlencode(search_bench._multidict(case), doseq=True) for case in cases]


def page_kinds(pids: list[str]) -> dict[str, list[str]]:
    """Each kind's paths, in the order they run (the reference first)."""
    queries = search_bench.QUERIES
    return {
        "reference (bare page)": [BARE_PATH],
        "healthz": ["/healthz"],
        "home": ["/"],
        "search: frequent term": _search_paths(queries["frequent term"]),
        "search: phrase": _search_paths(queries["phrase"]),
        "search: combined": _search_paths(queries["combined realistic"]),
        "landing page": [f"/datasets/{pid}" for pid in pids],
        "turtle export": [f"/datasets/{pid}.ttl" for pid in pids],
        "oai ListRecords": ["/oai?verb=ListRecords&metadataPrefix=oai_dc"],
    }


SHORT_NAMES = {"reference": "reference (bare page)", "healthz": "healthz", "home": "home",
               "frequent": "search: frequent term", "phrase": "search: phrase", "combined": "search: combined",
               "landing": "landing page", "turtle": "turtle export", "oai": "oai ListRecords"}

LUA = r"""-- written by benchmarks/serve_bench.py: rotate over the paths, count non-2xx, report as JSON
local paths = {%(paths)s}
local counter = 0
non2xx = 0  -- a global: done() reads it from each thread
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads * 7919)
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'SERVE-BENCH {"requests": %%d, "duration_us": %%d, "bytes": %%d, "non2xx": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "timeout": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""


def lua_script(paths: list[str], folder: Path, name: str) -> Path:
    listed = ",\n  ".join(json.dumps(path) for path in paths)  # JSON strings are valid Lua strings here
    path = folder / f"{name}.lua"
    path.write_text(LUA % {"paths": "\n  " + listed + "\n"})
    return path


# --- processes ---------------------------------------------------------------------------------


class Processes:
    """Everything started, stopped in reverse order whatever happens."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []
        self.postgres: PostgresServer | None = None

    def spawn(self, command: list[str], **kwargs) -> subprocess.Popen:
        child = subprocess.Popen(command, start_new_session=True, **kwargs)  # Ctrl-C reaches us, not them
        self.children.append(child)
        return child

    def stop(self, child: subprocess.Popen, grace: float = 10.0) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of its workers
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(child.pid, signal.SIGKILL)  # anything left in its session (workers)
        except (ProcessLookupError, PermissionError):
            pass
        child.wait()
        if child in self.children:
            self.children.remove(child)

    def close(self) -> None:
        for child in reversed(list(self.children)):
            self.stop(child)
        if self.postgres is not None:
            try:
                self.postgres.stop()
            except (subprocess.CalledProcessError, OSError) as error:
                print(f"(stopping PostgreSQL: {error})", file=sys.stderr)
            self.postgres = None


def _terminate(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces


def cpu_seconds(root: int) -> float | None:
    """CPU time (user + system) of a server: its first process, the processes it started that are
    still running, and those that ended (reaped). Linux only; None elsewhere."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = _stat(root)
    except OSError:
        return None
    total = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                child = _stat(int(entry))
            except OSError:
                continue
            if int(child[1]) == root:
                total += int(child[11]) + int(child[12])
    return total / tick


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- the catalog -------------------------------------------------------------------------------


def build_catalog(url: str, count: int, index_dir: Path, procs: int) -> list[str]:
    """Migrated, populated, indexed; returns the published PIDs."""
    from sqlalchemy import text

    from harmony import db, migrate
    from harmony.app import create_app
    from harmony.search.index import search_index

    started = time.perf_counter()
    migrate.upgrade(url)
    search_bench.populate(url, count)
    engine = db.create_engine(url)
    with engine.begin() as connection:
        # what a publication sets and the bulk rows leave out (OAI datestamps read it)
        connection.execute(text("UPDATE dataset SET public_changed_at = updated_at WHERE public_changed_at IS NULL"))
        pids = list(connection.execute(text("SELECT pid FROM dataset WHERE state = 'published' ORDER BY id")).scalars())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # now rather than by autovacuum in the middle of a measurement
        connection.execute(text("VACUUM (ANALYZE)"))
        connection.execute(text("CHECKPOINT"))
    engine.dispose()
    print(f"  {len(pids):,} published datasets written in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    app = create_app({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(index_dir), "SECRET_KEY": "serve-bench-secret-key",
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        indexed = search_index().rebuild(procs=procs)
        db.engine().dispose()
    print(f"  search index: {indexed:,} datasets in {time.perf_counter() - started:.0f} s")
    return pids


# --- one run of wrk ----------------------------------------------------------------------------


@dataclass
class Figures:
    kind: str
    paths: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    load_after: float
    app_cpu_ms: float | None = None  # gunicorn's CPU time per request (workers, master)
    db_cpu_ms: float | None = None  # PostgreSQL's
    ratio: float | None = None  # requests/s to the reference's
    cpu_ratio: float | None = None  # the reference's server CPU per request to this kind's

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def run_wrk(processes: Processes, base: str, script: Path, seconds: float, connections: int, threads: int,
            timeout: float) -> dict:
    command = ["wrk", f"--threads={threads}", f"--connections={connections}", f"--duration={max(1, round(seconds))}s",
               f"--timeout={timeout:g}s", f"--script={script}", base]
    child = processes.spawn(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = child.communicate()
    processes.children.remove(child)
    for line in output.splitlines():
        if line.startswith("SERVE-BENCH "):
            return json.loads(line.removeprefix("SERVE-BENCH "))
    raise RuntimeError(f"wrk gave no figures (exit {child.returncode}):\n{output}")


def measure(processes: Processes, base: str, kind: str, paths: list[str], folder: Path, arguments,
            servers: dict[str, int]) -> Figures:
    for path in paths:  # every path answers 200 before it is measured
        status, body = fetch(base + path)
        if status != 200:
            raise SystemExit(f"{kind}: {path} answered {status}: {body[:300]!r}")
    script = lua_script(paths, folder, "kind-" + "".join(c if c.isalnum() else "-" for c in kind))
    if arguments.warmup > 0:
        run_wrk(processes, base, script, arguments.warmup, arguments.connections, arguments.threads, arguments.timeout)
    before = {name: cpu_seconds(pid) for name, pid in servers.items()}
    found = run_wrk(processes, base, script, arguments.duration, arguments.connections, arguments.threads,
                    arguments.timeout)
    spent = {name: cpu_seconds(pid) for name, pid in servers.items()}
    per_request = {name: None if before[name] is None or spent[name] is None or not found["requests"]
                   else round((spent[name] - before[name]) * 1000 / found["requests"], 3) for name in servers}
    seconds = found["duration_us"] / 1e6
    return Figures(kind=kind, paths=len(paths), requests=found["requests"], seconds=round(seconds, 2),
                   rps=round(found["requests"] / seconds, 1), p50_ms=found["p50_us"] / 1000,
                   p95_ms=found["p95_us"] / 1000, p99_ms=found["p99_us"] / 1000, max_ms=found["max_us"] / 1000,
                   non2xx=found["non2xx"],
                   socket_errors=found["connect"] + found["read"] + found["write"] + found["timeout"],
                   load_after=round(os.getloadavg()[0], 2), app_cpu_ms=per_request.get("app"),
                   db_cpu_ms=per_request.get("db"))


# --- the report --------------------------------------------------------------------------------


def _cost(found: Figures) -> float | None:
    """Server CPU time per request: gunicorn's and PostgreSQL's."""
    if found.app_cpu_ms is None:
        return None
    return found.app_cpu_ms + (found.db_cpu_ms or 0.0)


def goals(figures: list[Figures]) -> list[tuple[str, bool]]:
    by_kind = {f.kind: f for f in figures}
    checks = []
    for kind in GOAL_KINDS:
        if kind not in by_kind or by_kind[kind].ratio is None:
            continue
        found = by_kind[kind]
        checks.append((f"{kind}: throughput {found.ratio:.2f}x the reference (goal >= {GOAL_RATIO})",
                       found.ratio >= GOAL_RATIO))
        checks.append((f"{kind}: p99 {found.p99_ms:.0f} ms (goal < {GOAL_P99_MS:.0f})", found.p99_ms < GOAL_P99_MS))
    errors = sum(f.errors for f in figures)
    checks.append((f"errors on every page kind: {errors} (goal 0)", errors == 0))
    return checks


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(figures: list[Figures], settings: dict) -> list[tuple[str, bool]]:
    print(f"\n  {settings['datasets']:,} published datasets, PostgreSQL {settings['postgresql']}, gunicorn "
          f"{settings['workers']} sync workers, wrk {settings['connections']} connections / {settings['threads']} "
          f"thread(s), {settings['duration_s']:g} s per kind after {settings['warmup_s']:g} s warm-up, "
          f"{settings['cpus']} CPUs")
    print(f"\n  {'page kind':<24}{'paths':>6}{'req/s':>9}{'x ref':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'non-2xx':>9}{'socket':>8}{'load':>6}{'app CPU':>9}{'db CPU':>8}{'x ref CPU':>10}")
    for f in figures:
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        print(f"  {f.kind:<24}{f.paths:>6}{f.rps:>9.1f}{ratio:>7}{f.p50_ms:>9.1f}{f.p95_ms:>9.1f}{f.p99_ms:>9.1f}"
              f"{f.max_ms:>9.1f}{f.non2xx:>9}{f.socket_errors:>8}{f.load_after:>6.2f}{_ms(f.app_cpu_ms):>9}"
              f"{_ms(f.db_cpu_ms):>8}{_ratio(f.cpu_ratio):>10}")
    checks = goals(figures)
    print("\n  Goals of issue 10 §7 (landing pages and search):")
    for text, met in checks:
        print(f"    [{'met' if met else 'NOT MET'}] {text}")
    print("  app CPU, db CPU: ms of CPU time gunicorn and PostgreSQL spent per request (Linux); x ref CPU: the "
          "reference's server CPU per request over this kind's,\n  the throughput ratio to expect where the server "
          "has the cores to itself (it does not count the load generator or other work on the machine)")
    print(f"  throughput ratios are to the mean of the reference's two runs "
          f"({figures[0].rps:.0f} and {figures[-1].rps:.0f} requests/s)")
    print(f"  load average (1 min) before the run {settings['load_before']}, after {settings['load_after']}")
    return checks


def save(figures: list[Figures], settings: dict, checks: list[tuple[str, bool]]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "settings": settings,
        "figures": [{**asdict(f), "errors": f.errors} for f in figures],
        "goals": {"all_met": all(met for _, met in checks), "checks": [{"check": t, "met": m} for t, m in checks]},
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"  figures written to {RESULTS.relative_to(ROOT)}")


# --- the run -----------------------------------------------------------------------------------


def start_gunicorn(processes: Processes, url: str, index_dir: Path, folder: Path, workers: int) -> tuple[str, int]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "HARMONY_DATABASE_URL": url, "HARMONY_SEARCH_INDEX_DIR": str(index_dir),
                   "HARMONY_SECRET_KEY": "serve-bench-secret-key", "HARMONY_BASE_URL": base,
                   "HARMONY_LOG_LEVEL": "WARNING", "HARMONY_ATTACHMENT_DIR": str(folder / "attachments")}
    environment.pop("HARMONY_DEBUG", None)
    environment.pop("HARMONY_DEMO", None)
    log = folder / "gunicorn.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn) if gunicorn.exists() else "gunicorn", "--workers", str(workers), "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--pythonpath", f"{ROOT},{ROOT / 'benchmarks'}",
               "--error-logfile", str(log), "--log-level", "warning", "serve_app:app"]
    master = processes.spawn(command, env=environment, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start (exit {master.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if fetch(base + "/healthz", timeout=5)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise SystemExit(f"gunicorn did not answer within 120 s:\n{log.read_text()[-3000:]}")
    for _ in range(4 * workers):  # let every worker load its app before anything is measured
        fetch(base + BARE_PATH)
    print(f"  gunicorn ({workers} workers) listening on {base}")
    return base, master.pid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load per page kind (default 60)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before each kind, not counted")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads (default 1)")
    parser.add_argument("--timeout", type=float, default=10, help="wrk's request timeout in seconds (default 10)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--datasets", type=int, default=6786, help="published datasets (default 6,786)")
    parser.add_argument("--pids", type=int, default=500, help="datasets the landing and Turtle kinds rotate over")
    parser.add_argument("--procs", type=int, default=2, help="processes for the search index build")
    parser.add_argument("--kinds", nargs="+", choices=sorted(SHORT_NAMES), default=None,
                        help="only these page kinds (the reference always runs)")
    parser.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.relative_to(ROOT)}")
    arguments = parser.parse_args()

    if not search_bench.DATA.exists():
        print(f"serve_bench: the ClinicalTrials.gov records are not at {search_bench.DATA} "
              "(../shared/data/ctgov); nothing to build the catalog from, nothing measured.")
        return 0
    if shutil.which("wrk") is None:
        print("serve_bench: wrk, the load generator, is not installed (Debian/Ubuntu: apt-get install wrk; "
              "macOS: brew install wrk); nothing measured.")
        return 0
    bindir = find_bindir()
    if bindir is None:
        print("serve_bench: PostgreSQL's server programs (initdb, pg_ctl) were not found "
              "(Debian/Ubuntu: apt-get install postgresql); nothing measured.")
        return 0

    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`&`)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    processes = Processes()
    folder = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        load_before = round(os.getloadavg()[0], 2)
        print(f"Starting PostgreSQL from {bindir} (load average {load_before})")
        processes.postgres = PostgresServer.start(bindir)
        url = processes.postgres.create_database("harmony_serve_bench")
        version = bindir.parent.name
        index_dir = folder / "search-index"
        pids = build_catalog(url, arguments.datasets, index_dir, arguments.procs)
        base, master = start_gunicorn(processes, url, index_dir, folder, arguments.workers)
        servers = {"app": master}
        with contextlib.suppress(OSError, ValueError):
            servers["db"] = int((processes.postgres.datadir / "data" / "postmaster.pid").read_text().split()[0])

        chosen = random.Random(10).sample(pids, min(arguments.pids, len(pids)))
        kinds = page_kinds(chosen)
        wanted = {SHORT_NAMES["reference"], *(SHORT_NAMES[k] for k in arguments.kinds or SHORT_NAMES)}
        figures = []
        for kind, paths in kinds.items():
            if kind not in wanted:
                continue
            print(f"  {kind}: {arguments.warmup:g} s warm-up, {arguments.duration:g} s measured …", flush=True)
            figures.append(measure(processes, base, kind, paths, folder, arguments, servers))
        # the reference again at the end: other work on the machine may have changed in between;
        # each kind's ratio is to the mean of the two
        print(f"  {AGAIN}: {arguments.warmup:g} s warm-up, {arguments.duration:g} s measured …", flush=True)
        again = measure(processes, base, AGAIN, [BARE_PATH], folder, arguments, servers)
        figures.append(again)
        reference = (figures[0].rps + again.rps) / 2
        for found in figures:
            found.ratio = round(found.rps / reference, 3) if reference else None
        costs = [_cost(f) for f in (figures[0], again)]
        if None not in costs:
            for found in figures:
                cost = _cost(found)
                found.cpu_ratio = round(sum(costs) / 2 / cost, 4) if cost else None
        settings = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"), "datasets": len(pids),
            "postgresql": version, "workers": arguments.workers, "connections": arguments.connections,
            "threads": arguments.threads, "duration_s": arguments.duration, "warmup_s": arguments.warmup,
            "cpus": os.cpu_count(), "python": platform.python_version(), "load_before": load_before,
            "load_after": round(os.getloadavg()[0], 2), "pids_rotated": len(chosen),
            "note": "wrk runs on the same machine as gunicorn and PostgreSQL; ratios are to the bare page of the "
                    "same app in the same run",
        }
        checks = report(figures, settings)
        if not arguments.no_save:
            save(figures, settings, checks)
        return 0 if all(met for _, met in checks) else 1
    except KeyboardInterrupt:
        print("\nserve_bench: interrupted; stopping gunicorn and PostgreSQL", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            processes.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
