"""OAI-PMH 2.0 at /oai: the six verbs, every error a harvester can meet, paging with resumption
tokens, from/until/set filters, withdrawn datasets as deleted records, drafts never.

Every answer is validated against the official OAI-PMH schema, and every oai_dc payload against
the oai_dc schema (tests/data/oai/README.md says where each schema comes from)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rdflib
from itsdangerous import URLSafeSerializer
from lxml import etree

from harmony import clock
from harmony.catalog import services as catalog
from harmony.catalog.vocabularies import diseases
from tests import factories

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "oai"
OAI_PMH = etree.XMLSchema(etree.parse(str(SCHEMAS / "OAI-PMH.xsd")))
OAI_DC = etree.XMLSchema(etree.parse(str(SCHEMAS / "oai_dc.xsd")))
NS = {
    "oai": "http://www.openarchives.org/OAI/2.0/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
}
T1 = datetime(2024, 1, 10, 12, 0, 0, tzinfo=UTC)  # first dataset published
T2 = datetime(2024, 2, 1, 9, 0, 0, tzinfo=UTC)  # second group's dataset published
T3 = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)  # a draft written; a dataset published
T4 = datetime(2024, 4, 1, 0, 0, 0, tzinfo=UTC)  # that dataset withdrawn
T5 = datetime(2024, 5, 1, 8, 30, 0, tzinfo=UTC)  # the first dataset's working copy edited, not published


def assert_valid(response) -> etree._Element:
    """The answer is an OAI-PMH document the official schema accepts, with valid payloads."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    OAI_PMH.assertValid(root)
    for dc in root.iterfind(".//oai_dc:dc", NS):
        OAI_DC.assertValid(dc)
    for rdf in root.iterfind(".//oai:metadata/rdf:RDF", NS):
        assert len(rdflib.Graph().parse(data=etree.tostring(rdf), format="xml")) > 0
    return root


def harvest(client, method: str = "get", **arguments: str) -> etree._Element:
    if method == "post":
        return assert_valid(client.post("/oai", data=arguments))
    return assert_valid(client.get("/oai", query_string=arguments))


def errors(root) -> list[str]:
    return [error.get("code") for error in root.iterfind("oai:error", NS)]


def echoed(root) -> dict[str, str]:
    return dict(root.find("oai:request", NS).attrib)


def identifiers(root) -> list[str]:
    return [header.findtext("oai:identifier", namespaces=NS) for header in root.iterfind(".//oai:header", NS)]


def oai_id(pid: str) -> str:
    return f"oai:harmony.test:{pid}"


@pytest.fixture
def world(app):
    app.config["OAI_ADMIN_EMAIL"] = "catalog@harmony.test"
    with app.app_context():
        hovon = catalog.create_group(factories.COMMAND_LINE, catalog.GroupInput(
            name="Stichting HOVON", acronym="HOVON", country="NL", website="https://hovon.nl",
            description="Dutch-Belgian cooperative trial group for haematology-oncology."))
        gmall = factories.group("GMALL", country="DE")
        cora, kai = factories.curator("cora", hovon), factories.curator("kai", gmall)
        with clock.frozen(T1):
            first = factories.dataset(cora, hovon)
        with clock.frozen(T2):
            second = factories.dataset(kai, gmall, title="GMALL 08/2013: adult ALL", acronym="GMALL-08",
                                       registrations=["2013-000123-45"], diseases=["DOID:9952"])
        with clock.frozen(T3):
            draft = factories.dataset(cora, hovon, publish=False, title="Secret draft of HOVON 150")
            gone = factories.dataset(cora, hovon, title="HOVON 100 withdrawn")
        with clock.frozen(T4):
            catalog.withdraw(cora, gone.id, "Consent did not cover secondary use.")
        with clock.frozen(T5):
            catalog.update_dataset(cora, first.id, factories.content(title="Unpublished new title"))
    return {"hovon": hovon, "gmall": gmall, "cora": cora, "first": first.pid, "second": second.pid,
            "draft": draft.pid, "gone": gone.pid}


# --- Identify, ListMetadataFormats, ListSets ------------------------------------------------


def test_identify_describes_the_repository(client, world):
    root = harvest(client, verb="Identify")
    assert echoed(root) == {"verb": "Identify"}
    assert root.findtext("oai:request", namespaces=NS) == "http://harmony.test/oai"
    identify = root.find("oai:Identify", NS)
    assert identify.findtext("oai:baseURL", namespaces=NS) == "http://harmony.test/oai"
    assert identify.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("oai:adminEmail", namespaces=NS) == "catalog@harmony.test"
    assert identify.findtext("oai:earliestDatestamp", namespaces=NS) == "2024-01-10T12:00:00Z"
    assert identify.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    scheme = identify.find("oai:description/id:oai-identifier", NS)
    assert scheme.findtext("id:repositoryIdentifier", namespaces=NS) == "harmony.test"
    assert scheme.findtext("id:sampleIdentifier", namespaces=NS) == "oai:harmony.test:HM-000001"


