"""Shared pieces of the RDF exports: IRIs of Harmony's pages and a small triple builder."""

from __future__ import annotations

from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS

from harmony.catalog.exports import namespaces as ns
from harmony.catalog.exports.namespaces import DCATAP, ELI, VCARD
from harmony.catalog.models import StudyGroup


def landing_url(base_url: str, pid: str) -> str:
    return f"{base_url}/datasets/{pid}"


def group_url(base_url: str, group: StudyGroup) -> str:
    return f"{base_url}/groups/{group.acronym}"


def text(value: str) -> Literal:
    return Literal(value, lang="en")


class DescriptionBuilder:
    """Adds triples to one graph; shared by the dataset and the catalog exports.

    Resources many datasets point at (concepts, laws, licences, study groups) are described once
    per graph: a catalog page of 100 datasets would otherwise re-add thousands of triples.
    """

    def __init__(self, graph: Graph, base_url: str):
        self.graph = graph
        self.base_url = base_url
        self._described: set[str] = set()

    def add(self, subject: Any, predicate: URIRef, value: Any) -> None:
        self.graph.add((subject, predicate, value))

    def first_time(self, iri: str) -> bool:
        """True the first time `iri` is described in this graph."""
        if iri in self._described:
            return False
        self._described.add(iri)
        return True

    def concept(self, iri: str, label: str, scheme: str | None = None, *types: URIRef) -> URIRef:
        """An authority-table concept with the type, label and scheme the shapes look for."""
        node = URIRef(iri)
        if not self.first_time(iri):
            return node
        self.add(node, RDF.type, SKOS.Concept)
        for kind in types:
            self.add(node, RDF.type, kind)
        self.add(node, SKOS.prefLabel, text(label))
        if scheme:
            self.add(node, SKOS.inScheme, URIRef(scheme))
        if scheme and self.first_time(scheme):
            self.add(URIRef(scheme), RDF.type, SKOS.ConceptScheme)
            self.add(URIRef(scheme), DCTERMS.title, text(ns.SCHEME_TITLES[scheme]))
        return node

    def legislation(self, subject: URIRef) -> None:
        for iri, title in ns.LEGISLATION.items():
            node = URIRef(iri)
            if self.first_time(iri):
                self.add(node, RDF.type, ELI.LegalResource)
                self.add(node, RDFS.label, text(title))
            self.add(subject, DCATAP.applicableLegislation, node)

    def licence(self, iri: str, label: str) -> URIRef:
        node = URIRef(iri)
        if self.first_time(iri):
            self.add(node, RDF.type, DCTERMS.LicenseDocument)
            self.add(node, RDFS.label, text(label))
        return node

    def organisation(self, group: StudyGroup) -> URIRef:
        """The study group as an agent with exactly one contact point (HealthDCAT-AP publisher)."""
        page = group_url(self.base_url, group)
        agent = URIRef(page + "#group")
        if not self.first_time(str(agent)):
            return agent
        self.add(agent, RDF.type, FOAF.Agent)
        self.add(agent, RDF.type, FOAF.Organization)
        self.add(agent, FOAF.name, text(group.name))
        self.add(agent, DCTERMS.identifier, Literal(page))
        self.add(agent, FOAF.homepage, URIRef(group.website or page))
        self.add(agent, DCTERMS.type, self.concept(ns.NON_PROFIT[0], ns.NON_PROFIT[1], ns.PUBLISHER_TYPE_SCHEME))
        if group.ror:
            self.add(agent, OWL.sameAs, URIRef(f"https://ror.org/{group.ror}"))
        contact = URIRef(page + "#contact")
        self.add(contact, RDF.type, VCARD.Kind)
        self.add(contact, RDF.type, VCARD.Organization)
        self.add(contact, VCARD.fn, Literal(group.name))
        self.add(contact, VCARD.hasURL, URIRef(page))
        self.add(agent, DCAT.contactPoint, contact)
        return agent
