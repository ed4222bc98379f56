"""schema.org `Dataset` JSON-LD for a landing page, in the shape dataset search engines read.

The data are not openly licensed: `license` names the data access agreement each approved request
concludes, `sdLicense` the licence of this description (CC0 by default), and `conditionsOfAccess`
says in words how access works and which data-use conditions apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harmony.catalog import formats, terms
from harmony.catalog.content import registration_kind
from harmony.catalog.exports import namespaces as ns
from harmony.catalog.exports.access import conditions_text
from harmony.catalog.exports.builder import group_url, landing_url
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from harmony.catalog.vocabularies import country, diseases

MIN_DESCRIPTION, MAX_DESCRIPTION = 50, 5000  # what dataset search engines accept


def dataset_jsonld(dataset: Dataset, version: DatasetVersion, group: StudyGroup, base_url: str,
                   issued: datetime | None = None) -> dict[str, Any]:
    """The schema.org description of `version`, ready for `json.dumps` into a script element."""
    content = version.content
    url = landing_url(base_url, dataset.pid)
    vocabulary = diseases()
    disease_terms = [term for d in content.get("diseases", []) if (term := vocabulary.get(d))]
    found: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "name": content.get("title") or dataset.pid,
        "description": _description(content, group, [t.label for t in disease_terms]),
        "identifier": [url, *(_registration(r) for r in content.get("registrations", []))],
        "publisher": _organisation(group, base_url),
        "isAccessibleForFree": False,
        "license": {"@type": "CreativeWork", "url": url,
                    "name": f"Data access agreement of {group.name}, concluded for each approved request"},
        "sdLicense": content.get("licence", terms.CC0),
        "conditionsOfAccess": _conditions(content, group),
        "includedInDataCatalog": {"@type": "DataCatalog", "name": "Harmony", "url": f"{base_url}/"},
        "version": str(version.version),
        "dateModified": version.issued_at.date().isoformat(),
    }
    optional: dict[str, Any] = {
        "alternateName": content.get("acronym"),
        "creator": [_person(p) for p in content.get("creators", [])],
        "keywords": list(dict.fromkeys(content.get("keywords", []) + [t.label for t in disease_terms])),
        "about": [{"@type": "DefinedTerm", "@id": str(ns.OBO[t.id.replace(":", "_")]), "name": t.label,
                   "termCode": t.id, "inDefinedTermSet": "http://purl.obolibrary.org/obo/doid.owl"}
                  for t in dict.fromkeys(vocabulary.nearest_doid(d.id) for d in disease_terms)],
        "temporalCoverage": _period(content.get("recruitment_start"), content.get("recruitment_end")),
        "spatialCoverage": [{"@type": "Place", "name": found_country.name}
                            for code in content.get("countries", []) if (found_country := country(code))],
        "variableMeasured": [terms.DATA_TYPES[key] for key in content.get("data_types", [])],
        "datePublished": issued.date().isoformat() if issued else None,
        "citation": [f"https://doi.org/{doi}" for doi in content.get("publications", [])],
        "distribution": [_download(d) for d in content.get("distributions", [])],
    }
    found.update({key: value for key, value in optional.items() if value})
    return found


def _description(content: dict[str, Any], group: StudyGroup, disease_names: list[str]) -> str:
    """The curator's description, padded from title and diseases when too short for search engines."""
    text = (content.get("description") or "").strip()
    if len(text) < MIN_DESCRIPTION:
        about = f" on {', '.join(disease_names)}" if disease_names else ""
        extra = f"Clinical study dataset{about}, held by {group.name} and available on request."
        text = " ".join(part for part in (content.get("title"), text, extra) if part)
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"
    return text


def _download(distribution: dict[str, Any]) -> dict[str, Any]:
    """A described distribution as a DataDownload: the media type as text (the unregistered x- types
    included), the size as schema.org's free text ("2500000000 B"), the standards the files conform to
    as `schemaVersion` URLs. There is no `contentUrl`: the files are reached through an approved request."""
    found: dict[str, Any] = {"@type": "DataDownload", "name": distribution["title"],
                             "encodingFormat": distribution["media_type"].removeprefix(formats.IANA),
                             "description": formats.DELIVERY_WORDS.get(distribution.get("delivery", ""), "")}
    if distribution.get("byte_size") is not None:
        found["contentSize"] = f"{distribution['byte_size']} B"
    if distribution.get("conforms_to"):
        found["schemaVersion"] = distribution["conforms_to"]
    return {key: value for key, value in found.items() if value}


def _registration(identifier: str) -> dict[str, str]:
    kind = registration_kind(identifier) or "nct"
    return {"@type": "PropertyValue", "propertyID": ns.REGISTRY_AGENCY[kind], "value": identifier,
            "url": ns.REGISTRY_PAGES[kind].format(identifier)}


def _person(person: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {"@type": "Person", "name": person["name"]}
    if person.get("orcid"):
        found["sameAs"] = f"https://orcid.org/{person['orcid']}"
    if person.get("affiliation"):
        found["affiliation"] = {"@type": "Organization", "name": person["affiliation"]}
    return found


def _organisation(group: StudyGroup, base_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {"@type": "Organization", "name": group.name, "alternateName": group.acronym,
                             "url": group.website or group_url(base_url, group)}
    if group.ror:
        found["sameAs"] = f"https://ror.org/{group.ror}"
    return found


def _conditions(content: dict[str, Any], group: StudyGroup) -> str:
    words = f"Access on request: a research proposal is reviewed by the data access committee of {group.name}."
    conditions = conditions_text(content.get("data_use", []), content.get("data_use_diseases", []))
    return words + (f" Data-use conditions: {conditions}." if conditions else "")


def _period(start: str | None, end: str | None) -> str | None:
    """ISO 8601 interval, open-ended with ".." when one side is unknown."""
    if not (start or end):
        return None
    return f"{start or '..'}/{end or '..'}"
