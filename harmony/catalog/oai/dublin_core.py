"""The oai_dc rendering of a dataset: unqualified Dublin Core, the format every harvester reads.

Made from the newest published version, never the curators' working copy. Codes are turned
into the labels of Harmony's vocabularies, since simple DC has no place for a code's scheme.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from harmony.catalog import terms
from harmony.catalog.content import registration_kind
from harmony.catalog.oai.envelope import PREFIXES, XSI, sub
from harmony.catalog.oai.records import Record
from harmony.catalog.vocabularies import country, diseases, duo

NAMESPACE = PREFIXES["oai_dc"]
SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC = PREFIXES["dc"]

REGISTRY_NAMES = {"eudract": "EudraCT", "euct": "EU CT"}


def landing_page(base_url: str, pid: str) -> str:
    return f"{base_url}/datasets/{pid}"


def oai_dc(record: Record, base_url: str) -> ET.Element:
    content: dict[str, Any] = record.version.content
    root = ET.Element(f"{{{NAMESPACE}}}dc", {f"{{{XSI}}}schemaLocation": f"{NAMESPACE} {SCHEMA}"})

    def dc(name: str, values: list[Any]) -> None:
        for value in values:
            if value not in (None, ""):
                sub(root, f"{{{DC}}}{name}", value)

    dc("title", [content.get("title"), content.get("acronym")])
    creators = [person.get("name") for person in content.get("creators") or []]
    dc("creator", creators or [record.group.name])
    dc("subject", _subjects(content))
    dc("description", [content.get("description"), _summary(content), content.get("provenance")])
    dc("publisher", [record.group.name])
    dc("contributor", [(content.get("contact_point") or {}).get("name")])
    dc("date", [record.first_issued.date().isoformat()])
    dc("type", ["Dataset"])
    dc("identifier", [landing_page(base_url, str(record.dataset.pid))] + _registrations(content))
    dc("relation", [f"https://doi.org/{doi}" for doi in content.get("publications") or []])
    dc("coverage", _coverage(content))
    dc("rights", _rights(content))
    return root


def _subjects(content: dict[str, Any]) -> list[str]:
    vocabulary = diseases()
    labels = [term.label for term_id in content.get("diseases") or [] if (term := vocabulary.get(term_id))]
    return list(dict.fromkeys([*(content.get("keywords") or []), *labels]))


def _summary(content: dict[str, Any]) -> str:
    """One line of the facts a harvester's reader looks for first: size, population, design."""
    parts = []
    if content.get("n_patients") is not None:
        parts.append(f"{content['n_patients']} patients")
    if content.get("population") in terms.POPULATIONS:
        parts.append(f"population: {terms.POPULATIONS[content['population']].lower()}")
    if content.get("study_type") in terms.STUDY_TYPES:
        parts.append(terms.STUDY_TYPES[content["study_type"]].lower())
    phases = [terms.PHASES[p] for p in content.get("phases") or [] if p in terms.PHASES]
    if phases:
        parts.append(", ".join(phases).lower())
    data_types = [terms.DATA_TYPES[t] for t in content.get("data_types") or [] if t in terms.DATA_TYPES]
    if data_types:
        parts.append("data: " + ", ".join(data_types).lower())
    return "; ".join(parts) + "." if parts else ""


def _registrations(content: dict[str, Any]) -> list[str]:
    """NCT and ISRCTN numbers name their registry; EudraCT and EU CT numbers are bare digits."""
    found = []
    for number in content.get("registrations") or []:
        kind = registration_kind(number)
        found.append(f"{REGISTRY_NAMES[kind]} {number}" if kind in ("eudract", "euct") else number)
    return found


def _coverage(content: dict[str, Any]) -> list[str]:
    names = [found.name for code in content.get("countries") or [] if (found := country(code))]
    start, end = content.get("recruitment_start"), content.get("recruitment_end")
    period = f"{start or '..'}/{end or '..'}" if start or end else None
    return [*names, *([period] if period else [])]


def _rights(content: dict[str, Any]) -> list[str]:
    access = terms.ACCESS_RIGHTS.get(content.get("access_rights", "non-public"), "Non-public")
    rights = [f"{access} access: the data are shared only after a data-access request is approved."]
    vocabulary = duo()
    for term_id in content.get("data_use") or []:
        term = vocabulary.get(term_id)
        if term:
            rights.append(f"Data-use condition: {term.label} ({term.shorthand}, {term.id})")
    licence = content.get("licence", terms.CC0)
    rights.append(f"Metadata licence: {terms.LICENCES.get(licence, licence)} ({licence})")
    return rights