def test_post_works_without_a_csrf_token(client, world):
    root = harvest(client, "post", verb="ListIdentifiers", metadataPrefix="oai_dc", set="group:GMALL")
    assert identifiers(root) == [oai_id(world["second"])]
    assert echoed(root) == {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "group:GMALL"}


def test_list_metadata_formats_for_the_repository_and_for_an_item(client, world):
    for arguments in ({}, {"identifier": oai_id(world["first"])}, {"identifier": oai_id(world["gone"])}):
        root = harvest(client, verb="ListMetadataFormats", **arguments)
        formats = {f.findtext("oai:metadataPrefix", namespaces=NS): f.findtext("oai:metadataNamespace", namespaces=NS)
                   for f in root.iterfind(".//oai:metadataFormat", NS)}
        assert formats == {"oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
                           "dcat_ap": "http://www.w3.org/ns/dcat#"}
    for unknown in (oai_id(world["draft"]), oai_id("HM-999999"), f"oai:elsewhere.org:{world['first']}"):
        root = harvest(client, verb="ListMetadataFormats", identifier=unknown)
        assert errors(root) == ["idDoesNotExist"]
        assert echoed(root) == {"verb": "ListMetadataFormats", "identifier": unknown}


def test_list_sets_follows_the_study_groups(client, world):
    root = harvest(client, verb="ListSets")
    sets = {s.findtext("oai:setSpec", namespaces=NS): s.findtext("oai:setName", namespaces=NS)
            for s in root.iterfind(".//oai:set", NS)}
    assert sets == {"group": "Study groups", "group:GMALL": "GMALL study group", "group:HOVON": "Stichting HOVON"}
    described = root.find(".//oai:set[oai:setSpec='group:HOVON']/oai:setDescription/oai_dc:dc", NS)
    assert described.findtext("dc:identifier", namespaces=NS) == "https://hovon.nl"
    assert errors(harvest(client, verb="ListSets", resumptionToken="anything")) == ["badResumptionToken"]


# --- GetRecord ------------------------------------------------------------------------------


def test_get_record_in_dublin_core_from_the_published_version(client, world):
    root = harvest(client, verb="GetRecord", identifier=oai_id(world["first"]), metadataPrefix="oai_dc")
    record = root.find("oai:GetRecord/oai:record", NS)
    assert record.find("oai:header", NS).get("status") is None
    # the datestamp is the publication: editing the working copy (T5) changes nothing harvesters see
    assert record.findtext("oai:header/oai:datestamp", namespaces=NS) == "2024-01-10T12:00:00Z"
    assert record.findtext("oai:header/oai:setSpec", namespaces=NS) == "group:HOVON"
    dc = record.find("oai:metadata/oai_dc:dc", NS)

    def values(name: str) -> list[str]:
        return [element.text for element in dc.iterfind(f"dc:{name}", NS)]

    published = factories.content()
    assert values("title") == [published.title, "HOVON-132"]  # not the unpublished working copy
    assert values("creator") == ["Gert Ossenkoppele"]
    with client.application.app_context():
        assert {"AML", "lenalidomide", diseases().get("DOID:9119").label} <= set(values("subject"))
    assert values("description")[0] == published.description
    assert "800 patients" in values("description")[1]
    assert values("publisher") == ["Stichting HOVON"]
    assert values("date") == ["2024-01-10"]
    assert values("type") == ["Dataset"]
    assert values("identifier") == [f"http://harmony.test/datasets/{world['first']}", "NCT01234567"]
    assert values("coverage") == ["Netherlands", "Belgium", "2014-01-01/2019-06-30"]
    rights = " ".join(values("rights"))
    assert "Non-public access" in rights and "DUO:0000042" in rights and "CC0 1.0" in rights
    assert b"Unpublished new title" not in client.get(
        "/oai", query_string={"verb": "ListRecords", "metadataPrefix": "oai_dc"}).data


def test_eudract_numbers_name_their_registry(client, world):
    root = harvest(client, verb="GetRecord", identifier=oai_id(world["second"]), metadataPrefix="oai_dc")
    assert "EudraCT 2013-000123-45" in [e.text for e in root.iterfind(".//dc:identifier", NS)]


def test_a_withdrawn_dataset_is_a_deleted_record(client, world):
    root = harvest(client, verb="GetRecord", identifier=oai_id(world["gone"]), metadataPrefix="oai_dc")
    record = root.find("oai:GetRecord/oai:record", NS)
    assert record.find("oai:header", NS).get("status") == "deleted"
    assert record.findtext("oai:header/oai:datestamp", namespaces=NS) == "2024-04-01T00:00:00Z"
    assert record.find("oai:metadata", NS) is None


