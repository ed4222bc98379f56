"""How many WHO codes and real registry records get a disease term from the vocabulary.

First, per table, the codes of WHO ICD-10 C81–C96/D45–D47 (categories and subcategories) and of
ICD-O-3.1 9590–9992 that search understands (read as one concept; before issue 10: 44/127, 75/154),
how many of them read as a Disease Ontology term, and how many as a WHO concept of its own.

Reads the 750 ClinicalTrials.gov records (legacy clinical_study XML) in
../shared/data/ctgov/hematology-750-ctgov-xml.tar.gz, matches every <condition> and every
condition MeSH term (<condition_browse><mesh_term>) with `DiseaseVocabulary.match`, and reports
the share of records with at least one match (product target: >= 95%), the share of distinct
condition strings matched, and what stayed unmatched.

    .venv/bin/python benchmarks/vocabulary_coverage.py [--archive PATH] [--show N]
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harmony.catalog.vocabularies import diseases  # noqa: E402

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "ctgov" / "hematology-750-ctgov-xml.tar.gz"
TARGET = 0.95


def read_records(archive: Path) -> dict[str, tuple[list[str], list[str]]]:
    """{NCT id: (conditions, condition MeSH terms)} for every XML file in the archive."""
    records = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            if not (member.isfile() and member.name.endswith(".xml")):
                continue
            root = ET.parse(tar.extractfile(member)).getroot()
            nct = root.findtext("id_info/nct_id") or Path(member.name).stem
            conditions = [e.text.strip() for e in root.findall("condition") if e.text]
            mesh = [e.text.strip() for e in root.findall("condition_browse/mesh_term") if e.text]
            records[nct] = (conditions, mesh)
    return records


def code_coverage(vocabulary) -> None:
    from harmony.catalog.vocabularies.sources import read_code_tables
    from harmony.search import query

    tables = read_code_tables()
    for name, codes in (("ICD-10 C81-C96, D45-D47", [r["code"] for r in tables.icd10 if r["level"] != "block"]),
                        ("ICD-O-3.1 9590-9992", [r["icdo3_histology_code"] for r in tables.icdo3])):
        understood = [c for c in codes if [x.term_id for x in query.parse(c).concepts] == vocabulary.lookup(c)[:1]
                      and len(vocabulary.lookup(c)) == 1 and c not in vocabulary.unread_codes]
        doid = sum(1 for c in understood if vocabulary.get(vocabulary.lookup(c)[0]).is_doid)
        print(f"{name}: {len(understood)}/{len(codes)} codes understood "
              f"({doid} read as a DOID term, {len(understood) - doid} as a WHO concept of its own)")
        missing = [c for c in codes if c not in understood]
        if missing:
            print("  not understood:", ", ".join(missing))
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--show", type=int, default=25, help="unmatched examples to list")
    args = parser.parse_args()
    if not args.archive.exists():
        print(f"skipped: {args.archive} is not here (it lives in the shared data folder)")
        return 0

    started = time.perf_counter()
    vocabulary = diseases()
    code_coverage(vocabulary)
    records = read_records(args.archive)
    matched_records, by_condition_only, unmatched_records = 0, 0, {}
    strings: Counter[str] = Counter()
    matched_strings: set[str] = set()
    terms_used: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for nct, (conditions, mesh) in sorted(records.items()):
        hits = {}
        for text in conditions + mesh:
            strings[text] += 1
            if (found := vocabulary.match(text)) is not None:
                hits[text] = found
                matched_strings.add(text)
        if hits:
            matched_records += 1
            terms_used.update(set(hits.values()))
            categories.update({vocabulary.category(t).label for t in hits.values()})
        else:
            unmatched_records[nct] = conditions + mesh
        if any(text in hits for text in conditions):
            by_condition_only += 1
    elapsed = time.perf_counter() - started

    total = len(records)
    share = matched_records / total if total else 0.0
    print(f"records: {total}   distinct condition/MeSH strings: {len(strings)}")
    print(f"records with a disease term: {matched_records}/{total} = {share:.1%} "
          f"(target {TARGET:.0%}: {'met' if share >= TARGET else 'NOT met'})")
    alone = by_condition_only
    print(f"  from <condition> alone: {alone}/{total} = {alone / total:.1%}")
    print(f"distinct strings matched: {len(matched_strings)}/{len(strings)} "
          f"= {len(matched_strings) / len(strings):.1%}")
    print(f"distinct terms used: {len(terms_used)}   time: {elapsed:.2f} s")
    print("records per category:", ", ".join(f"{k} {v}" for k, v in categories.most_common()))
    print(f"\nunmatched records ({len(unmatched_records)}):")
    for nct, texts in list(unmatched_records.items())[: args.show]:
        print(f"  {nct}: {' | '.join(texts)}")
    unmatched = Counter({s: n for s, n in strings.items() if s not in matched_strings})
    print(f"\nmost frequent unmatched strings ({len(unmatched)} distinct):")
    for text, count in unmatched.most_common(args.show):
        print(f"  {count:4d}  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
