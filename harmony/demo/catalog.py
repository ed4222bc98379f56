"""The demo catalog: two fictional study groups, their curators, and 200 real registry records.

The records (ClinicalTrials.gov, see records/SOURCES.md) are imported as published datasets,
those mostly about children into the paediatric network. What a registry does not say (data types,
standards, data-use conditions, legal basis, purpose, distributions) is made up per record from a hash
of its NCT id, so facets look real, each landing page says what the data come as, and loading again
changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from functools import partial
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

from flask import current_app

from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.catalog.importers import ctgov, runner, sources
from harmony.catalog.importers import ctgov_mapping as mapping
from harmony.catalog.models import Dataset, StudyGroup
from harmony.catalog.vocabularies import diseases
from harmony.demo.personas import PERSONAS
from harmony.demo.select_records import paediatric_heavy
from harmony.errors import NotFound, ValidationError

RECORDS = Path(__file__).parent / "records" / "ctgov-haematology-demo.tar.gz"

DEMO_GROUPS = [
    catalog.GroupInput(name="Northern Haematology Trials Group", acronym="NHTG", country="NL",
                       description="A fictional study group of the Harmony demo. Its datasets describe real "
                                   "ClinicalTrials.gov records; the group and its data office are made up."),
    catalog.GroupInput(name="European Paediatric Leukaemia Network", acronym="EPLN", country="DE",
                       description="A fictional paediatric network of the Harmony demo. Its datasets describe real "
                                   "ClinicalTrials.gov records; the network and its data office are made up."),
]

# What each record gets besides its registry content; the registry import owns these fields too.
VARIED = ("data_types", "standards", "data_use", "data_use_diseases", "legal_basis", "purpose", "distributions")
_BY_CATEGORY = {
    "Leukaemias": ["cytogenetics", "flow-cytometry", "molecular"],
    "Lymphomas": ["imaging", "molecular", "biosamples"],
    "Myeloma and plasma cell neoplasms": ["laboratory", "cytogenetics", "imaging"],
    "Myelodysplastic syndromes": ["cytogenetics", "ngs", "laboratory"],
    "Myeloproliferative neoplasms": ["molecular", "laboratory", "ngs"],
}
_EXTRA_TYPES = ["treatment", "adverse-events", "quality-of-life", "biosamples", "ngs", "laboratory"]
_STANDARDS = ["cdisc-sdtm", "cdisc-adam", "omop", "meddra", "icd-10", "icd-o-3", "loinc", "fhir"]
_MODIFIERS = [("IRB", 200), ("PUB", 130), ("NCU", 80), ("COL", 64), ("TS", 40), ("GS", 26)]  # (term, chance in 256)
_LEGAL = [["A6-1-e", "A9-2-j"], ["A6-1-a", "A9-2-a"], ["A6-1-f", "A9-2-j"]]
_PURPOSES = [["AcademicResearch"], ["ScientificResearch"], ["AcademicResearch", "ScientificResearch"]]


def variations(nct_id: str, disease_ids: list[str]) -> dict[str, Any]:
    """The made-up, curator-chosen fields of one record: always the same for the same NCT id."""
    byte = hashlib.sha256(nct_id.encode()).digest()
    category = diseases().category(disease_ids[0]).label if disease_ids else ""
    specific = _BY_CATEGORY.get(category, ["laboratory"])
    types = ["clinical", "outcome", *(t for i, t in enumerate(specific) if byte[i] < 170)]
    types += [_EXTRA_TYPES[byte[3] % len(_EXTRA_TYPES)]] if byte[4] < 150 else []
    standards = [_STANDARDS[byte[5 + i] % len(_STANDARDS)] for i in range(1 + byte[8] % 3)]
    if "cytogenetics" in types and byte[9] < 128:
        standards.append("iscn")
    if {"ngs", "molecular"} & set(types) and byte[10] < 128:
        standards.append("hgvs")
    permission = "GRU" if byte[11] < 64 else ("DS" if byte[11] < 140 and disease_ids else "HMB")
    data_use = [permission, *(term for i, (term, chance) in enumerate(_MODIFIERS) if byte[12 + i] < chance)]
    return {
        "data_types": list(dict.fromkeys(types)),
        "standards": list(dict.fromkeys(standards)),
        "data_use": data_use,
        "data_use_diseases": disease_ids[:1] if permission == "DS" else [],
        "legal_basis": _LEGAL[byte[20] % len(_LEGAL)],
        "purpose": _PURPOSES[byte[21] % len(_PURPOSES)],
        "distributions": _distributions(byte, list(dict.fromkeys(standards))),
    }


_IANA = "https://www.iana.org/assignments/media-types/"
_CDISC = "https://www.cdisc.org/standards/"
_DELIVERIES = ["download", "secure-environment", "download", "federated"]


def _distributions(byte: bytes, standards: list[str]) -> list[dict[str, Any]]:
    """What a curator would say the data come as, following the standards the data conform to."""
    size = (byte[22] + 8) * 250_000  # 2 MB to 66 MB per part, as trial data go
    delivery = _DELIVERIES[byte[23] % len(_DELIVERIES)]
    found = []
    if "cdisc-sdtm" in standards:
        found.append({"title": "SDTM tabulation datasets", "media_type": _IANA + "application/x-sas-xport",
                      "byte_size": size * 3, "delivery": delivery,
                      "conforms_to": [_CDISC + "foundational/sdtm", _CDISC + "data-exchange/define-xml"]})
    if "cdisc-adam" in standards:
        found.append({"title": "ADaM analysis datasets", "media_type": _IANA + "application/json",
                      "byte_size": size * 2, "delivery": delivery,
                      "conforms_to": [_CDISC + "foundational/adam", _CDISC + "data-exchange/dataset-json"]})
    if "omop" in standards:
        found.append({"title": "OMOP CDM tables", "media_type": _IANA + "application/vnd.apache.parquet",
                      "byte_size": size * 5, "delivery": "secure-environment",
                      "conforms_to": ["https://ohdsi.github.io/CommonDataModel/"]})
    if "fhir" in standards:
        found.append({"title": "FHIR bundles per patient", "media_type": _IANA + "application/fhir+json",
                      "byte_size": size * 8, "delivery": "federated", "conforms_to": ["http://hl7.org/fhir/"]})
    if not found:
        found.append({"title": "Analysis tables with a data dictionary", "media_type": _IANA + "text/csv",
                      "byte_size": size, "delivery": delivery, "conforms_to": []})
    return found


def _group(data: catalog.GroupInput) -> StudyGroup:
    try:
        return catalog.group_by_acronym(data.acronym)
    except NotFound:
        return catalog.create_group(COMMAND_LINE, data)


def _grant_curators(groups: list[StudyGroup]) -> list[str]:
    issuer = current_app.config["DEV_IDP_URL"].rstrip("/")
    granted = []
    for persona in PERSONAS:
        kind, _, number = persona.scope.partition(":")
        if persona.role != "curator" or kind != "group":
            continue  # committee scopes come with the committees
        user = accounts.find_user(persona.subject, issuer)
        group = groups[int(number) - 1]
        accounts.grant_role(COMMAND_LINE, accounts.RoleGrantInput(user_id=user.id, role="curator", scope_id=group.id),
                            source="demo")
        granted.append(f"{persona.subject} curates {group.acronym}")
    return granted


def _records() -> list[ctgov.RegistryRecord]:
    return [record for source in sources.iter_files([RECORDS]) if not source.problem
            for record in ctgov.parse(source.data) if record.nct_id]


def load_catalog(limit: int | None = None) -> Iterator[str]:
    """Create the demo groups, let the curator personas curate them, import the records (at most
    `limit`, shared between the groups; default: the app's DEMO_RECORD_LIMIT, else all)."""
    if limit is None:
        limit = current_app.config.get("DEMO_RECORD_LIMIT")
    groups = [_group(data) for data in DEMO_GROUPS]
    granted = _grant_curators(groups)
    placeholder = mapping.Defaults(mapping.group_contact("Demo", "demo"))
    shares: tuple[list, list] = ([], [])
    for record in sorted(_records(), key=lambda r: r.nct_id):
        mapped = mapping.to_content(record, placeholder)
        shares[paediatric_heavy(mapped.content)].append(mapped)
    chosen = [m for m in chain.from_iterable(zip_longest(*shares)) if m is not None][:limit]
    per_group: Counter[str] = Counter()
    report = runner.ImportReport()
    for mapped in chosen:
        group = groups[paediatric_heavy(mapped.content)]
        content = {**mapped.content, **variations(mapped.nct_id, mapped.content.get("diseases", []))}
        if "contact_point" not in mapped.owned:
            content["contact_point"] = mapping.group_contact(group.name, group.acronym)
        work = partial(_publish_demo_record, group.id, mapping.source_key(mapped.nct_id), content,
                       mapped.owned | set(VARIED))
        per_group[group.acronym] += runner.record_outcome(report, RECORDS.name, mapped.nct_id, work)
    yield (f"Demo study groups: {', '.join(f'{g.acronym} ({g.name})' for g in groups)}; "
           + ("; ".join(granted) or "no curator personas") + ".")
    yield (f"Demo datasets: {sum(per_group.values())} published ("
           + ", ".join(f"{acronym} {count}" for acronym, count in sorted(per_group.items()))
           + f"): {len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
           f"{len(report.rejected)} rejected.")
    for problem in report.rejected:
        yield f"  rejected {problem.identifier}: {problem.reason}"


def _publish_demo_record(group_id: int, key: str, content: dict, owned: set[str]) -> tuple[str, Dataset]:
    """Import one demo record, published (the demo records are chosen complete enough to publish)."""
    outcome, dataset, held_back = runner.upsert(COMMAND_LINE, group_id, key, content, owned, True,
                                                "Demo import from ClinicalTrials.gov.")
    if held_back:
        raise ValidationError(f"the demo record could not be published ({held_back})")
    return outcome, dataset