def test_get_record_errors(client, world):
    def codes(**arguments):
        return errors(harvest(client, verb="GetRecord", **arguments))

    assert codes(identifier=oai_id(world["draft"]), metadataPrefix="oai_dc") == ["idDoesNotExist"]
    assert codes(identifier="oai:harmony.test:HM-999999", metadataPrefix="oai_dc") == ["idDoesNotExist"]
    assert codes(identifier=oai_id(world["first"]), metadataPrefix="marc21") == ["cannotDisseminateFormat"]
    assert codes(identifier="oai:x.org:1", metadataPrefix="marc21") == ["idDoesNotExist", "cannotDisseminateFormat"]
    assert codes(identifier=oai_id(world["first"])) == ["badArgument"]
    assert codes(metadataPrefix="oai_dc") == ["badArgument"]
    assert codes(identifier="not a uri", metadataPrefix="oai_dc") == ["badArgument"]


def test_get_record_in_dcat_ap(client, world):
    """Needs harmony.catalog.exports.rdf.dataset_graph (written in the RDF exports task)."""
    root = harvest(client, verb="GetRecord", identifier=oai_id(world["first"]), metadataPrefix="dcat_ap")
    rdf = root.find("oai:GetRecord/oai:record/oai:metadata/rdf:RDF", NS)
    graph = rdflib.Graph().parse(data=etree.tostring(rdf), format="xml")
    datasets = list(graph.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Dataset")))
    assert len(datasets) == 1
    titles = {str(t) for t in graph.objects(datasets[0], rdflib.URIRef("http://purl.org/dc/terms/title"))}
    assert factories.content().title in titles


# --- ListIdentifiers, ListRecords, filters --------------------------------------------------


def test_lists_hold_published_and_withdrawn_datasets_never_drafts(client, world):
    listed = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert identifiers(listed) == [oai_id(world[key]) for key in ("first", "second", "gone")]
    assert [h.get("status") for h in listed.iterfind(".//oai:header", NS)] == [None, None, "deleted"]
    assert listed.find(".//oai:resumptionToken", NS) is None  # one page: no token at all
    records = harvest(client, verb="ListRecords", metadataPrefix="oai_dc")
    assert identifiers(records) == identifiers(listed)
    assert [r.find("oai:metadata", NS) is not None for r in records.iterfind(".//oai:record", NS)] == [True, True, False]
    assert b"Secret draft" not in client.get("/oai", query_string={"verb": "ListRecords", "metadataPrefix": "oai_dc"}).data


@pytest.mark.parametrize(("window", "expected"), [
    ({"from": "2024-02-02"}, ["gone"]),
    ({"until": "2024-04-01"}, ["first", "second", "gone"]),  # a day includes all its seconds
    ({"until": "2024-03-31T23:59:59Z"}, ["first", "second"]),
    ({"from": "2024-04-01T00:00:00Z", "until": "2024-04-01T00:00:00Z"}, ["gone"]),
    ({"from": "2024-02-01T09:00:00Z", "until": "2024-05-01T08:30:00Z"}, ["second", "gone"]),
    ({"set": "group:HOVON", "from": "2024-01-11"}, ["gone"]),
    ({"set": "group:HOVON", "until": "2024-01-10"}, ["first"]),
    ({"set": "group:GMALL"}, ["second"]),
    ({"set": "group"}, ["first", "second", "gone"]),
])
def test_from_until_and_set_filters(client, world, window, expected):
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **window)
    assert identifiers(root) == [oai_id(world[key]) for key in expected]
    assert echoed(root) == {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", **window}


def test_empty_selections_are_no_records_match(client, world):
    for arguments in ({"from": "2024-05-01T08:30:01Z"}, {"until": "2023-12-31"}, {"set": "group:NOBODY"},
                      {"set": "disease:AML"}):
        for verb in ("ListIdentifiers", "ListRecords"):
            root = harvest(client, verb=verb, metadataPrefix="oai_dc", **arguments)
            assert errors(root) == ["noRecordsMatch"]
            assert echoed(root) == {"verb": verb, "metadataPrefix": "oai_dc", **arguments}


def test_unknown_formats_cannot_be_disseminated(client, world):
    for verb in ("ListIdentifiers", "ListRecords"):
        assert errors(harvest(client, verb=verb, metadataPrefix="mods")) == ["cannotDisseminateFormat"]


# --- paging ---------------------------------------------------------------------------------


def _more_datasets(app, world, count: int) -> None:
    with app.app_context():
        for number in range(count):
            with clock.frozen(T3 + timedelta(days=number)):
                factories.dataset(world["cora"], world["hovon"], title=f"HOVON cohort {number}")


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_resumption_tokens_page_through_the_whole_list(app, client, world, verb):
    _more_datasets(app, world, 4)  # 3 + 4 = 7 records
    app.config["OAI_PAGE_SIZE"] = 3
    root = harvest(client, verb=verb, metadataPrefix="oai_dc")
    seen, cursors = identifiers(root), []
    token = root.find(f"oai:{verb}/oai:resumptionToken", NS)
    while token is not None and token.text:
        cursors.append((token.get("cursor"), token.get("completeListSize")))
        assert datetime.fromisoformat(token.get("expirationDate")) > clock.now()
        root = harvest(client, verb=verb, resumptionToken=token.text)
        assert echoed(root) == {"verb": verb, "resumptionToken": token.text}
        seen += identifiers(root)
        token = root.find(f"oai:{verb}/oai:resumptionToken", NS)
    assert token is not None and token.text is None  # the last page says the list is complete
    cursors.append((token.get("cursor"), token.get("completeListSize")))
    assert cursors == [("0", "7"), ("3", "7"), ("6", "7")]
    assert len(seen) == len(set(seen)) == 7 and oai_id(world["draft"]) not in seen


def test_a_token_keeps_the_filters_of_the_first_request(app, client, world):
    _more_datasets(app, world, 3)
    app.config["OAI_PAGE_SIZE"] = 2
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="group:HOVON", **{"from": "2024-03-01"})
    seen = identifiers(root)
    token = root.findtext(".//oai:resumptionToken", namespaces=NS)
    seen += identifiers(harvest(client, verb="ListIdentifiers", resumptionToken=token))
    assert len(seen) == 4 and oai_id(world["second"]) not in seen  # GMALL and the earlier ones left out


