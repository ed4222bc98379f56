"""How the data are reached: the described distributions (or the request page alone), each accessed through
the request page, and the DUO conditions as an ODRL policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, SKOS, XSD

from harmony.catalog import formats
from harmony.catalog.exports import namespaces as ns
from harmony.catalog.exports.builder import DescriptionBuilder, text
from harmony.catalog.exports.namespaces import ODRL
from harmony.catalog.models import StudyGroup
from harmony.catalog.vocabularies import diseases, duo


def conditions_text(data_use: Iterable[str], ds_diseases: Iterable[str] = ()) -> str:
    """The data-use conditions in words, e.g. "General research use; Ethics approval required";
    a disease-specific condition names its diseases."""
    vocabulary, names = duo(), diseases()
    which = ", ".join(term.label for d in ds_diseases if (term := names.get(d)))
    words = []
    for term in filter(None, map(vocabulary.get, data_use)):
        label = term.label[:1].upper() + term.label[1:]
        words.append(f"{label} ({which})" if term.shorthand == "DS" and which else label)
    return "; ".join(words)


def add_policy(build: DescriptionBuilder, node: URIRef, assigner: URIRef, data_use: list[str]) -> URIRef:
    """An ODRL offer from the study group: use is permitted for the DUO purposes, with the DUO
    modifiers as duties (ODRL profiles may name their own actions)."""
    policy = URIRef(str(node) + "#policy")
    build.add(policy, RDF.type, ODRL.Policy)
    build.add(policy, RDF.type, ODRL.Offer)
    build.add(policy, ODRL.uid, policy)
    build.add(policy, ODRL.assigner, assigner)
    permission = BNode()
    build.add(permission, RDF.type, ODRL.Permission)
    build.add(permission, ODRL.action, ODRL.use)
    build.add(permission, ODRL.target, node)
    build.add(policy, ODRL.permission, permission)
    vocabulary = duo()
    for term in filter(None, map(vocabulary.get, data_use)):
        concept = build.concept(term.uri, term.label)
        build.add(concept, SKOS.notation, Literal(term.shorthand))
        if term.kind == "permission":
            constraint = BNode()
            build.add(constraint, RDF.type, ODRL.Constraint)
            build.add(constraint, ODRL.leftOperand, ODRL.purpose)
            build.add(constraint, ODRL.operator, ODRL.isA)
            build.add(constraint, ODRL.rightOperand, concept)
            build.add(permission, ODRL.constraint, constraint)
        else:
            duty = BNode()
            build.add(duty, RDF.type, ODRL.Duty)
            build.add(duty, ODRL.action, concept)
            build.add(permission, ODRL.duty, duty)
    return policy


def add_distribution(build: DescriptionBuilder, node: URIRef, group: StudyGroup, content: dict[str, Any],
                     policy: URIRef) -> None:
    """One `dcat:Distribution` per distribution the curator described, each reached through the
    request page (the landing page, where a request starts); without any, the request page alone."""
    described = content.get("distributions", [])
    if not described:
        distribution = URIRef(str(node) + "#distribution")
        build.add(distribution, DCTERMS.title, text("Access by request"))
        build.add(distribution, DCTERMS.description, text(
            f"The data are shared on request: researchers submit a proposal, which the data access committee of "
            f"{group.name} reviews. Approved requests receive time-limited access under a data access agreement."))
        build.add(distribution, DCTERMS.format,
                  build.concept(*ns.HTML_FILE_TYPE, ns.FILE_TYPE_SCHEME, DCTERMS.MediaTypeOrExtent))
        _access(build, node, distribution, group, content, policy)
    for number, found in enumerate(described, start=1):
        distribution = URIRef(f"{node}#distribution-{number}")
        _described(build, distribution, group, found)
        _access(build, node, distribution, group, content, policy)


def _described(build: DescriptionBuilder, distribution: URIRef, group: StudyGroup, found: dict[str, Any]) -> None:
    """Title, format, size, standards and delivery of one described distribution."""
    add = build.add
    add(distribution, DCTERMS.title, text(found["title"]))
    add(distribution, DCTERMS.description, text(
        f"{formats.DELIVERY[found['delivery']]}: {formats.DELIVERY_WORDS[found['delivery']]} "
        f"Access on request to the data access committee of {group.name}."))
    media = formats.BY_URI.get(found["media_type"])
    if media is not None and media.registered:  # IANA has no entry for the x- types
        media_node = URIRef(media.uri)
        if build.first_time(media.uri):
            add(media_node, RDF.type, DCTERMS.MediaType)
            add(media_node, RDFS.label, Literal(media.name))
        add(distribution, DCAT.mediaType, media_node)
    if media is not None:
        code = media.file_type
        add(distribution, DCTERMS.format, build.concept(f"{ns.FILE_TYPE_SCHEME}/{code}", formats.FILE_TYPE_LABELS[code],
                                                        ns.FILE_TYPE_SCHEME, DCTERMS.MediaTypeOrExtent))
    if found.get("byte_size") is not None:
        add(distribution, DCAT.byteSize, Literal(found["byte_size"], datatype=XSD.nonNegativeInteger))
    for uri in found.get("conforms_to", []):
        standard = URIRef(uri)
        if build.first_time(uri):
            add(standard, RDF.type, DCTERMS.Standard)
            add(standard, RDFS.label, text(formats.standard_label(uri)))
        add(distribution, DCTERMS.conformsTo, standard)


def _access(build: DescriptionBuilder, node: URIRef, distribution: URIRef, group: StudyGroup,
            content: dict[str, Any], policy: URIRef) -> None:
    """What every distribution shares: the request page, the agreement, the access rights and policy."""
    add = build.add
    add(distribution, RDF.type, DCAT.Distribution)
    add(distribution, DCAT.accessURL, node)
    add(distribution, ns.DCATAP.availability, build.concept(*ns.STABLE, ns.AVAILABILITY_SCHEME))
    agreement = build.licence(str(node) + "#data-access-agreement",
                              f"Data access agreement of {group.name}, concluded for each approved request")
    add(distribution, DCTERMS.license, agreement)
    code, label = ns.ACCESS_RIGHTS[content.get("access_rights", "non-public")]
    add(distribution, DCTERMS.accessRights, build.concept(f"{ns.ACCESS_RIGHT_SCHEME}/{code}", label,
                                                          ns.ACCESS_RIGHT_SCHEME, DCTERMS.RightsStatement))
    rights = BNode()
    add(rights, RDF.type, DCTERMS.RightsStatement)
    conditions = conditions_text(content.get("data_use", []), content.get("data_use_diseases", []))
    add(rights, RDFS.label, text("Access on request, after review by the data access committee."
                                 + (f" Data-use conditions: {conditions}." if conditions else "")))
    add(distribution, DCTERMS.rights, rights)
    add(distribution, ODRL.hasPolicy, policy)
    build.legislation(distribution)
    add(node, DCAT.distribution, distribution)
