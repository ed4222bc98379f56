"""Search speed at 10,000 and 100,000 datasets: Harmony's engine, through the API, and SQLite FTS5.

The corpus is made from real registry records: the ClinicalTrials.gov studies of
../shared/data/ctgov/ (the 750 haematology records and those of the 6,786-record set whose
conditions are haematological) go through Harmony's own importer mapping, and each dataset is a
variant of one of them (its title, summary and diseases, with the other fields varied: group,
countries, patients, dates, data types, data-use conditions). Rows are written in bulk (the
services would take hours for 100,000 datasets); every description is validated by
`DatasetContent` first. The same corpus goes into an SQLite FTS5 table as the reference.

Measured: full reindex, commit-to-searchable latency, and p50/p95 per query type, each query
run first on a fresh index generation (cold: nothing cached) and then repeated (warm).

    .venv/bin/python benchmarks/search_bench.py [--sizes 10000 100000] [--procs 2] [--repeat 5] [--phases]
        [--rounds N]
        [--workdir DIR [--reuse-db | --reuse]]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sqlite3
import statistics
import sys
import tarfile
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from harmony import db, migrate  # noqa: E402
from harmony.app import create_app  # noqa: E402
from harmony.catalog import terms  # noqa: E402
from harmony.catalog.content import DatasetContent  # noqa: E402
from harmony.catalog.importers import ctgov  # noqa: E402
from harmony.catalog.importers import ctgov_mapping as mapping  # noqa: E402
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup  # noqa: E402
from harmony.search import engine, query  # noqa: E402
from harmony.search.index import search_index  # noqa: E402
from harmony.search.schema import FACET_FIELDS  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ctgov"
COUNTRIES = ["NL", "BE", "DE", "FR", "IT", "ES", "SE", "GB", "AT", "DK", "NO", "FI", "PL", "CZ", "PT", "IE", "CH", "US"]
USES = [["DUO:0000042"], ["DUO:0000006", "DUO:0000021"], ["DUO:0000007", "DUO:0000019"],
        ["DUO:0000042", "DUO:0000046"], ["DUO:0000006", "DUO:0000020", "DUO:0000025"]]
CONTACT = {"name": "Data office", "email": "data@group.example"}

# --- the corpus --------------------------------------------------------------------------------


def base_records() -> list[dict]:
    """Real records mapped by the importer; only those with haematological diseases."""
    defaults = mapping.Defaults(CONTACT)
    found, seen = [], set()
    for name in ("hematology-750-ctgov-xml.tar.gz", "all-6786-ctgov-xml.tar.gz"):
        path = DATA / name
        if not path.exists():
            print(f"(missing {path}; skipped)")
            continue
        with tarfile.open(path) as archive:
            for member in archive:
                if not member.isfile() or not member.name.endswith(".xml"):
                    continue
                for record in ctgov.parse(archive.extractfile(member).read()):
                    content = mapping.to_content(record, defaults).content
                    if content.get("diseases") and record.nct_id not in seen and content.get("description"):
                        seen.add(record.nct_id)
                        found.append(content)
    summaries = DATA / "hematology-3053-summaries.jsonl.gz"
    if summaries.exists():  # more real titles and summaries, diseases read from the title
        with gzip.open(summaries, "rt") as handle:
            for line in handle:
                text = json.loads(line)
                diseases = mapping.disease_terms([text["title"]])
                if diseases and text["nct_id"] not in seen and text.get("brief_summary"):
                    seen.add(text["nct_id"])
                    detail = (text.get("detailed_text") or "")[:3000]
                    found.append({"title": text["title"][:500], "diseases": diseases,
                                  "description": f"{text['brief_summary']}\n\n{detail}".strip()[:20000]})
    return found


def variant(base: dict, n: int, rnd: random.Random) -> dict:
    content = dict(base)
    content.pop("publications", None)
    content["registrations"] = [f"NCT{90000000 + n}"]
    content["countries"] = rnd.sample(COUNTRIES, rnd.choice([1, 1, 2, 3, 5]))
    content["n_patients"] = max(5, int(rnd.lognormvariate(5, 1.2)))
    start = date(1985, 1, 1) + timedelta(days=rnd.randrange(0, 38 * 365))
    content["recruitment_start"] = start.isoformat()
    content["recruitment_end"] = (start + timedelta(days=rnd.randrange(200, 3000))).isoformat()
    content["data_types"] = ["clinical", "outcome"] + rnd.sample(list(terms.DATA_TYPES)[2:], rnd.randrange(0, 4))
    content["data_use"] = rnd.choice(USES)
    if "DUO:0000007" in content["data_use"]:
        content["data_use_diseases"] = content["diseases"][:1]
    if "population" not in content:
        content["population"] = rnd.choice(["adult", "adult", "paediatric", "both"])
        low, high = {"adult": (18, rnd.choice([60, 65, 75, 120])), "paediatric": (rnd.choice([0, 1]), 17),
                     "both": (rnd.choice([0, 1, 15]), rnd.choice([30, 65, 120]))}[content["population"]]
        content["age_min"], content["age_max"] = low, high
    content.setdefault("contact_point", CONTACT)
    return DatasetContent.model_validate(content).stored()


def populate(url: str, count: int, seed: int = 7) -> None:
    bases = base_records()
    rnd = random.Random(seed)
    engine_ = db.create_engine(url)
    now = datetime.now(UTC)
    with engine_.begin() as connection:
        connection.execute(insert(StudyGroup.__table__), [
            {"id": g, "name": f"Study group {g}", "acronym": f"SG{g:02d}", "country": rnd.choice(COUNTRIES[:12]),
             "created_at": now} for g in range(1, 41)])
    for start in range(0, count, 5000):
        datasets, versions = [], []
        for n in range(start + 1, min(count, start + 5000) + 1):
            content = variant(bases[n % len(bases)], n, rnd)
            issued = now - timedelta(minutes=rnd.randrange(0, 5 * 365 * 24 * 60))
            datasets.append({"id": n, "pid": f"HM-{n:06d}", "group_id": rnd.randrange(1, 41), "state": "published",
                             "content": content, "published_version": 1, "has_unpublished_changes": False,
                             "created_at": issued, "updated_at": issued, "lock_version": 2})
            versions.append({"dataset_id": n, "version": 1, "content": content, "issued_at": issued})
        with engine_.begin() as connection:
            connection.execute(insert(Dataset.__table__), datasets)
            connection.execute(insert(DatasetVersion.__table__), versions)
    engine_.dispose()


# --- the queries -------------------------------------------------------------------------------

QUERIES = {
    "frequent term": [{"q": w} for w in ("patients", "treatment", "therapy", "chemotherapy", "study", "cell",
                                         "response", "trial", "disease", "dose")],
    "rare term": [{"q": w} for w in ("ruxolitinib", "blinatumomab", "ibrutinib", "nilotinib", "thalidomide",
                                     "alemtuzumab", "decitabine", "bendamustine", "clofarabine", "tipifarnib")],
    "phrase": [{"q": f'"{p}"'} for p in ("stem cell transplantation", "complete remission", "overall survival",
                                         "minimal residual disease", "bone marrow", "high dose", "newly diagnosed",
                                         "event free survival", "peripheral blood", "graft versus host")],
    "ontology-expanded": [{"q": w} for w in ("acute leukemia", "AML", "leukaemia", "lymphoma", "myeloma", "9861/3",
                                             "C92.0", "Hodgkin's disease", "CLL", "myelodysplastic syndromes")],
    "empty + all facets": [{"sort": s, "page": p} for s in ("newest", "patients") for p in (1, 2, 3, 4, 5)],
    "range filters": [{"patients_min": a, "patients_max": b, "age_min": c, "age_max": d, "recruited_from": e}
                      for a, b, c, d, e in ((100, 500, 0, 18, 2000), (200, None, 18, 65, 1995), (None, 300, 60, None, 2010),
                                            (50, 5000, 0, 5, None), (1000, None, None, None, 2015), (None, None, 0, 17, None),
                                            (300, 900, 40, 80, 1990), (20, 80, None, None, 2005), (500, None, 1, 99, 2001),
                                            (None, 150, 12, 30, 1999))],
    "combined realistic": [
        {"q": "paediatric ALL cytogenetics", "population": ["paediatric", "both"], "patients_min": 200,
         "purpose": "DS", "purpose_disease": "DOID:9952"},
        {"q": "AML induction", "country": ["NL", "DE"], "phase": "phase-3", "patients_min": 100},
        {"q": "myeloma lenalidomide", "data_type": "ngs", "recruited_from": 2005},
        {"q": "CLL OR SLL", "purpose": "HMB", "sort": "patients"},
        {"q": '"minimal residual disease" leukaemia', "population": "paediatric"},
        {"q": "lymphoma rituximab", "age_min": 60, "patients_min": 300},
        {"q": "MDS azacitidine", "purpose": "DS", "purpose_disease": "DOID:0050908", "commercial": "1"},
        {"q": "Hodgkin's disease", "age_max": 18, "data_type": "outcome"},
        {"q": "CML imatinib", "country": "DE", "recruited_from": 2000, "recruited_to": 2010},
        {"q": "acute leukemia transplantation", "purpose": "GRU", "patients_min": 50, "sort": "newest"},
    ],
}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def forget(view) -> None:
    """Empty the caches a query fills, so the next query runs cold (the view itself stays)."""
    view._cache.clear()
    for _leaf, _offset, segment in view.leaves:
        segment._terms.clear()


def measure_engine(app, repeat: int) -> dict[str, tuple[list[float], list[float]]]:
    from harmony.search.params import SearchParams

    found = {}
    with app.app_context():
        index = search_index()
        view = index.view()
        for kind, cases in QUERIES.items():
            cold, warm = [], []
            for case in cases:
                args = SearchParams.from_args(_multidict(case))
                params = SearchParams.model_validate(args)
                forget(view)
                for attempt in range(repeat + 1):
                    started = time.perf_counter()
                    parsed = query.parse(params.q, params.literal, lambda _n: [1])
                    filters = params.filters({})
                    engine.compute(view, parsed, filters)
                    engine.page(view, parsed, filters, params.sort, (params.page - 1) * 20, 20)
                    (cold if attempt == 0 else warm).append((time.perf_counter() - started) * 1000)
            found[kind] = (cold, warm)
    return found


def _multidict(case: dict):
    from werkzeug.datastructures import MultiDict

    pairs = []
    for key, value in case.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((key, str(item)))
    return MultiDict(pairs)


def measure_api(app, repeat: int) -> dict[str, tuple[list[float], list[float]]]:
    client = app.test_client()
    found = {}
    with app.app_context():
        view = search_index().view()
    for kind, cases in QUERIES.items():
        cold, warm = [], []
        for case in cases:
            url = "/api/v1/datasets?" + urlencode(_multidict(case), doseq=True)
            forget(view)
            for attempt in range(repeat + 1):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
                (cold if attempt == 0 else warm).append(elapsed)
        found[kind] = (cold, warm)
    return found


def commit_latency(app, samples: int = 5) -> list[float]:
    """From the commit of a publication to the first search that finds it, in this process."""
    from harmony.accounts.services import COMMAND_LINE
    from harmony.catalog import services as catalog

    client = app.test_client()
    found = []
    with app.app_context():
        for n in range(samples):
            dataset = catalog.get_dataset(COMMAND_LINE, n + 1)
            word = f"zqxbench{n}{int(time.time())}"
            content = DatasetContent.model_validate({**catalog.latest_version(dataset).content, "acronym": word})
            catalog.update_dataset(COMMAND_LINE, dataset.id, content)
            started = time.perf_counter()
            catalog.publish(COMMAND_LINE, dataset.id)  # commits; the listener applies the change
            while client.get("/api/v1/datasets", query_string={"q": word}).get_json()["total"] != 1:
                time.sleep(0.005)
            found.append((time.perf_counter() - started) * 1000)
    return found


# --- SQLite FTS5, the reference ----------------------------------------------------------------


def build_fts(url: str, path: Path) -> tuple[sqlite3.Connection, float, dict[str, float]]:
    """The same published descriptions in an FTS5 table (Porter stemming), facets in plain tables,
    written in one transaction with one statement per table and batch. The facets and numbers
    come from the index's own `attributes` (the disease expansion included), not from its whole
    document, whose text analysis FTS5 does itself."""
    from harmony.search.schema import attributes, disease_names
    from harmony.search.sync import read_sources

    started = time.perf_counter()
    fts = sqlite3.connect(path)
    fts.executescript("""
        CREATE VIRTUAL TABLE text USING fts5(title, names, body, tokenize='porter unicode61');
        CREATE TABLE facet(id INTEGER, facet TEXT, value TEXT);
        CREATE TABLE number(id INTEGER PRIMARY KEY, patients INT, age_lo INT, age_hi INT, rec_start INT,
                            rec_end INT, issued INT);
    """)
    engine_ = db.create_engine(url)
    texts, facets, numbers = [], [], []
    split = {"inserting": 0.0}

    def flush() -> None:
        flushed = time.perf_counter()
        fts.executemany("INSERT INTO text(rowid, title, names, body) VALUES (?, ?, ?, ?)", texts)
        fts.executemany("INSERT INTO facet VALUES (?, ?, ?)", facets)
        fts.executemany("INSERT INTO number VALUES (?, ?, ?, ?, ?, ?, ?)", numbers)
        texts.clear(), facets.clear(), numbers.clear()
        split["inserting"] += time.perf_counter() - flushed

    with engine_.connect() as connection:
        for source in read_sources(connection):
            doc = attributes(source)
            content = source.content
            names = " ; ".join([*(content.get("keywords") or []), *disease_names(content.get("diseases", []))])
            texts.append((source.dataset_id, content.get("title", ""), names, content.get("description", "")))
            facets.extend((source.dataset_id, f, v) for f in FACET_FIELDS for v in str(doc[f]).split())
            numbers.append((source.dataset_id, doc["patients"], doc["age_lo"], doc["age_hi"], doc["rec_start"],
                            doc["rec_end"], doc["issued"]))
            if len(texts) == 1000:
                flush()
    flush()
    split["reading rows, facets and numbers"] = time.perf_counter() - started - split["inserting"]
    indexing = time.perf_counter()
    fts.executescript("CREATE INDEX facet_value ON facet(facet, value, id); CREATE INDEX facet_id ON facet(id);")
    fts.commit()
    split["facet indexes, commit"] = time.perf_counter() - indexing
    engine_.dispose()
    return fts, time.perf_counter() - started, split


def fts_query(fts: sqlite3.Connection, case: dict) -> None:
    """The FTS5 equivalent: matches, the top 20 by bm25, the count, every facet's counts, patients."""
    from harmony.catalog.vocabularies import diseases

    conditions, binds = ["1"], []
    q = case.get("q", "")
    if q:
        found = diseases().lookup(q.strip('"'))
        words = " ".join(f'"{w}"' for w in q.replace('"', " ").split() if w.isalnum())
        if q.startswith('"'):
            words = q
        match = words or '""'
        if found:  # the same expansion: the disease's datasets, or the words
            ids = diseases().descendants(found[0])
            conditions.append(f"(id IN (SELECT rowid FROM text WHERE text MATCH ?) OR id IN (SELECT id FROM facet "
                              f"WHERE facet = 'disease' AND value IN ({','.join('?' * len(ids))})))")
            binds += [match, *ids]
        else:
            conditions.append("id IN (SELECT rowid FROM text WHERE text MATCH ?)")
            binds.append(match)
    for key, column, op in (("patients_min", "patients", ">="), ("patients_max", "patients", "<=")):
        if case.get(key) is not None:
            conditions.append(f"{column} {op} ?")
            binds.append(case[key] + 1)
    where = " AND ".join(conditions)
    fts.execute("DROP TABLE IF EXISTS hits")
    fts.execute("CREATE TEMP TABLE hits(id INTEGER PRIMARY KEY)")
    fts.execute(f"INSERT INTO hits SELECT id FROM number WHERE {where}", binds)
    fts.execute("SELECT count(*), sum(patients - 1) FROM hits JOIN number USING (id)").fetchone()
    fts.execute("SELECT facet, value, count(*) FROM facet JOIN hits USING (id) GROUP BY facet, value").fetchall()
    if q:  # (FTS5 with "rowid IN (...)" and bm25 takes seconds; a join on the scored matches does not)
        fts.execute("SELECT m.id FROM (SELECT rowid AS id, bm25(text, 3.0, 2.5, 1.0) AS score FROM text "
                    "WHERE text MATCH ?) AS m JOIN hits USING (id) ORDER BY m.score LIMIT 20", [binds[0]]).fetchall()
    else:
        fts.execute("SELECT id FROM hits JOIN number USING (id) ORDER BY issued DESC LIMIT 20").fetchall()