def test_bad_resumption_tokens(app, client, world):
    _more_datasets(app, world, 2)
    app.config["OAI_PAGE_SIZE"] = 2
    root = harvest(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = root.findtext(".//oai:resumptionToken", namespaces=NS)
    payload, signature = token.rsplit(".", 1)
    serializer = URLSafeSerializer("test-secret-key-not-for-production", salt="harmony.oai.resumption-token")
    changed = {**serializer.loads(token), "after_id": 0}
    tampered = serializer.dump_payload(changed).decode() + "." + signature
    foreign = URLSafeSerializer("someone-elses-key", salt="harmony.oai.resumption-token").dumps(changed)

    def code(verb: str, value: str) -> list[str]:
        return errors(harvest(client, verb=verb, resumptionToken=value))

    assert code("ListIdentifiers", tampered) == ["badResumptionToken"]
    assert code("ListIdentifiers", foreign) == ["badResumptionToken"]
    assert code("ListIdentifiers", "garbage") == ["badResumptionToken"]
    assert code("ListRecords", token) == ["badResumptionToken"]  # issued for another verb
    with clock.frozen(clock.now() + timedelta(days=2)):
        assert code("ListIdentifiers", token) == ["badResumptionToken"]  # expired
    assert errors(harvest(client, verb="ListIdentifiers", resumptionToken=token, metadataPrefix="oai_dc")) == [
        "badArgument"]  # a token comes alone
    assert code("ListIdentifiers", token) == []  # the genuine token still works


# --- badVerb, badArgument -------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "verb=Explain", "verb=Identify&verb=Identify", "verb=identify"])
def test_bad_verbs(client, world, query):
    root = assert_valid(client.get(f"/oai?{query}"))
    assert errors(root) == ["badVerb"]
    assert echoed(root) == {}  # after badVerb the request element carries no attributes


@pytest.mark.parametrize("query", [
    "verb=Identify&metadataPrefix=oai_dc",
    "verb=ListSets&set=group",
    "verb=ListRecords",
    "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=dcat_ap",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-02-01T00:00:00Z",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-03-01&until=2024-02-01",
    "verb=ListRecords&metadataPrefix=oai_dc&set=group:",
    "verb=ListRecords&metadataPrefix=oai%20dc",
    "verb=ListRecords&metadataPrefix=",
    "verb=ListRecords&metadataPrefix=oai_dc&set=%01",
    "verb=ListIdentifiers&metadataPrefix=oai_dc&page=2",
    "verb=GetRecord&identifier=oai:harmony.test:HM-000001",
])
def test_bad_arguments(client, world, query):
    root = assert_valid(client.get(f"/oai?{query}"))
    assert set(errors(root)) == {"badArgument"}
    assert echoed(root) == {}


def test_other_methods_are_refused(client, world):
    assert client.put("/oai?verb=Identify").status_code == 405
