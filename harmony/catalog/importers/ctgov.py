"""ClinicalTrials.gov records in their three shapes, read into one `RegistryRecord`.

The shapes: the legacy `clinical_study` XML, read here with defusedxml (so entity tricks are
refused), and the classic and v2 API JSON, read in `ctgov_json`. `RegistryRecord` keeps the
registry's own wording (dates like "June 1993", ages like "18 Years"); `ctgov_mapping` turns it
into a dataset description. `check_ids` decides whether a record is the study its file says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

NCT_IN_TEXT = re.compile(r"NCT\d{8}")


class ParseError(Exception):
    """The file is not a ClinicalTrials.gov record this importer can read."""


@dataclass
class RegistryPerson:
    name: str
    affiliation: str | None = None
    email: str | None = None


@dataclass
class RegistryRecord:
    """What Harmony reads from one registry record, in the registry's own wording."""

    shape: str  # "xml", "classic-json" or "v2-json"
    nct_id: str | None = None
    aliases: list[str] = field(default_factory=list)
    named_ids: list[tuple[str, str]] = field(default_factory=list)  # (where in the file, NCT id) besides nct_id
    org_study_id: str | None = None
    secondary_ids: list[tuple[str, str]] = field(default_factory=list)  # (id, type or domain)
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None
    keywords: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    enrollment: str | None = None
    minimum_age: str | None = None
    maximum_age: str | None = None
    countries: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    study_type: str | None = None
    patient_registry: bool = False
    start_date: str | None = None
    completion_date: str | None = None
    primary_completion_date: str | None = None
    last_update: str | None = None
    sponsor: str | None = None
    collaborators: list[str] = field(default_factory=list)
    officials: list[RegistryPerson] = field(default_factory=list)
    contacts: list[RegistryPerson] = field(default_factory=list)
    references: list[tuple[str | None, str]] = field(default_factory=list)  # (PMID, citation)


def parse(data: bytes) -> list[RegistryRecord]:
    """Every record in a file of any of the three shapes; ParseError if it is none of them."""
    start = data.lstrip()[:1]
    if start == b"<":
        return _parse_xml(data)
    if start in (b"{", b"["):
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"not valid JSON: {error}") from None
        from harmony.catalog.importers.ctgov_json import parse_json  # it builds on RegistryRecord below

        return parse_json(document)
    raise ParseError("neither XML nor JSON")


# --- legacy XML ------------------------------------------------------------------------------


def _text(element: Any, path: str) -> str | None:
    found = element.find(path)
    if found is None:
        return None
    value = "".join(found.itertext()).strip()
    return value or None


def _texts(element: Any, path: str) -> list[str]:
    return [value for e in element.findall(path) if (value := "".join(e.itertext()).strip())]


def _parse_xml(data: bytes) -> list[RegistryRecord]:
    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as error:
        raise ParseError(f"not well-formed XML: {error}") from None
    studies = [root] if root.tag == "clinical_study" else root.findall(".//clinical_study")
    if not studies:
        raise ParseError(f"an XML file, but not a ClinicalTrials.gov clinical_study (root <{root.tag}>)")
    return [_xml_study(study) for study in studies]


def _xml_study(study: Any) -> RegistryRecord:
    record = RegistryRecord("xml", nct_id=_text(study, "id_info/nct_id"), aliases=_texts(study, "id_info/nct_alias"))
    if (url := _text(study, "required_header/url")) and (found := NCT_IN_TEXT.search(url)):
        record.named_ids.append(("the header's link", found.group()))
    record.org_study_id = _text(study, "id_info/org_study_id")
    record.secondary_ids = [(value, "") for value in _texts(study, "id_info/secondary_id")]
    record.brief_title = _text(study, "brief_title")
    record.official_title = _text(study, "official_title")
    record.acronym = _text(study, "acronym")
    record.brief_summary = _text(study, "brief_summary/textblock") or _text(study, "brief_summary")
    record.detailed_description = _text(study, "detailed_description/textblock") or _text(study, "detailed_description")
    record.keywords = _texts(study, "keyword")
    record.conditions = _texts(study, "condition")
    record.mesh_terms = _texts(study, "condition_browse/mesh_term")
    record.enrollment = _text(study, "enrollment")
    record.minimum_age = _text(study, "eligibility/minimum_age")
    record.maximum_age = _text(study, "eligibility/maximum_age")
    record.countries = _texts(study, "location_countries/country") or _texts(study, "location/facility/address/country")
    record.phases = [part.strip() for phase in _texts(study, "phase") for part in phase.split("/")]
    study_type = _text(study, "study_type") or ""
    record.study_type = study_type.split("[")[0].strip() or None
    record.patient_registry = "registry" in study_type.lower()
    record.start_date = _text(study, "start_date")
    record.completion_date = _text(study, "completion_date")
    record.primary_completion_date = _text(study, "primary_completion_date")
    record.last_update = (_text(study, "last_update_posted") or _text(study, "last_update_submitted")
                          or _text(study, "lastchanged_date"))
    record.sponsor = _text(study, "sponsors/lead_sponsor/agency")
    record.collaborators = _texts(study, "sponsors/collaborator/agency")
    record.officials = [RegistryPerson(name, _text(o, "affiliation")) for o in study.findall("overall_official")
                        if (name := _text(o, "last_name"))]
    record.contacts = [RegistryPerson(name, None, _text(c, "email")) for tag in ("overall_contact", "overall_contact_backup")
                       for c in study.findall(tag) if (name := _text(c, "last_name"))]
    record.references = [(_text(r, "PMID"), citation) for tag in ("reference", "results_reference")
                         for r in study.findall(tag) if (citation := _text(r, "citation"))]
    return record


# --- is the record the one the file says it is? ------------------------------------------------

NCT_ID = re.compile(r"^NCT\d{8}$")
NCT_FILE_NAME = re.compile(r"^(NCT\d{8})(?![0-9])", re.IGNORECASE)


def check_ids(record: RegistryRecord, file_name: str | None = None) -> tuple[str | None, str | None]:
    """(why the record is refused, or None; a note worth reporting, or None).

    A record needs a well-formed NCT id. Every other place in the file that names the study (the
    XML header's link, the classic API's query) must name the same one, and so must a file name
    that starts with an NCT id. An id that the record lists as an alias (ClinicalTrials.gov merged
    the two registrations) is accepted with a note: the record is filed under its current id.
    """
    nct = record.nct_id
    if not nct:
        return "the record has no NCT id", None
    if not NCT_ID.match(nct):
        return f"{nct!r} is not an NCT id (NCT and eight digits)", None
    for where, named in record.named_ids:
        if named != nct and named not in record.aliases:
            return f"identifier mismatch inside the file: {where} names {named}, the record is {nct}", None
    if file_name and (found := NCT_FILE_NAME.match(file_name)):
        named = found.group(1).upper()
        if named in record.aliases:
            return None, f"{named} (the file name) is an alias of {nct}; imported as {nct}"
        if named != nct:
            return f"identifier mismatch: the file is named {named} but holds the record {nct}", None
    return None, None
