"""Ranking on a real corpus: the 750 haematology records of ClinicalTrials.gov, imported once.

Expectations come from the records' own structured fields (conditions, MeSH terms, ages,
enrollment), read with the registry parser, never from the index: they guard the ranking
against regressions. Records the registry gives no enrollment for cannot be published and so
are not searchable; the others (some 520) are.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from harmony import db, migrate
from harmony.accounts.services import COMMAND_LINE
from harmony.catalog import services as catalog
from harmony.catalog.importers import ctgov
from harmony.catalog.importers.ctgov_mapping import years
from harmony.catalog.importers.runner import import_paths
from harmony.catalog.models import PUBLISHED, Dataset
from tests.conftest import BACKENDS, fresh_database_url, make_app

ARCHIVE = Path(__file__).resolve().parents[1] / "data" / "ctgov" / "hematology-750-ctgov-xml.tar.gz"


def _records() -> dict[str, ctgov.RegistryRecord]:
    found = {}
    with tarfile.open(ARCHIVE) as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".xml"):
                for record in ctgov.parse(archive.extractfile(member).read()):
                    found[record.nct_id] = record
    return found


class Corpus:
    def __init__(self, app, records, pid_to_nct):
        self.app = app
        self.client = app.test_client()
        self.records = records
        self.nct = pid_to_nct

    def search(self, **args):
        response = self.client.get("/api/v1/datasets", query_string={"per_page": 100, **args})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def ranked(self, q, **args) -> list[ctgov.RegistryRecord]:
        return [self.records[self.nct[item["pid"]]] for item in self.search(q=q, **args)["items"]]

    def found(self, q, **args) -> set[str]:
        body = self.search(q=q, per_page=100, **args)
        pages = [body] + [self.search(q=q, page=n, **args) for n in range(2, body["pages"] + 1)]
        return {self.nct[item["pid"]] for page in pages for item in page["items"]}

    def where(self, holds) -> set[str]:
        return {nct for nct in self.nct.values() if holds(self.records[nct])}


@pytest.fixture(scope="session", params=BACKENDS)
def corpus(request, tmp_path_factory):
    """Its own database and index, filled once per backend and never emptied between tests."""
    url = fresh_database_url(request.param, tmp_path_factory, "relevance", request)
    from harmony.config import normalise_database_url

    url = normalise_database_url(url)
    migrate.upgrade(url)
    app = make_app(url, SEARCH_INDEX_DIR=str(tmp_path_factory.mktemp("relevance-index")))
    with app.app_context():
        group = catalog.create_group(COMMAND_LINE, catalog.GroupInput(name="Registry records", acronym="CTGOV"))
        report = import_paths(COMMAND_LINE, [ARCHIVE], "ctgov", group.id, publish=True)
        assert len(report.created) > 500, report.summary()
        pid_to_nct = {d.pid: next(r for r in d.content["registrations"] if r.startswith("NCT"))
                      for d in db.session().scalars(select(Dataset).where(Dataset.state == PUBLISHED))}
    yield Corpus(app, _records(), pid_to_nct)
    with app.app_context():
        db.engine().dispose()


def about(pattern: str):
    """Records whose conditions or MeSH terms match (abbreviations in capitals, the rest in any case)."""
    compiled = re.compile(pattern)
    return lambda record: any(compiled.search(text) for text in record.conditions + record.mesh_terms)


AML = about(r"(?i:acute myel|myeloid leukemia, acute|leukemia, myeloid, acute|myelogenous leukemia, acute|"
            r"leukemia, myelogenous, acute|acute non.?lymphocytic|acute promyelocytic|acute monocytic|"
            r"acute myelomonocytic|erythroleuk|acute megakaryoblastic|acute erythroid)|\bAML\b")
ALL = about(r"(?i:acute lymphoblastic|acute lymphocytic|lymphoblastic leuk|precursor.*lymphoblastic|"
            r"lymphocytic leukemia, acute|leukemia, lymphoid, acute)|\b[BT]?-?ALL\b")
CLL = about(r"(?i:chronic lymphocytic|lymphocytic leukemia, chronic|leukemia, lymphocytic, chronic)|\bCLL\b")
CML = about(r"(?i:chronic myel|myelogenous leukemia, chronic|leukemia, myelogenous, chronic|"
            r"leukemia, myeloid, chronic|bcr-abl|blast crisis|blastic phase)|\bCML\b")
MYELOMA = about(r"(?i:myeloma|plasma cell)")
MDS = about(r"(?i:myelodysplas|refractory an(a)?emia)|\bMDS\b")
HODGKIN = about(r"(?i:(?<!non-)(?<!non )hodgkin(?!.*non))")
LYMPHOMA = about(r"(?i:lymphoma|hodgkin|mycosis fungoides|s[eé]zary|waldenstr)")
LEUKAEMIA = about(r"(?i:leuk(a)?emia)")


def adult(record) -> bool:
    low = years(record.minimum_age)
    return (low is not None and low >= 18) or any("adult" in c.lower() for c in record.conditions)


def children_only(record) -> bool:
    high = years(record.maximum_age)
    return high is not None and high < 18


def for_children(record) -> bool:
    return children_only(record) or any(w in c.lower() for c in record.conditions for w in ("child", "pediatric"))


@pytest.mark.parametrize(("query", "holds"), [
    ("AML", AML), ("acute myeloid leukaemia", AML), ("9861/3", AML), ("C92.0", AML), ("DOID:9119", AML),
    ("ALL", ALL), ("acute lymphoblastic leukemia", ALL), ("CLL", CLL), ("chronic lymphocytic leukaemia", CLL),
    ("CML", CML), ("chronic myelogenous leukemia", CML), ("C92.1", CML), ("multiple myeloma", MYELOMA), ("myeloma", MYELOMA),
    ("MDS", MDS), ("myelodysplastic syndromes", MDS), ("Hodgkin's disease", HODGKIN), ("Hodgkin lymphoma", HODGKIN),
    ("lymphoma", LYMPHOMA), ("leukaemia", LEUKAEMIA),
])
def test_the_top_ten_are_about_the_disease(corpus, query, holds):
    top = corpus.ranked(query)[:10]
    assert len(top) == 10
    wrong = [r.nct_id for r in top if not holds(r)]
    assert not wrong, f"{query}: {wrong} are not about it"


@pytest.mark.parametrize(("query", "pattern"), [
    ("Waldenström macroglobulinaemia", r"(?i:waldenstr)"), ("Waldenstrom", r"(?i:waldenstr)"),
    ("mycosis fungoides", r"(?i:mycosis fungoides|s[eé]zary|cutaneous t-cell)"),
    ("mantle cell lymphoma", r"(?i:mantle)"), ("MCL", r"(?i:mantle)"), ("follicular lymphoma", r"(?i:follicular)"),
    ("diffuse large B-cell lymphoma", r"(?i:diffuse large|large.?(b.?)?cell,? diffuse)"),
    ("DLBCL", r"(?i:diffuse large|large.?(b.?)?cell,? diffuse)"),
    ("hairy cell leukaemia", r"(?i:hairy)"), ("APL", r"(?i:promyelocytic)"),
    ("acute promyelocytic leukemia", r"(?i:promyelocytic)"), ("Burkitt lymphoma", r"(?i:burkitt|small non.?cleaved)"),
    ("myeloproliferative neoplasm", r"(?i:myeloproliferative|myelofibrosis|polycyth|thrombocyth)"),
    ("plasmacytoma", r"(?i:plasmacytoma|myeloma)"),
])
def test_subtypes_rank_first(corpus, query, pattern):
    top = corpus.ranked(query)[:5]
    assert len(top) == 5
    wrong = [r.nct_id for r in top if not about(pattern)(r)]
    assert not wrong, f"{query}: {wrong}"


@pytest.mark.parametrize(("query", "holds", "recall"), [
    ("AML", AML, 0.9), ("leukaemia", LEUKAEMIA, 0.95), ("lymphoma", LYMPHOMA, 0.9), ("myeloma", MYELOMA, 0.9),
    # a record listing dozens of conditions is tagged with its first six diseases by the importer
    ("CLL", CLL, 0.8), ("MDS", MDS, 0.85), ("ALL", ALL, 0.85), ("CML", CML, 0.85),
])
def test_recall(corpus, query, holds, recall):
    relevant = corpus.where(holds)
    found = corpus.found(query)
    assert len(relevant & found) >= recall * len(relevant), (query, sorted(relevant - found)[:10])


@pytest.mark.parametrize(("one", "other"), [
    ("leukaemia", "leukemia"), ("haematological", "hematological"), ("paediatric", "pediatric"),
    ("tumour", "tumor"), ("9861/3", "C92.0"), ("acute myeloid leukaemia", "acute myelogenous leukemia"),
    ("Waldenström", "Waldenstrom"), ("AML", "acute myeloid leukemia"), ("myelodysplastic syndrome", "MDS"),
    ("C92.1", "CML"), ("9863/3", "C92.1"),
])
def test_spellings_and_codes_find_the_same(corpus, one, other):
    assert corpus.found(one) == corpus.found(other)


def test_acute_leukaemia_finds_myeloid_and_lymphoblastic(corpus):
    found = corpus.found("acute leukemia")
    assert corpus.where(AML) & corpus.where(ALL)  # the corpus has both
    assert len(found & corpus.where(AML)) >= 0.9 * len(corpus.where(AML))
    assert len(found & corpus.where(ALL)) >= 0.85 * len(corpus.where(ALL))
    assert corpus.found('"acute leukemia"', literal="1") < found  # the words alone find far fewer


def test_paediatric_all_ranks_first(corpus):
    for query in ("pediatric acute lymphoblastic leukemia", "paediatric ALL", "childhood ALL"):
        first = corpus.ranked(query)[0]
        assert ALL(first) and for_children(first), (query, first.nct_id)


def test_adult_aml_ranks_adult_trials_first(corpus):
    top = corpus.ranked("adult AML")[:10]
    assert all(AML(r) for r in top)
    assert sum(1 for r in top if adult(r)) >= 8


def test_boolean_queries(corpus):
    either = corpus.found("CLL OR CML")
    assert either == corpus.found("CLL") | corpus.found("CML")
    assert corpus.found("myeloma AND lenalidomide") == corpus.found("myeloma") & corpus.found("lenalidomide")
    assert corpus.found("leukemia NOT lymphoma") == corpus.found("leukemia") - corpus.found("lymphoma")
    assert corpus.found("lymphoma -rituximab") == corpus.found("lymphoma") - corpus.found("rituximab")


def test_phrases_are_stricter_than_words(corpus):
    words = corpus.found("stem cell transplantation", literal="1")
    phrase = corpus.found('"stem cell transplantation"')
    assert phrase and phrase < words


def test_field_prefixes(corpus):
    assert corpus.found("disease:CLL") <= corpus.found("CLL")
    assert corpus.found("country:Germany") == corpus.where(lambda r: "Germany" in r.countries)


def test_filters_agree_with_the_records(corpus):
    children = corpus.found("", population="paediatric")
    assert children == corpus.where(children_only)
    big = corpus.found("", patients_min=500)
    assert big == corpus.where(lambda r: int(float(r.enrollment)) >= 500)


def test_feasibility_sums_the_enrollment(corpus):
    body = corpus.search(q="AML", per_page=100)
    found = corpus.found("AML")
    assert body["feasibility"]["patients"] == sum(int(float(corpus.records[n].enrollment)) for n in found)
    assert body["feasibility"]["datasets"] == body["total"] == len(found)


def test_facet_counts_on_the_real_corpus(corpus):
    body = corpus.search(q="lymphoma")
    for facet in ("population", "country", "phase", "year"):
        for entry in body["facets"][facet][:5]:
            assert corpus.search(q="lymphoma", **{facet: entry["value"]})["total"] == entry["count"]


def test_did_you_mean_on_the_real_corpus(corpus):
    body = corpus.search(q="lymphomma")
    assert body["total"] == 0 and body["suggestion"] == "lymphoma"
    assert corpus.search(q="rituxmab")["suggestion"] == "rituximab"
