"""Searching the catalog: what is found, facets, filters, ranges, purpose, feasibility, sorting."""

from __future__ import annotations

from datetime import date

import pytest

from harmony.accounts.permissions import ANONYMOUS
from harmony.catalog import services as catalog
from harmony.catalog.data_use import Purpose, permits
from tests import factories

AML, ALL, CLL, MM, MDS = "DOID:9119", "DOID:9952", "DOID:1040", "DOID:9538", "DOID:0050908"


def api(client, **args):
    response = client.get("/api/v1/datasets", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def pids(body) -> list[str]:
    return [item["pid"] for item in body["items"]]


SPECS = [
    dict(title="AML induction with gemtuzumab in older adults", diseases=[AML], population="adult", age_min=60,
         age_max=85, n_patients=420, countries=["NL", "BE"], phases=["phase-3"], data_use=["GRU"],
         recruitment_start="2009-03-01", recruitment_end="2014-12-31", data_types=["clinical", "cytogenetics"]),
    dict(title="Paediatric acute lymphoblastic leukaemia risk-adapted therapy", acronym="ALL-IC", diseases=[ALL],
         population="paediatric", age_min=1, age_max=18, n_patients=5060, countries=["DE", "AT", "CZ"],
         phases=["phase-3"], data_use=["HMB", "IRB"], recruitment_start="2002-01-01", recruitment_end="2007-11-30",
         data_types=["clinical", "cytogenetics", "flow-cytometry"], keywords=["MRD"]),
    dict(title="Ibrutinib and rituximab in untreated CLL", diseases=[CLL], population="adult", age_min=18,
         age_max=70, n_patients=529, countries=["GB"], phases=["phase-3"], data_use=["DS", "NCU"],
         data_use_diseases=[CLL], recruitment_start="2014-10-01", recruitment_end="2018-07-31",
         data_types=["clinical", "ngs"], keywords=["ibrutinib"]),
    dict(title="Myeloma XI: lenalidomide maintenance", diseases=[MM], population="adult", age_min=18, age_max=None,
         n_patients=4420, countries=["GB"], phases=["phase-3"], data_use=["HMB"], recruitment_start="2010-05-01",
         recruitment_end=None, data_types=["clinical", "molecular"], keywords=["myeloma"]),
    dict(title="Azacitidine for higher-risk MDS", diseases=[MDS], population="adult", age_min=50, age_max=90,
         n_patients=358, countries=["FR", "IT"], phases=["phase-2"], data_use=["DS"], data_use_diseases=[MDS],
         recruitment_start="2004-02-01", recruitment_end="2006-09-30", data_types=["clinical"]),
    dict(title="Childhood and adult AML registry with molecular profiling", diseases=[AML, "DOID:0060318"],
         population="both", age_min=0, age_max=80, n_patients=1200, countries=["NL"], phases=[],
         study_type="registry", data_use=["GRU", "NPU"], recruitment_start="2015-01-01",
         recruitment_end="2021-12-31", data_types=["clinical", "ngs", "cytogenetics"]),
]


@pytest.fixture
def catalog_world(app):
    """Six published datasets in two groups, one draft and one withdrawn."""
    with app.app_context():
        hovon, gmall = factories.group("HOVON"), factories.group("GMALL", country="DE")
        cora, kai = factories.curator("cora", hovon), factories.curator("kai", gmall)
        made = []
        for number, spec in enumerate(SPECS):
            spec = {k: v for k, v in spec.items() if v is not None}
            spec.setdefault("acronym", f"TRIAL-{number}")
            spec["description"] = f"{spec['title']}. A clinical trial dataset described for the search tests."
            spec.setdefault("keywords", [])
            curator, group = (kai, gmall) if number % 2 else (cora, hovon)
            for absent in ("age_max", "n_patients", "recruitment_end"):
                if absent not in spec:
                    spec[absent] = None
            made.append(factories.dataset(curator, group, **spec))
        draft = factories.dataset(cora, hovon, publish=False, title="Secret draft about CLL", diseases=[CLL])
        gone = factories.dataset(cora, hovon, title="Withdrawn CLL cohort", diseases=[CLL])
        catalog.withdraw(cora, gone.id, "Consent was withdrawn by the participating centres.")
    return {"datasets": made, "draft": draft, "gone": gone, "cora": cora, "hovon": hovon, "gmall": gmall}


def contents(app, world):
    with app.app_context():
        return {d.pid: catalog.latest_version(catalog.get_dataset(ANONYMOUS, d.id)).content for d in world["datasets"]}


def test_only_live_published_datasets_are_found(app, client, catalog_world):
    body = api(client, per_page=100)
    assert body["total"] == len(SPECS)
    found = set(pids(body))
    assert catalog_world["draft"].pid not in found and catalog_world["gone"].pid not in found
    assert api(client, q="secret")["total"] == 0
    assert api(client, q="withdrawn")["total"] == 0
    assert set(pids(api(client, q="CLL"))) == {catalog_world["datasets"][2].pid}


def test_changes_are_searchable_at_once(app, client, catalog_world):
    target = catalog_world["datasets"][0]
    with app.app_context():
        catalog.update_dataset(catalog_world["cora"], target.id, factories.content(
            title="Venetoclax with azacitidine", diseases=[AML], acronym="VENAZA"))
        assert api(client, q="venetoclax")["total"] == 0  # the working copy is not published yet
        catalog.publish(catalog_world["cora"], target.id)
    assert pids(api(client, q="venetoclax")) == [target.pid]
    assert target.pid not in pids(api(client, q="gemtuzumab"))
    with app.app_context():
        catalog.withdraw(catalog_world["cora"], target.id, "The sponsor asked to take the description down.")
    assert api(client, q="venetoclax")["total"] == 0


def test_group_changes_reach_the_index(app, client, catalog_world):
    with app.app_context():
        group = catalog_world["gmall"]
        catalog.update_group(factories.admin(), group.id, catalog.GroupInput(name="German multicentre ALL", acronym="GMALLX"))
    assert api(client, q="multicentre")["total"] == 3
    assert api(client, q="group:GMALLX")["total"] == 3


FACET_KEYS = ("population", "country", "phase", "data_type", "data_use", "group", "year")


def test_facet_counts_agree_with_the_database(app, client, catalog_world):
    facets = api(client)["facets"]
    data = contents(app, catalog_world).values()
    expected = {
        "population": lambda c, v: c.get("population") == v,
        "country": lambda c, v: v in c.get("countries", []),
        "phase": lambda c, v: v in c.get("phases", []),
        "data_type": lambda c, v: v in c.get("data_types", []),
        "data_use": lambda c, v: v in c.get("data_use", []),
        "year": lambda c, v: c.get("recruitment_start", "")[:4] == v,
    }
    for facet, holds in expected.items():
        for entry in facets[facet]:
            assert entry["count"] == sum(1 for c in data if holds(c, entry["value"])), (facet, entry)
    assert {e["value"]: e["count"] for e in facets["group"]} == {"HOVON": 3, "GMALL": 3}
    categories = {e["value"]: e["count"] for e in facets["disease"]}
    assert categories == {"cat:leukaemia": 4, "cat:plasma_cell": 1, "cat:mds": 1}


def walk(entries):
    for entry in entries:
        yield entry
        yield from walk(entry.get("children", []))


@pytest.mark.parametrize("query", ["", "leukaemia", "clinical"])
def test_every_offered_filter_gives_its_count(app, client, catalog_world, query):
    facets = api(client, q=query)["facets"]
    for facet, entries in facets.items():
        for entry in walk(entries):
            body = api(client, q=query, **{facet: entry["value"]})
            assert body["total"] == entry["count"], (facet, entry)
            assert body["feasibility"]["datasets"] == entry["count"]


def test_filters_combine(app, client, catalog_world):
    both = api(client, country=["GB", "NL"], phase="phase-3")
    assert both["total"] == 3  # NL: the AML trial (not the registry, which has no phase); GB: CLL and myeloma
    assert api(client, country=["GB", "NL"])["total"] == 4
    subtype = api(client, disease="DOID:0060318")  # acute promyelocytic leukaemia, under AML
    assert pids(subtype) == [catalog_world["datasets"][5].pid]
    assert api(client, disease=AML)["total"] == 2


def _overlaps(low, high, first, last):
    return (first is None or high is None or high >= first) and (last is None or low is None or low <= last)


@pytest.mark.parametrize(("args", "holds"), [
    ({"patients_min": 500}, lambda c: (c.get("n_patients") or -1) >= 500),
    ({"patients_min": 400, "patients_max": 5000}, lambda c: 400 <= (c.get("n_patients") or -1) <= 5000),
    ({"age_min": 0, "age_max": 10}, lambda c: _overlaps(c.get("age_min"), c.get("age_max"), 0, 10)),
    ({"age_min": 86}, lambda c: _overlaps(c.get("age_min"), c.get("age_max"), 86, None)),
    ({"recruited_from": 2016, "recruited_to": 2017},
     lambda c: _overlaps(date.fromisoformat(c["recruitment_start"]).year,
                         date.fromisoformat(c["recruitment_end"]).year if c.get("recruitment_end") else None, 2016, 2017)),
])
def test_ranges(app, client, catalog_world, args, holds):
    expected = {pid for pid, content in contents(app, catalog_world).items() if holds(content)}
    assert set(pids(api(client, per_page=100, **args))) == expected


@pytest.mark.parametrize("purpose", [
    {"purpose": "HMB"}, {"purpose": "GRU"}, {"purpose": "DS", "purpose_disease": "CLL"},
    {"purpose": "DS", "purpose_disease": "acute promyelocytic leukemia"},
    {"purpose": "DS", "purpose_disease": "CLL", "commercial": "1"}, {"purpose": "HMB", "for_profit": "1"},
])
def test_purpose_filter_applies_the_rule(app, client, catalog_world, purpose):
    from harmony.catalog.vocabularies import diseases

    disease = purpose.get("purpose_disease")
    wanted = Purpose({"HMB": "DUO:0000006", "GRU": "DUO:0000042", "DS": "DUO:0000007"}[purpose["purpose"]],
                     diseases().get(diseases().match(disease)).id if disease else None,
                     commercial="commercial" in purpose, for_profit="for_profit" in purpose)
    expected = {pid for pid, c in contents(app, catalog_world).items()
                if permits(c.get("data_use", []), c.get("data_use_diseases", []), wanted)}
    assert set(pids(api(client, per_page=100, **purpose))) == expected


def test_feasibility_sums_the_result_set(app, client, catalog_world):
    data = contents(app, catalog_world)
    for args in ({}, {"q": "leukaemia"}, {"population": "adult"}, {"country": "GB"}):
        body = api(client, per_page=100, **args)
        matched = [data[pid] for pid in pids(body)]
        feasibility = body["feasibility"]
        assert feasibility["datasets"] == body["total"] == len(matched)
        assert feasibility["patients"] == sum(c.get("n_patients") or 0 for c in matched)
        assert feasibility["datasets_without_patients"] == sum(1 for c in matched if c.get("n_patients") is None)
        for share in feasibility["by_population"]:
            members = [c for c in matched if c["population"] == share["key"]]
            assert (share["datasets"], share["patients"]) == (len(members), sum(c.get("n_patients") or 0 for c in members))


def test_sorting_and_paging(app, client, catalog_world):
    data = contents(app, catalog_world)
    by_patients = pids(api(client, sort="patients", per_page=100))
    numbers = [data[pid].get("n_patients") or 0 for pid in by_patients]
    assert numbers == sorted(numbers, reverse=True)
    newest = pids(api(client, sort="newest", per_page=100))
    assert newest[0] == catalog_world["datasets"][-1].pid  # published last
    pages = [pids(api(client, sort="patients", per_page=2, page=n)) for n in (1, 2, 3)]
    assert sum(pages, []) == by_patients
    assert api(client, per_page=2)["pages"] == 3


def test_relevance_prefers_the_disease_and_the_title(app, client, catalog_world):
    ranked = pids(api(client, q="AML"))
    assert set(ranked[:2]) == {catalog_world["datasets"][0].pid, catalog_world["datasets"][5].pid}
    assert pids(api(client, q="ibrutinib"))[0] == catalog_world["datasets"][2].pid
    assert pids(api(client, q='"lenalidomide maintenance"')) == [catalog_world["datasets"][3].pid]
    assert api(client, q='"maintenance lenalidomide"')["total"] == 0
    both = api(client, q="pediatric acute lymphoblastic leukemia")
    assert pids(both)[0] == catalog_world["datasets"][1].pid
    body = api(client, q="AML")
    assert "<mark>AML</mark>" in body["items"][0]["highlights"]["title"]


def test_query_understanding_is_shown_and_can_be_turned_off(app, client, catalog_world):
    body = api(client, q="acute leukaemia")
    (understood,) = body["understood"]
    assert understood["disease"] == "DOID:12603" and len(understood["narrower_diseases"]) > 10
    assert "acute myeloid leukemia" in understood["narrower_diseases"]
    assert body["total"] == 3  # AML, ALL and the AML registry; none says "acute leukaemia" literally
    assert api(client, q='"acute leukaemia"')["total"] == 3
    assert api(client, q='"acute leukaemia"', literal="1")["total"] == 0
    page = client.get("/datasets", query_string={"q": "AML"}).get_data(as_text=True)
    assert "was read as <strong>acute myeloid leukemia</strong>" in page
    assert "Search for the words only" in page and "literal=True" in page


def test_did_you_mean(app, client, catalog_world):
    body = api(client, q="ibrutnib")
    assert body["total"] == 0 and body["suggestion"] == "ibrutinib"
    assert api(client, q=body["suggestion"])["total"] == 1


def test_an_empty_catalog_answers_with_no_results(client):
    answer = client.get("/api/v1/datasets", query_string={"q": "AML"})
    assert answer.status_code == 200 and answer.get_json()["total"] == 0
    page = client.get("/datasets", query_string={"q": "AML"})
    assert page.status_code == 200
