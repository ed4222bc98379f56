"""Exports validate against the official DCAT-AP 3.0.1 and HealthDCAT-AP Release 5 shapes.

These tests need no database: the graphs are built from in-memory rows, so each runs once and the
shapes are parsed once per session (pyshacl without inference).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib import namespace as rdfns

from harmony.catalog.exports import conformance
from harmony.catalog.exports.listing import Entry
from harmony.catalog.exports.rdf import catalog_graph, dataset_graph
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from tests import factories

BASE = "http://harmony.test"
SHAPES_DATA = Path(__file__).parent.parent / "data" / "shapes"
HOVON = StudyGroup(id=1, name="HOVON study group", acronym="HOVON", country="NL")
ROR_GROUP = StudyGroup(id=2, name="German Multicenter ALL Study Group", acronym="GMALL", country="DE",
                       ror="03yrm5c26", website="https://www.gmall.example")

MINIMAL = {  # only what publication requires
    "title": "Minimal AML cohort", "acronym": None, "keywords": [], "creators": [], "registrations": [],
    "countries": [], "study_type": None, "phases": [], "recruitment_start": None, "recruitment_end": None,
    "age_min": None, "age_max": None, "data_types": [], "standards": [], "legal_basis": [], "purpose": [],
    "provenance": None,
}
VARIANTS = {
    "factory": {},
    "minimal": MINIMAL,
    "many-diseases-and-countries": {
        "diseases": ["DOID:9119", "DOID:9952", "DOID:9538", "DOID:0050908", "DOID:8567"],
        "countries": ["NL", "BE", "DE", "FR", "IT", "ES", "SE", "GB", "CH"],
        "registrations": ["NCT01234567", "2004-000123-45", "2023-501234-12-00", "ISRCTN12345678"],
        "standards": ["omop", "cdisc-sdtm", "fhir", "icd-10", "icd-o-3", "meddra", "loinc", "hgvs", "iscn"],
        "data_use": ["HMB", "DS", "IRB", "PUB", "COL", "GS", "NCU", "TS"], "data_use_diseases": ["DOID:9538"],
        "publications": ["10.1182/blood.2020005000", "https://doi.org/10.1056/NEJMoa1234567"],
        "legal_basis": ["A6-1-a", "A9-2-j"], "purpose": ["ScientificResearch", "ResearchAndDevelopment"],
        "access_rights": "restricted", "licence": "https://creativecommons.org/licenses/by/4.0/",
        "creators": [{"name": "A. Curie", "orcid": "0000-0002-1825-0097"}, {"name": "B. Without Orcid"}],
    },
    "paediatric": {
        "title": "Paediatric ALL trial", "diseases": ["ALL"], "population": "paediatric",
        "age_min": 0.5, "age_max": 17.9, "n_patients": 1200, "n_records": 54000, "study_type": "registry",
        "data_types": ["clinical", "ngs", "flow-cytometry"], "recruitment_end": None,
    },
}

# The SHACL warnings our exports are allowed to raise, by (path, constraint), each for a stated reason.
# Any other warning fails the tests: a recommended property that disappears (dct:publisher, say) is a
# regression even though it is not a violation.
ACCEPTED_WARNINGS = {
    ("dct:type", "MinCountConstraintComponent"):
        "agents and licence documents carry no EU publisher-type or licence-type code",
    ("adms:status", "MinCountConstraintComponent"): "catalog records carry no ADMS status",
    ("dct:publisher", "NodeConstraintComponent"):
        "study groups are not in the EU corporate-bodies table the recommended shapes look up",
    ("dcat:bbox", "MinCountConstraintComponent"): "countries are named by the EU authority table, without geometry",
    ("dcat:centroid", "MinCountConstraintComponent"): "countries are named by the EU authority table, without geometry",
    ("dct:spatial", "MinCountConstraintComponent"): "the curator named no country",
    ("dct:temporal", "MinCountConstraintComponent"): "the curator gave no recruitment period",
    ("dcat:endDate", "MinCountConstraintComponent"): "recruitment is still open",
    ("dct:issued", "MinCountConstraintComponent"): "a catalog page has no issue date of its own",
    ("dct:modified", "MinCountConstraintComponent"): "a catalog page has no modification date of its own",
}
_WARNING_KIND = re.compile(r" path (\S+) (\w+ConstraintComponent)")


def unexpected_warnings(report: conformance.Report) -> list[str]:
    """The report's warnings that are not of an accepted kind."""
    unexpected = []
    for line in report.warnings:
        kind = _WARNING_KIND.search(line)
        if kind is None or (kind.group(1), kind.group(2)) not in ACCEPTED_WARNINGS:
            unexpected.append(line)
    return unexpected


