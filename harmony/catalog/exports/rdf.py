"""DCAT-AP 3 / HealthDCAT-AP RDF: one dataset, a tombstone, the paged catalog; formats and negotiation.

The landing page (`catalog.views`) negotiates with `wanted_rdf_format(request.accept_mimetypes)`
and answers with `rdf_response(dataset, fmt)`; the suffix routes in `exports.views` use the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Response, current_app
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS
from werkzeug.datastructures import MIMEAccept

from harmony.catalog import services, terms
from harmony.catalog.exports import namespaces as ns
from harmony.catalog.exports.description import DescriptionBuilder, dataset_graph, describe, landing_url, text
from harmony.catalog.exports.listing import Entry, first_issued, group_of
from harmony.catalog.exports.namespaces import HYDRA
from harmony.catalog.models import WITHDRAWN, Dataset, DatasetVersion

__all__ = ["FORMATS", "catalog_graph", "dataset_graph", "rdf_response", "serialise", "tombstone_graph",
           "wanted_rdf_format"]

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500


@dataclass(frozen=True)
class RdfFormat:
    name: str  # rdflib's name of the format
    media_type: str
    suffix: str


FORMATS = {
    "turtle": RdfFormat("turtle", "text/turtle", "ttl"),
    "json-ld": RdfFormat("json-ld", "application/ld+json", "jsonld"),
    "xml": RdfFormat("xml", "application/rdf+xml", "rdf"),
}
BY_SUFFIX = {fmt.suffix: name for name, fmt in FORMATS.items()}
BY_MEDIA_TYPE = {fmt.media_type: name for name, fmt in FORMATS.items()}


def serialise(graph: Graph, fmt: str) -> bytes:
    """The graph in one of FORMATS (UTF-8); JSON-LD is compacted with Harmony's prefixes."""
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context=ns.JSONLD_CONTEXT, auto_compact=True, encoding="utf-8")
    return graph.serialize(format=FORMATS[fmt].name, encoding="utf-8")


def wanted_rdf_format(accept: MIMEAccept) -> str | None:
    """The RDF format the client prefers over HTML, or None (HTML wins ties and `*/*`)."""
    best = accept.best_match(["text/html", *BY_MEDIA_TYPE])
    return BY_MEDIA_TYPE.get(best) if best else None


def tombstone_graph(dataset: Dataset, last: DatasetVersion | None, base_url: str) -> Graph:
    """What is left of a withdrawn dataset: its identifier, title, and why and when it went."""
    graph = ns.new_graph()
    node = URIRef(landing_url(base_url, dataset.pid))
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(str(node))))
    if last is not None and last.content.get("title"):
        graph.add((node, DCTERMS.title, text(last.content["title"])))
    graph.add((node, OWL.deprecated, Literal(True)))
    if dataset.withdrawn_at:
        graph.add((node, DCTERMS.modified, Literal(dataset.withdrawn_at)))
    if dataset.withdrawn_reason:
        graph.add((node, RDFS.comment, text(f"Withdrawn: {dataset.withdrawn_reason}")))
    return graph


def catalog_iri(base_url: str) -> str:
    return f"{base_url}/catalog"


def page_url(base_url: str, page: int, per_page: int, suffix: str = "") -> str:
    size = "" if per_page == DEFAULT_PAGE_SIZE else f"&per_page={per_page}"
    return f"{catalog_iri(base_url)}{'.' + suffix if suffix else ''}?page={page}{size}"