def measure_fts(fts: sqlite3.Connection, repeat: int) -> dict[str, tuple[list[float], list[float]]]:
    found = {}
    for kind, cases in QUERIES.items():
        cold, warm = [], []
        for case in cases:
            for attempt in range(repeat + 1):
                started = time.perf_counter()
                fts_query(fts, case)
                (cold if attempt == 0 else warm).append((time.perf_counter() - started) * 1000)
        found[kind] = (cold, warm)
    return found


# --- the run -----------------------------------------------------------------------------------


def reindex_phases(app, scratch: Path) -> dict[str, float]:
    """Where a reindex's work goes, in this one process, the datasets streamed as a reindex does:
    reading the rows, building the documents (analysis, disease expansion), whoosh adding them,
    writing the segment. (A reindex over several processes overlaps them.)"""
    import shutil

    from harmony.search import analysis, bulk, store
    from harmony.search.schema import document
    from harmony.search.sync import read_sources

    split = dict.fromkeys(("reading rows", "documents", "whoosh: adding", "whoosh: writing the segment"), 0.0)
    shutil.rmtree(scratch, ignore_errors=True)
    analysis.forget()
    with app.app_context():
        writer = bulk.BulkWriter(store.open_index(store.new_generation(scratch)), **store.WRITER_OPTIONS)
        with db.engine().connect() as connection:
            started = time.perf_counter()
            for source in read_sources(connection):
                read = time.perf_counter()
                fields = document(source)
                built = time.perf_counter()
                writer.add_document(**fields)
                added = time.perf_counter()
                split["reading rows"] += read - started
                split["documents"] += built - read
                split["whoosh: adding"] += added - built
                started = time.perf_counter()
        started = time.perf_counter()
        writer.commit(merge=False)
        split["whoosh: writing the segment"] = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)
    return split


