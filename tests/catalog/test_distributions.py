"""Distributions: what the data come as, from the form and the API to the landing page and every export."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as rdfns

from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, TokenCreate
from harmony.catalog import formats
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent, completeness
from harmony.catalog.exports import conformance
from harmony.catalog.exports.rdf import dataset_graph
from harmony.catalog.exports.schemaorg import dataset_jsonld
from harmony.catalog.importers import ctgov_mapping as mapping
from harmony.demo.catalog import _records
from harmony.errors import ValidationError
from harmony.validation import parse
from tests import factories
from tests.catalog.test_conformance import described, unexpected_warnings
from tests.catalog.test_pages_curation import desk, form_fields, marked_invalid, text_of  # noqa: F401 (fixture)

BASE = "http://harmony.test"
IANA = "https://www.iana.org/assignments/media-types/"
SDTM = "https://www.cdisc.org/standards/foundational/sdtm"
DATASET_JSON = "https://www.cdisc.org/standards/data-exchange/dataset-json"
TWO = [
    {"title": "SDTM datasets", "media_type": "application/x-sas-xport", "byte_size": "2.5 GB",
     "conforms_to": "CDISC SDTM, https://example.org/our-dictionary", "delivery": "download"},
    {"title": "FHIR bundles", "media_type": "application/fhir+json", "byte_size": 1234567,
     "conforms_to": ["hl7 fhir", "cdisc dataset-json"], "delivery": "federated"},
]


def test_the_content_model_stores_iana_uris_bytes_and_standard_uris():
    stored = factories.content(distributions=TWO).stored()["distributions"]
    assert stored == [
        {"title": "SDTM datasets", "media_type": IANA + "application/x-sas-xport", "byte_size": 2_500_000_000,
         "conforms_to": [SDTM, "https://example.org/our-dictionary"], "delivery": "download"},
        {"title": "FHIR bundles", "media_type": IANA + "application/fhir+json", "byte_size": 1_234_567,
         "conforms_to": ["http://hl7.org/fhir/", DATASET_JSON], "delivery": "federated"},
    ]
    assert DatasetContent.model_validate({"distributions": stored}).stored()["distributions"] == stored  # idempotent
    with pytest.raises(ValidationError) as error:
        parse(DatasetContent, {"distributions": [{"title": "", "media_type": "text/x-made-up", "byte_size": "lots",
                                                  "conforms_to": "not a standard", "delivery": ""}]})
    assert set(error.value.fields) == {f"distributions.0.{key}" for key in
                                       ("title", "media_type", "byte_size", "conforms_to", "delivery")}


def test_sizes_are_shown_rounded():
    assert [formats.approximate_size(n) for n in (None, 512, 1_234_567, 2_500_000_000, 999_600_000)] == [
        "Not stated", "512 bytes", "about 1.2 MB", "about 2.5 GB", "about 1 GB"]
    assert formats.parse_size("800 MiB") == 800 * 2**20 and formats.parse_size("1,200") == 1200


def test_every_listed_format_is_an_iana_uri_and_the_unregistered_ones_are_marked():
    assert all(m.uri == IANA + m.name for m in formats.MEDIA_TYPES)
    assert {m.name for m in formats.MEDIA_TYPES if not m.registered} == {
        "application/x-sas-xport", "application/x-spss-sav", "application/x-stata-dta"}


# --- the curation form ----------------------------------------------------------------------


def test_the_form_round_trips_distributions_and_keeps_bad_input_next_to_its_field(app, client, desk):  # noqa: F811
    pid = desk["published"].pid
    edit = text_of(client.get(f"/datasets/{pid}/edit"))
    assert '<h2 id="distributions-heading">Distributions</h2>' in edit
    fields = form_fields(edit)
    fields.update({"distributions-0-title": ["SDTM datasets"], "distributions-0-media_type": [IANA + "application/x-sas-xport"],
                   "distributions-0-byte_size": ["2.5 GB"], "distributions-0-conforms_to": ["CDISC SDTM, CDISC Dataset-JSON"],
                   "distributions-0-delivery": ["secure-environment"]})
    assert client.post(f"/datasets/{pid}/edit", data=fields).status_code == 302
    with app.app_context():
        stored = catalog.get_dataset(desk["office"], pid).content["distributions"]
    assert stored == [{"title": "SDTM datasets", "media_type": IANA + "application/x-sas-xport",
                       "byte_size": 2_500_000_000, "conforms_to": [SDTM, DATASET_JSON],
                       "delivery": "secure-environment"}]
    # the saved row comes back as typed (standards by name), with an empty row to add another
    again = text_of(client.get(f"/datasets/{pid}/edit"))
    shown = form_fields(again)
    assert shown["distributions-0-title"] == ["SDTM datasets"]
    assert shown["distributions-0-media_type"] == [IANA + "application/x-sas-xport"]
    assert shown["distributions-0-byte_size"] == ["2500000000"]
    assert shown["distributions-0-conforms_to"] == ["CDISC SDTM, CDISC Dataset-JSON"]
    assert shown["distributions-0-delivery"] == ["secure-environment"] and shown["distributions-1-title"] == [""]
    # saving unchanged changes nothing
    assert client.post(f"/datasets/{pid}/edit", data=shown).status_code == 302
    with app.app_context():
        assert catalog.get_dataset(desk["office"], pid).content["distributions"] == stored

    shown.update({"distributions-1-title": ["Extra tables"], "distributions-1-byte_size": ["a lot"],
                  "distributions-1-conforms_to": ["Not a standard"]})
    response = client.post(f"/datasets/{pid}/edit", data=shown)
    assert response.status_code == 422
    page = text_of(response)
    assert 'value="Extra tables"' in page and 'value="a lot"' in page and 'value="Not a standard"' in page
    for field in ("distributions-1-byte_size", "distributions-1-conforms_to"):
        assert marked_invalid(page, field), field
    assert re.search(r'<select [^>]*aria-invalid="true"[^>]*id="distributions-1-media_type"', page)
    assert "Distribution 2, Approximate size: give the size in bytes" in page
    assert "Distribution 2, Format: choose a format from the list" in page
    with app.app_context():
        assert len(catalog.get_dataset(desk["office"], pid).content["distributions"]) == 1


def test_the_landing_page_says_what_the_data_come_as(app, client):
    with app.app_context():
        group = factories.group("HOVON")
        office = factories.curator("office", group)
        dataset = factories.dataset(office, group, distributions=TWO)
        bare = factories.dataset(office, group, title="Nothing described")
    page = text_of(client.get(f"/datasets/{dataset.pid}"))
    section = page.split('id="distributions-heading"', 1)[1].split("</section>", 1)[0]
    for words in ("SDTM datasets", "SAS transport (XPT)", "about 2.5 GB", "about 1.2 MB", f'href="{SDTM}"',
                  "CDISC SDTM", "Download after approval", "Federated analysis", "HL7 FHIR bundles (JSON)"):
        assert words in section, words
    assert "Not described yet" in text_of(client.get(f"/datasets/{bare.pid}"))


# --- the API ----------------------------------------------------------------------------------


def test_the_api_takes_and_gives_distributions(app, client):
    with app.app_context():
        group = factories.group("HOVON")
        cora = factories.curator("cora", group)
        token = accounts.create_token(COMMAND_LINE, cora.user_id, TokenCreate(name="test"))[1]
        headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/datasets", headers=headers,
                          json={"group": "HOVON", "content": {"title": "With files", "distributions": TWO}})
    assert created.status_code == 201
    assert [d["media_type"] for d in created.get_json()["content"]["distributions"]] == [
        IANA + "application/x-sas-xport", IANA + "application/fhir+json"]
    read = client.get(created.headers["Location"], headers=headers).get_json()
    assert read["content"]["distributions"][0]["byte_size"] == 2_500_000_000
    bad = client.post("/api/v1/datasets", headers=headers, json={"group": "HOVON", "content": {
        "distributions": [{"title": "x", "media_type": "text/x-nope", "delivery": "by post"}]}})
    assert bad.status_code == 422
    assert {"content.distributions.0.media_type", "content.distributions.0.delivery"} <= set(bad.get_json()["errors"])


# --- the exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("ext, fmt", [("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")])
def test_each_rdf_serialisation_carries_the_distributions(app, client, ext, fmt):
    with app.app_context():
        group = factories.group("HOVON")
        dataset = factories.dataset(factories.curator("office", group), group, distributions=TWO)
    response = client.get(f"/datasets/{dataset.pid}.{ext}")
    graph = Graph().parse(data=response.get_data(as_text=True), format=fmt, publicID=BASE)
    node = URIRef(f"{BASE}/datasets/{dataset.pid}")
    first, second = (URIRef(f"{node}#distribution-{n}") for n in (1, 2))
    assert set(graph.objects(node, rdfns.DCAT.distribution)) == {first, second}
    assert (first, rdfns.RDF.type, rdfns.DCAT.Distribution) in graph
    assert (first, rdfns.DCTERMS.title, Literal("SDTM datasets", lang="en")) in graph
    assert (first, rdfns.DCAT.accessURL, node) in graph and (second, rdfns.DCAT.accessURL, node) in graph
    assert graph.value(first, rdfns.DCAT.byteSize) == Literal(2_500_000_000, datatype=rdfns.XSD.nonNegativeInteger)
    assert (first, rdfns.DCTERMS.conformsTo, URIRef(SDTM)) in graph
    assert (second, rdfns.DCAT.mediaType, URIRef(IANA + "application/fhir+json")) in graph
    # SAS transport has no registered media type: named by the EU file-type table instead
    assert graph.value(first, rdfns.DCAT.mediaType) is None
    assert (first, rdfns.DCTERMS.format, URIRef("http://publications.europa.eu/resource/authority/file-type/SAS")) in graph
    assert "Federated analysis" in str(graph.value(second, rdfns.DCTERMS.description))


def test_a_description_with_distributions_conforms_without_new_warnings():
    dataset, version, group = described(factories.content(distributions=TWO + [
        {"title": "Everything else", "media_type": "text/csv", "delivery": "secure-environment"}]))
    report = conformance.check(dataset_graph(dataset, version, group, BASE))
    assert report.violations == [] and report.conforms
    assert unexpected_warnings(report) == []


def test_the_json_ld_lists_data_downloads():
    dataset, version, group = described(factories.content(distributions=TWO))
    found = dataset_jsonld(dataset, version, group, BASE)
    assert found["distribution"] == [
        {"@type": "DataDownload", "name": "SDTM datasets", "encodingFormat": "application/x-sas-xport",
         "contentSize": "2500000000 B", "schemaVersion": [SDTM, "https://example.org/our-dictionary"],
         "description": formats.DELIVERY_WORDS["download"]},
        {"@type": "DataDownload", "name": "FHIR bundles", "encodingFormat": "application/fhir+json",
         "contentSize": "1234567 B", "schemaVersion": ["http://hl7.org/fhir/", DATASET_JSON],
         "description": formats.DELIVERY_WORDS["federated"]},
    ]
    assert "distribution" not in dataset_jsonld(*described(factories.content()), BASE)


# --- completeness and imports --------------------------------------------------------------------


def test_completeness_counts_distributions_and_registry_imports_leave_them_to_the_curator():
    without = factories.content().stored()
    score, missing = completeness(without)
    assert "distributions" in {check.key for check in missing}
    better, missing = completeness(factories.content(distributions=TWO[:1]).stored())
    assert better > score and "distributions" not in {check.key for check in missing}
    record = _records()[0]
    mapped = mapping.to_content(record, mapping.Defaults(mapping.group_contact("Demo", "demo")))
    assert "distributions" not in mapped.content and "distributions" not in mapped.owned


def test_the_demo_datasets_carry_distributions_a_curator_would_describe():
    from harmony.demo.catalog import variations

    for nct in ("NCT00000001", "NCT01234567", "NCT04567890", "NCT09999999"):
        made = variations(nct, ["DOID:9119"])
        stored = factories.content(**made).stored()["distributions"]
        assert stored and all(d["title"] and d["media_type"].startswith(IANA) and d["byte_size"] for d in stored)
        if "cdisc-sdtm" in made["standards"]:
            assert any(SDTM in d["conforms_to"] for d in stored)