def last_page(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def neighbours(page: int, per_page: int, total: int) -> dict[str, int]:
    """first / previous / next / last page numbers around `page`."""
    last = last_page(total, per_page)
    found = {"first": 1, "last": last}
    if page > 1:
        found["prev"] = min(page - 1, last)
    if page < last:
        found["next"] = page + 1
    return found


def catalog_graph(items: Sequence[Entry | tuple], page: int, per_page: int, total: int, base_url: str,
                  publisher_name: str = "Harmony") -> Graph:
    """One page of the catalog: the dcat:Catalog, a Hydra view with its neighbours, and the page's
    datasets with all their own triples."""
    graph = ns.new_graph()
    build = DescriptionBuilder(graph, base_url)
    catalog = URIRef(catalog_iri(base_url))
    add = build.add
    add(catalog, RDF.type, DCAT.Catalog)
    add(catalog, RDF.type, HYDRA.Collection)
    add(catalog, DCTERMS.title, text(f"{publisher_name} catalog of haematological malignancy datasets"))
    add(catalog, DCTERMS.description, text(
        "Descriptions of clinical trial and cohort datasets on leukaemias, lymphomas, myeloma, MDS and MPN, "
        "held by European clinical study groups; access to the data is by request."))
    operator = URIRef(f"{base_url}/#publisher")
    add(operator, RDF.type, FOAF.Agent)
    add(operator, RDF.type, FOAF.Organization)
    add(operator, FOAF.name, text(publisher_name))
    add(catalog, DCTERMS.publisher, operator)
    homepage = URIRef(f"{base_url}/")
    add(homepage, RDF.type, FOAF.Document)
    add(catalog, FOAF.homepage, homepage)
    add(catalog, DCTERMS.license, build.licence(terms.CC0, terms.LICENCES[terms.CC0]))
    language = build.concept(*ns.ENGLISH, ns.LANGUAGE_SCHEME, DCTERMS.LinguisticSystem)
    add(catalog, DCTERMS.language, language)
    build.concept(*ns.HEALTH_THEME, ns.DATA_THEME_SCHEME)  # declares the theme scheme too
    add(catalog, DCAT.themeTaxonomy, URIRef(ns.DATA_THEME_SCHEME))
    build.legislation(catalog)

    add(catalog, HYDRA.totalItems, Literal(total))
    view = URIRef(page_url(base_url, page, per_page))
    add(view, RDF.type, HYDRA.PartialCollectionView)
    add(catalog, HYDRA.view, view)
    relations = {"first": HYDRA.first, "prev": HYDRA.previous, "next": HYDRA.next, "last": HYDRA.last}
    for rel, number in neighbours(page, per_page, total).items():
        add(view, relations[rel], URIRef(page_url(base_url, number, per_page)))

    for item in items:
        dataset, version, group, *rest = item
        issued = rest[0] if rest else None
        node = describe(build, dataset, version, group, issued)
        add(catalog, DCAT.dataset, node)
        add(catalog, DCAT.record, URIRef(f"{node}#record"))
    return graph


def page_links(base_url: str, fmt: str, page: int, per_page: int, total: int) -> str:
    """RFC 8288 Link header with the neighbouring pages in the same format."""
    suffix = FORMATS[fmt].suffix
    return ", ".join(f'<{page_url(base_url, number, per_page, suffix)}>; rel="{rel}"'
                     for rel, number in neighbours(page, per_page, total).items())


def rdf_response(dataset: Dataset, fmt: str) -> Response:
    """The dataset in `fmt`, for a viewer the caller has already let see it.

    Published: the newest published version (also for its curators). Withdrawn: a tombstone with
    status 410. Never published (a draft only its curators can reach): the working copy, marked
    private so no cache keeps it.
    """
    base_url = current_app.config["BASE_URL"]
    status, private = 200, False
    if dataset.state == WITHDRAWN:
        graph, status = tombstone_graph(dataset, services.latest_version(dataset), base_url), 410
    elif dataset.published_version:
        version = services.latest_version(dataset)
        issued = first_issued([dataset.id]).get(dataset.id)
        graph = dataset_graph(dataset, version, group_of(dataset), base_url, issued=issued)
    else:
        working = DatasetVersion(dataset_id=dataset.id, version=0, content=dict(dataset.content),
                                 issued_at=dataset.updated_at)
        graph, private = dataset_graph(dataset, working, group_of(dataset), base_url, issued=dataset.created_at), True
    response = Response(serialise(graph, fmt), status=status, mimetype=FORMATS[fmt].media_type)
    response.vary.add("Accept")
    response.headers["Link"] = f'<{landing_url(base_url, dataset.pid)}>; rel="describes"; type="text/html"'
    response.headers["Cache-Control"] = "private, no-store" if private else "public, max-age=300"
    return response
