"""How the demo's registry records were chosen (run again to rebuild `records/`).

    python -m harmony.demo.select_records ../shared/data/ctgov/hematology-750-ctgov-xml.tar.gz

From the 750 ClinicalTrials.gov haematology records it keeps those whose description comes out
rich (a disease term, enrollment, an age limit, countries, a recruitment period), takes every one
that is mostly about children, fills up with the richest of the rest (European sites,
publications, EU registrations, keywords first), and writes the original XML files, unchanged,
into one .tar.gz.
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

from harmony.catalog.importers import ctgov, sources
from harmony.catalog.importers import ctgov_mapping as mapping

TARGET = Path(__file__).parent / "records" / "ctgov-haematology-demo.tar.gz"
HOW_MANY = 200
PAEDIATRIC_AT_MOST = 80
EUROPE = {"AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE",
          "IS", "IT", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}


def paediatric_heavy(content: dict) -> bool:
    """Mostly children: a paediatric population, an upper age limit of 30, or children from 12 down."""
    low, high = content.get("age_min"), content.get("age_max")
    return content.get("population") == "paediatric" or (high is not None and high <= 30) or (
        low is not None and low <= 12)


def rich(content: dict) -> bool:
    return all(content.get(key) for key in ("diseases", "n_patients", "countries", "recruitment_start",
                                            "recruitment_end")) and ("age_min" in content or "age_max" in content)


def score(content: dict) -> int:
    return (3 * bool(EUROPE & set(content["countries"])) + 2 * bool(content.get("publications"))
            + 2 * (len(content.get("registrations", [])) > 1) + bool(content.get("keywords"))
            + bool(content.get("acronym")))


def select(archive: Path) -> list[tuple[str, bytes]]:
    defaults = mapping.Defaults(mapping.group_contact("Demo", "DEMO"))
    children, others = [], []
    for source in sources.iter_files([archive]):
        if source.problem:
            continue
        for record in ctgov.parse(source.data):
            content = mapping.to_content(record, defaults).content
            if record.nct_id and rich(content):
                entry = (-score(content), record.nct_id, source.data)
                (children if paediatric_heavy(content) else others).append(entry)
    chosen = sorted(children)[:PAEDIATRIC_AT_MOST]
    chosen += sorted(others)[: HOW_MANY - len(chosen)]
    return sorted((nct, data) for _score, nct, data in chosen)


def write(records: list[tuple[str, bytes]], target: Path = TARGET) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # gzip and tar headers carry no dates, so the same selection gives the same bytes.
    with gzip.GzipFile(target, "wb", compresslevel=9, mtime=0) as packed, tarfile.open(fileobj=packed, mode="w") as archive:
        for nct, data in records:
            info = tarfile.TarInfo(f"ctgov-haematology-demo/{nct}.xml")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    chosen = select(Path(sys.argv[1]))
    write(chosen)
    print(f"{len(chosen)} records written to {TARGET} ({TARGET.stat().st_size / 1e6:.2f} MB)")