def _split(split: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in split.items()) + f" (sum {sum(split.values()):.1f} s)"


def report(size: int, results: dict[str, dict[str, tuple[list[float], list[float]]]]) -> None:
    print(f"\n  {size:,} datasets: p50 / p95 in ms (cold = first run, caches emptied; warm = repeated)")
    header = f"  {'query type':<22}" + "".join(f"{name + ' cold':>22}{name + ' warm':>22}" for name in results)
    print(header)
    for kind in QUERIES:
        row = f"  {kind:<22}"
        for samples in results.values():
            for part in samples[kind]:
                row += f"{percentile(part, 0.5):>12.1f} /{percentile(part, 0.95):>7.1f}  "
        print(row)
    if "engine" in results and "fts5" in results:
        print("  engine / FTS5 (p95, cold):  " + ", ".join(
            f"{kind}: {percentile(results['engine'][kind][0], .95) / max(percentile(results['fts5'][kind][0], .95), 0.01):.2f}"
            for kind in QUERIES))


def run(size: int, procs: int, repeat: int, workdir: Path, reuse: bool, reuse_db: bool, phases: bool,
        rounds: int = 1) -> None:
    folder = workdir / f"n{size}"
    have_db = (folder / "harmony.db").exists()
    reused = reuse and have_db
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'harmony.db'}"
    if not (have_db and (reuse or reuse_db)):
        migrate.upgrade(url)
        started = time.perf_counter()
        populate(url, size)
        print(f"\n{size:,} datasets written to the database in {time.perf_counter() - started:.1f} s")
    elif reuse_db:
        print(f"\n{size:,} datasets: database of an earlier run reused")
    app = create_app({"TESTING": True, "SECRET_KEY": "benchmark-secret-key", "DATABASE_URL": url,
                      "SEARCH_INDEX_DIR": str(folder / "index"), "LOG_LEVEL": "WARNING"})
    fts_path = folder / "fts.db"
    ratios, fts = [], None
    for round_ in range(1 if reused else rounds):
        if rounds > 1 and not reused:
            print(f"  round {round_ + 1} of {rounds}")
        reindex = None
        with app.app_context():
            if reused:
                print(f"\n{size:,} datasets: database and index of an earlier run reused")
            else:
                started = time.perf_counter()
                search_index().rebuild(procs=procs)
                reindex = time.perf_counter() - started
                print(f"  full reindex ({procs} process{'es' if procs > 1 else ''}): {reindex:.1f} s")
            started = time.perf_counter()
            search_index().view()
            print(f"  first view of the new generation (facet bitsets, number slices): "
                  f"{time.perf_counter() - started:.2f} s")
        if reused and fts_path.exists():
            fts, seconds = sqlite3.connect(fts_path), 0.0
        else:
            if fts is not None:
                fts.close()
            fts_path.unlink(missing_ok=True)
            fts, seconds, split = build_fts(url, fts_path)
            print(f"  FTS5 reference built in {seconds:.1f} s")
            if reindex is not None:
                ratios.append(reindex / seconds)
                print(f"  reindex / FTS5 build: {reindex / seconds:.2f}")
            if phases:
                print(f"  FTS5 build phases: {_split(split)}")
    if len(ratios) > 1:
        print(f"  reindex / FTS5 build over {len(ratios)} rounds: median {statistics.median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    if phases:
        print(f"  reindex phases, one process: {_split(reindex_phases(app, folder / 'phases'))}")
    latency = commit_latency(app)
    print(f"  commit to searchable: p50 {percentile(latency, .5):.0f} ms, max {max(latency):.0f} ms")
    results = {"engine": measure_engine(app, repeat), "api": measure_api(app, repeat)}
    results["fts5"] = measure_fts(fts, repeat)
    report(size, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the databases and indexes here")
    parser.add_argument("--reuse", action="store_true", help="reuse the database and index of a run in --workdir")
    parser.add_argument("--reuse-db", action="store_true",
                        help="reuse the database of a run in --workdir, but reindex and build the FTS5 reference again")
    parser.add_argument("--rounds", type=int, default=1,
                        help="reindex and build the FTS5 reference this many times in turn; print the median ratio")
    parser.add_argument("--phases", action="store_true",
                        help="also print where a reindex and the FTS5 build spend their time, step by step")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="search-bench-") as scratch:
        workdir = arguments.workdir or Path(scratch)
        for size in arguments.sizes:
            run(size, arguments.procs, arguments.repeat, workdir, arguments.reuse, arguments.reuse_db, arguments.phases,
                arguments.rounds)


if __name__ == "__main__":
    main()