def described(content, *, version: int = 1, notes: str | None = None, group: StudyGroup = HOVON,
              dataset_id: int = 42):
    dataset = Dataset(id=dataset_id, pid=f"HM-{dataset_id:06d}", group_id=group.id, state="published",
                      published_version=version)
    published = DatasetVersion(dataset_id=dataset_id, version=version, content=content.stored(), notes=notes,
                               issued_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    return dataset, published, group


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_kind_of_description_has_no_violations(variant):
    dataset, version, group = described(factories.content(**VARIANTS[variant]))
    report = conformance.check(dataset_graph(dataset, version, group, BASE))
    assert report.violations == []
    assert report.conforms
    assert unexpected_warnings(report) == []


def test_a_later_version_with_notes_and_a_ror_group_conforms():
    dataset, version, group = described(factories.content(), version=3, notes="Follow-up extended to 2024.",
                                        group=ROR_GROUP)
    graph = dataset_graph(dataset, version, group, BASE, issued=datetime(2025, 1, 2, tzinfo=UTC))
    assert conformance.validate(graph) == (True, [])
    assert unexpected_warnings(conformance.check(graph)) == []


def test_a_catalog_page_with_datasets_of_two_groups_conforms():
    entries = [Entry(*described(factories.content(title=f"Trial {n}"), dataset_id=n, group=group),
                     datetime(2025, 1, 2, tzinfo=UTC))
               for n, group in ((1, HOVON), (2, HOVON), (3, ROR_GROUP))]
    graph = catalog_graph(entries, page=1, per_page=3, total=7, base_url=BASE)
    report = conformance.check(graph)
    assert report.violations == []
    assert report.conforms
    assert unexpected_warnings(report) == []


def test_removing_the_publisher_is_an_unexpected_warning():
    dataset, version, group = described(factories.content())
    graph = dataset_graph(dataset, version, group, BASE)
    graph.remove((URIRef(f"{BASE}/datasets/HM-000042"), rdfns.DCTERMS.publisher, None))
    report = conformance.check(graph)
    assert any("dct:publisher MinCount" in line for line in unexpected_warnings(report))


def test_removing_the_title_breaks_conformance():
    dataset, version, group = described(factories.content())
    graph = dataset_graph(dataset, version, group, BASE)
    graph.remove((URIRef(f"{BASE}/datasets/HM-000042"), rdfns.DCTERMS.title, None))
    conforms, violations = conformance.validate(graph)
    assert not conforms
    assert any("dct:title" in line and "MinCount" in line for line in violations)


def test_the_specifications_own_example_is_caught():
    example = Graph().parse(SHAPES_DATA / "ckanext-dcat__dataset_health.ttl", format="turtle")
    report = conformance.check(example)
    assert not report.conforms
    # e.g. its hdab and publisher lack the contact point HealthDCAT-AP requires
    assert any("healthdcatap:hdab" in line for line in report.violations)
    assert report.warnings  # warnings are counted apart


def test_the_shipped_shapes_are_the_official_files():
    shipped = conformance.SHAPES_DIR
    for name in conformance.DCAT_AP_SHAPES + conformance.HEALTHDCAT_AP_SHAPES:
        assert (shipped / name).read_bytes() == (SHAPES_DATA / name).read_bytes(), name
    assert (shipped / "SOURCES.md").is_file()
