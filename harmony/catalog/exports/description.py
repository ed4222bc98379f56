"""One published dataset description as DCAT-AP 3 with the HealthDCAT-AP (non-public) properties.

The graph is built from an immutable `DatasetVersion`, so an export is the same every time it is
asked for. Choices the profiles leave open, and why (checked against the shipped shapes):

* `dct:accessRights` of the dataset is always NON_PUBLIC: the data are patient-level trial data,
  and HealthDCAT-AP's non-public profile requires that value. The curator's choice (non-public or
  restricted) is stated on the distribution, whose `dct:accessRights` the profiles leave free.
* Data-use conditions (DUO) are an ODRL policy (`odrl:hasPolicy`, on the distribution as DCAT-AP 3
  defines it and on the dataset as HealthDCAT-AP's examples do): DUO permissions become purpose
  constraints, DUO modifiers duties; a `dct:rights` statement says the same in words.
* Each distribution the curator described (format as IANA `dcat:mediaType`, `dcat:byteSize`,
  `dct:conformsTo`, delivery in words) is reached through the request page (`dcat:accessURL`, the
  landing page); without any, the request page is the one distribution. Their `dct:license` is the
  data access agreement, not the metadata licence, which sits on the catalog record (`dct:license`),
  as the data are not CC0.
* The study group is the publisher and, since its committee decides on access, `healthdcatap:hdab`.
* The dataset's IRI is its PID URL, which is also its landing page (HTML or RDF by content
  negotiation), so no separate `dcat:landingPage` is stated.
* `dcat:version` carries the version number (DCAT-AP 3 deprecates `owl:versionInfo`).
* Every authority-table concept used is typed and labelled in the graph, so the DCAT-AP range and
  vocabulary shapes can be checked offline; HealthDCAT-AP's mandatory keyword and provenance fall
  back to the disease names and a statement of where the description comes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD

from harmony.catalog import terms
from harmony.catalog.content import registration_kind
from harmony.catalog.exports import namespaces as ns
from harmony.catalog.exports.access import add_distribution, add_policy
from harmony.catalog.exports.builder import DescriptionBuilder, group_url, landing_url, text
from harmony.catalog.exports.health import add_diseases, add_population, health_categories
from harmony.catalog.exports.namespaces import ADMS, DPV, DPV_GDPR, HEALTH, ODRL, VCARD
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from harmony.catalog.vocabularies import country, diseases, eu_country_uri

__all__ = ["DescriptionBuilder", "dataset_graph", "describe", "group_url", "landing_url", "text"]


def dataset_graph(dataset: Dataset, version: DatasetVersion, group: StudyGroup, base_url: str,
                  issued: datetime | None = None, graph: Graph | None = None) -> Graph:
    """The DCAT-AP / HealthDCAT-AP description of one dataset as published in `version`.

    `issued` is the first publication (`listing.first_issued`; without it, the version's own date);
    pass `graph` to add to an existing graph, as the catalog export does.
    """
    graph = graph if graph is not None else ns.new_graph()
    describe(DescriptionBuilder(graph, base_url), dataset, version, group, issued)
    return graph


def describe(build: DescriptionBuilder, dataset: Dataset, version: DatasetVersion, group: StudyGroup,
             issued: datetime | None = None) -> URIRef:
    """Add the description to `build`'s graph; returns the dataset's node."""
    base_url = build.base_url
    content = version.content
    url = landing_url(base_url, dataset.pid)
    node = URIRef(url)
    add = build.add

    add(node, RDF.type, DCAT.Dataset)
    add(node, DCTERMS.identifier, Literal(url, datatype=XSD.anyURI))
    for predicate, key in ((DCTERMS.title, "title"), (DCTERMS.description, "description"),
                           (DCTERMS.alternative, "acronym")):
        if content.get(key):  # a draft's working copy may lack even the mandatory ones
            add(node, predicate, text(content[key]))
    _identifiers(build, node, dataset.pid, content.get("registrations", []))
    for keyword in _keywords(content):
        add(node, DCAT.keyword, text(keyword))

    publisher = build.organisation(group)
    add(node, DCTERMS.publisher, publisher)
    add(node, HEALTH.hdab, publisher)
    if content.get("contact_point"):
        _contact(build, node, content["contact_point"])
    for person in content.get("creators", []):
        add(node, DCTERMS.creator, _person(build, person))

    add(node, DCAT.theme, build.concept(*ns.HEALTH_THEME, ns.DATA_THEME_SCHEME))
    add(node, DCTERMS.type, build.concept(*ns.PERSONAL_DATA, ns.DATASET_TYPE_SCHEME))
    for code in health_categories(content):
        category = build.concept(f"{ns.HEALTH_CATEGORY_SCHEME}/{code}", ns.CATEGORY_LABELS[code], ns.HEALTH_CATEGORY_SCHEME)
        add(node, HEALTH.healthCategory, category)
    add_diseases(build, node, content.get("diseases", []))
    add_population(build, node, content)
    for alpha2 in content.get("countries", []):
        place = build.concept(eu_country_uri(alpha2), country(alpha2).name, ns.COUNTRY_SCHEME, DCTERMS.Location)
        add(node, DCTERMS.spatial, place)
    _temporal(build, node, content)
    _study(build, node, content)

    code, label = ns.ACCESS_RIGHTS["non-public"]
    add(node, DCTERMS.accessRights, build.concept(f"{ns.ACCESS_RIGHT_SCHEME}/{code}", label, ns.ACCESS_RIGHT_SCHEME,
                                                  DCTERMS.RightsStatement))
    build.legislation(node)
    for basis in content.get("legal_basis", []):
        add(node, DPV.hasLegalBasis, DPV_GDPR[basis])
    for purpose in content.get("purpose", []):
        add(node, DPV.hasPurpose, DPV[purpose])
    _provenance(build, node, content, group)
    for key in content.get("standards", []):
        standard = URIRef(ns.STANDARDS[key])
        if build.first_time(ns.STANDARDS[key]):
            add(standard, RDF.type, DCTERMS.Standard)
            add(standard, RDFS.label, text(terms.STANDARDS[key]))
        add(node, DCTERMS.conformsTo, standard)
    for doi in content.get("publications", []):
        add(node, DCTERMS.isReferencedBy, URIRef(f"https://doi.org/{doi}"))

    first_issued = _seconds(issued or version.issued_at)
    add(node, DCTERMS.issued, Literal(first_issued))
    add(node, DCTERMS.modified, Literal(_seconds(version.issued_at)))
    if version.version:
        add(node, ns.DCAT3.version, Literal(str(version.version)))
    if version.notes:
        add(node, ADMS.versionNotes, text(version.notes))

    policy = add_policy(build, node, publisher, content.get("data_use", []))
    add(node, ODRL.hasPolicy, policy)
    add_distribution(build, node, group, content, policy)
    _record(build, node, content, first_issued, _seconds(version.issued_at))
    return node


def _identifiers(build: DescriptionBuilder, node: URIRef, pid: str, registrations: Iterable[str]) -> None:
    for notation, agency in [(pid, "Harmony")] + [(r, ns.REGISTRY_AGENCY[registration_kind(r)]) for r in registrations]:
        identifier = BNode()
        build.add(identifier, RDF.type, ADMS.Identifier)
        build.add(identifier, SKOS.notation, Literal(notation))
        build.add(identifier, ADMS.schemaAgency, Literal(agency))
        build.add(node, ADMS.identifier, identifier)


def _keywords(content: dict[str, Any]) -> list[str]:
    """The curator's keywords; HealthDCAT-AP needs one, so the disease names stand in."""
    keywords = list(content.get("keywords", []))
    if not keywords:
        vocabulary = diseases()
        keywords = [term.label for d in content.get("diseases", []) if (term := vocabulary.get(d))]
    return keywords


def _contact(build: DescriptionBuilder, node: URIRef, contact: dict[str, str]) -> None:
    kind = BNode()
    build.add(kind, RDF.type, VCARD.Kind)
    build.add(kind, VCARD.fn, Literal(contact["name"]))
    build.add(kind, VCARD.hasEmail, URIRef(f"mailto:{contact['email']}"))
    build.add(node, DCAT.contactPoint, kind)


def _person(build: DescriptionBuilder, person: dict[str, str]) -> URIRef | BNode:
    agent: URIRef | BNode = URIRef(f"https://orcid.org/{person['orcid']}") if person.get("orcid") else BNode()
    build.add(agent, RDF.type, FOAF.Agent)
    build.add(agent, RDF.type, FOAF.Person)
    build.add(agent, FOAF.name, Literal(person["name"]))
    return agent


def _temporal(build: DescriptionBuilder, node: URIRef, content: dict[str, Any]) -> None:
    start, end = content.get("recruitment_start"), content.get("recruitment_end")
    if not (start or end):
        return
    period = BNode()
    build.add(period, RDF.type, DCTERMS.PeriodOfTime)
    if start:
        build.add(period, DCAT.startDate, Literal(start, datatype=XSD.date))
    if end:
        build.add(period, DCAT.endDate, Literal(end, datatype=XSD.date))
    build.add(node, DCTERMS.temporal, period)


def _study(build: DescriptionBuilder, node: URIRef, content: dict[str, Any]) -> None:
    """The study that produced the data (type and phases), as the activity that generated it."""
    parts = [terms.STUDY_TYPES[content["study_type"]]] if content.get("study_type") else []
    parts += [terms.PHASES[phase] for phase in content.get("phases", [])]
    if not parts:
        return
    activity = BNode()
    build.add(activity, RDF.type, PROV.Activity)
    build.add(activity, RDFS.label, text(", ".join(parts)))
    build.add(node, PROV.wasGeneratedBy, activity)


def _provenance(build: DescriptionBuilder, node: URIRef, content: dict[str, Any], group: StudyGroup) -> None:
    study = f"the study \"{content['title']}\"" if content.get("title") else "this study"
    statement = content.get("provenance") or f"Collected in {study} and described by {group.name} ({group.acronym})."
    provenance = BNode()
    build.add(provenance, RDF.type, DCTERMS.ProvenanceStatement)
    build.add(provenance, RDFS.label, text(statement))
    build.add(node, DCTERMS.provenance, provenance)


def _record(build: DescriptionBuilder, node: URIRef, content: dict[str, Any], issued: datetime,
            modified: datetime) -> None:
    """The catalog record: when the description was listed and changed, and its (metadata) licence."""
    record = URIRef(str(node) + "#record")
    build.add(record, RDF.type, DCAT.CatalogRecord)
    build.add(record, FOAF.primaryTopic, node)
    build.add(record, DCTERMS.issued, Literal(issued))
    build.add(record, DCTERMS.modified, Literal(modified))
    profile = URIRef(ns.HEALTHDCATAP_RELEASE_5)
    if build.first_time(ns.HEALTHDCATAP_RELEASE_5):
        build.add(profile, RDF.type, DCTERMS.Standard)
        build.add(profile, RDFS.label, text("HealthDCAT-AP Release 5"))
    build.add(record, DCTERMS.conformsTo, profile)
    licence = content.get("licence", terms.CC0)
    build.add(record, DCTERMS.license, build.licence(licence, terms.LICENCES.get(licence, licence)))


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
