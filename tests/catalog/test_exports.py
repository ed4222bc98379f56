"""RDF by suffix, the paged DCAT catalog, content negotiation and sitemap.xml, over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as rdfns
from werkzeug.datastructures import MIMEAccept

from harmony.catalog import services as catalog
from harmony.catalog.exports import conformance
from harmony.catalog.exports.namespaces import HYDRA
from harmony.catalog.exports.rdf import wanted_rdf_format
from tests import factories

BASE = "http://harmony.test"
MEDIA = {"ttl": ("text/turtle", "turtle"), "jsonld": ("application/ld+json", "json-ld"),
         "rdf": ("application/rdf+xml", "xml")}


@pytest.fixture
def world(app):
    """Three published datasets, one draft and one withdrawn, in two groups."""
    with app.app_context():
        hovon = factories.group("HOVON")
        gmall = factories.group("GMALL", country="DE")
        maker = factories.curator("maker", hovon)
        other = factories.curator("other", gmall)
        published = [factories.dataset(maker, hovon, title=f"HOVON trial {n}") for n in (1, 2)]
        published.append(factories.dataset(other, gmall, title="GMALL 08/2013", diseases=["ALL"]))
        draft = factories.dataset(maker, hovon, publish=False, title="Secret draft")
        withdrawn = factories.dataset(maker, hovon, title="Withdrawn trial")
        catalog.withdraw(maker, withdrawn.id, "Consent for data sharing was revoked.")
    return {"hovon": hovon, "published": [d.pid for d in published], "draft": draft.pid,
            "withdrawn": withdrawn.pid}


def parsed(response, fmt: str) -> Graph:
    return Graph().parse(data=response.get_data(as_text=True), format=fmt, publicID=BASE)


@pytest.mark.parametrize("ext", MEDIA)
def test_each_suffix_gives_its_media_type_and_parses_back(client, world, ext):
    pid = world["published"][0]
    response = client.get(f"/datasets/{pid}.{ext}")
    media_type, fmt = MEDIA[ext]
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = parsed(response, fmt)
    node = URIRef(f"{BASE}/datasets/{pid}")
    assert (node, rdfns.RDF.type, rdfns.DCAT.Dataset) in graph
    assert str(graph.value(node, rdfns.DCTERMS.title)) == "HOVON trial 1"
    assert f'<{BASE}/datasets/{pid}>; rel="describes"' in response.headers["Link"]


def test_a_served_description_conforms(client, world):
    response = client.get(f"/datasets/{world['published'][2]}.ttl")
    assert conformance.validate(parsed(response, "turtle")) == (True, [])


def test_drafts_are_hidden_from_visitors_and_shown_to_their_curators(app, client, world):
    assert client.get(f"/datasets/{world['draft']}.ttl").status_code == 404
    assert client.get("/datasets/HM-999999.jsonld").status_code == 404
    factories.signed_in(client, app, "cora", "curator", world["hovon"].id)
    response = client.get(f"/datasets/{world['draft']}.ttl")
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]  # the working copy is not cached
    assert "Secret draft" in response.get_data(as_text=True)


def test_a_withdrawn_dataset_answers_410_with_a_tombstone(client, world):
    response = client.get(f"/datasets/{world['withdrawn']}.ttl")
    assert response.status_code == 410
    graph = parsed(response, "turtle")
    node = URIRef(f"{BASE}/datasets/{world['withdrawn']}")
    assert (node, rdfns.OWL.deprecated, Literal(True)) in graph
    assert "Consent for data sharing was revoked." in str(graph.value(node, rdfns.RDFS.comment))
    assert (node, rdfns.DCAT.distribution, None) not in graph


def catalog_page(client, query: str = "", ext: str = "ttl"):
    response = client.get(f"/catalog.{ext}{query}")
    return response, (parsed(response, MEDIA[ext][1]) if response.status_code == 200 else None)


def test_the_catalog_is_paged_with_links_and_lists_only_published_datasets(client, world):
    first, graph = catalog_page(client, "?per_page=2")
    assert first.status_code == 200 and first.mimetype == "text/turtle"
    root = URIRef(f"{BASE}/catalog")
    listed = {str(o).rsplit("/", 1)[-1] for o in graph.objects(root, rdfns.DCAT.dataset)}
    assert listed == set(world["published"][:2])
    assert graph.value(root, HYDRA.totalItems).toPython() == 3
    view = graph.value(root, HYDRA.view)
    assert str(graph.value(view, HYDRA.next)) == f"{BASE}/catalog?page=2&per_page=2"
    assert (view, HYDRA.previous, None) not in graph
    assert f'<{BASE}/catalog.ttl?page=2&per_page=2>; rel="next"' in first.headers["Link"]
    assert 'rel="last"' in first.headers["Link"]
    # the page carries the datasets' own triples, not just links
    assert graph.value(URIRef(f"{BASE}/datasets/{world['published'][0]}"), rdfns.DCTERMS.title) is not None

    second, graph = catalog_page(client, "?page=2&per_page=2", ext="jsonld")
    assert second.mimetype == "application/ld+json"
    assert {str(o).rsplit("/", 1)[-1] for o in graph.objects(root, rdfns.DCAT.dataset)} == {world["published"][2]}
    assert 'rel="prev"' in second.headers["Link"] and 'rel="next"' not in second.headers["Link"]

    everything = catalog_page(client, ext="rdf")[0].get_data(as_text=True)
    assert world["draft"] not in everything and world["withdrawn"] not in everything
    assert "Secret draft" not in everything


def test_catalog_paging_input_is_checked(client, world):
    assert client.get("/catalog.ttl?page=3&per_page=2").status_code == 404
    assert client.get("/catalog.ttl?page=zero").status_code == 400
    assert client.get("/catalog.ttl?page=0").status_code == 400
    capped = client.get("/catalog.ttl?per_page=5000")
    assert capped.status_code == 200 and "per_page=500" in capped.headers["Link"]


def test_the_catalog_iri_negotiates(client, world):
    response = client.get("/catalog?page=1", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/catalog.ttl?page=1")
    assert "Accept" in response.headers["Vary"]
    response = client.get("/catalog", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 303 and ".ttl" not in response.headers["Location"]


def test_the_sitemap_lists_public_pages_only(client, world):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = {url.findtext("s:loc", namespaces=ns): url.findtext("s:lastmod", namespaces=ns)
            for url in ET.fromstring(response.data).findall("s:url", ns)}
    assert f"{BASE}/" in urls
    for pid in world["published"]:
        assert urls[f"{BASE}/datasets/{pid}"]  # with a lastmod date
    assert {f"{BASE}/groups/HOVON", f"{BASE}/groups/GMALL"} <= set(urls)
    assert not any(world["draft"] in url or world["withdrawn"] in url for url in urls)


@pytest.mark.parametrize(("accept", "wanted"), [
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None),  # a browser
    ("*/*", None),
    ("", None),
    ("text/html;q=0.5, text/turtle", "turtle"),
    ("application/ld+json, text/html", None),  # a tie goes to the page for people
    ("application/json", None),
])
def test_wanted_rdf_format(accept, wanted):
    header = MIMEAccept([(value.split(";q=")[0].strip(), float(value.split(";q=")[1]) if ";q=" in value else 1)
                         for value in accept.split(",") if value.strip()])
    assert wanted_rdf_format(header) == wanted


def test_accept_negotiation_on_the_landing_page(app, client, world):
    """The landing route `/datasets/<pid>` (catalog.views) answers RDF when asked; a missing route fails."""
    assert any(rule.rule == "/datasets/<pid:pid>" for rule in app.url_map.iter_rules()), \
        "the landing page route /datasets/<pid> is missing (catalog.views)"
    pid = world["published"][0]
    response = client.get(f"/datasets/{pid}", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert "Accept" in response.headers["Vary"]
    assert client.get(f"/datasets/{world['withdrawn']}", headers={"Accept": "text/turtle"}).status_code == 410
    assert client.get(f"/datasets/{pid}", headers={"Accept": "text/html"}).mimetype == "text/html"
