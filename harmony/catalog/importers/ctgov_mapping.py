"""From a ClinicalTrials.gov record to a dataset description: which field comes from where.

The registry owns the fields it describes (title, summary, diseases, ages, countries, dates,
people, registrations, publications, provenance): a re-import overwrites them, and drops them when
the registry no longer has them. What the registry does not know is filled with defaults a
curator reviews, and a re-import never overwrites the curator's choice:

- contact point: the record's overall (central) contact with an e-mail address; otherwise the
  study group's data office, "{group name} data office" <data@{acronym}.example>;
- data-use conditions: HMB (health, medical or biomedical research) with IRB (ethics approval
  required), the usual terms for pseudonymised trial data; `--data-use` replaces them;
- data types: clinical data and outcomes, what every trial collects;
- access rights: non-public. Legal basis and purpose are left to the curator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from harmony.catalog.content import DOI, ContactPoint, registration_kind
from harmony.catalog.importers.ctgov import RegistryRecord
from harmony.catalog.vocabularies import country, diseases

DEFAULT_DATA_USE = ("DUO:0000006", "DUO:0000021")  # HMB, IRB
DEFAULT_DATA_TYPES = ("clinical", "outcome")
MAX_DISEASES = 6
MAX_KEYWORDS = 30
MAX_CREATORS = 20
STUDY_URL = "https://clinicaltrials.gov/study/{}"


def source_key(nct_id: str) -> str:
    return f"ctgov:{nct_id}"


def group_contact(name: str, acronym: str) -> dict[str, str]:
    """The contact point of a study group that names no one in particular."""
    domain = re.sub(r"[^a-z0-9]+", "-", acronym.lower()).strip("-") or "group"
    return {"name": f"{name} data office"[:200], "email": f"data@{domain}.example"}


@dataclass(frozen=True)
class Defaults:
    """What a record does not say, chosen by the importer's caller."""

    contact_point: dict[str, str]
    data_use: tuple[str, ...] = DEFAULT_DATA_USE
    data_types: tuple[str, ...] = DEFAULT_DATA_TYPES


@dataclass
class Mapped:
    """A description ready for `DatasetContent`, and which of its fields the registry owns."""

    nct_id: str
    content: dict[str, Any]
    owned: set[str] = field(default_factory=set)


def to_content(record: RegistryRecord, defaults: Defaults) -> Mapped:
    nct = record.nct_id or ""
    age_min, age_max = years(record.minimum_age), years(record.maximum_age)
    if age_min is not None and age_max is not None and age_min > age_max:
        age_min = age_max = None
    start = registry_date(record.start_date)
    end = registry_date(record.completion_date) or registry_date(record.primary_completion_date)
    if start and end and end < start:
        end = None
    owned: dict[str, Any] = {
        "title": _shorten(record.brief_title or record.official_title, 500),
        "acronym": record.acronym if record.acronym and len(record.acronym) <= 60 else None,
        "description": description(record),
        "keywords": _distinct(record.keywords)[:MAX_KEYWORDS],
        "creators": creators(record),
        "registrations": registrations(record),
        "diseases": disease_terms(record.conditions + record.mesh_terms),
        "population": population(age_min, age_max),
        "age_min": age_min,
        "age_max": age_max,
        "n_patients": _positive_int(record.enrollment),
        "countries": list(dict.fromkeys(found.alpha2 for name in record.countries if (found := country(name)))),
        "study_type": study_type(record),
        "phases": phases(record.phases),
        "recruitment_start": start,
        "recruitment_end": end,
        "publications": dois(citation for _pmid, citation in record.references),
        "provenance": provenance(record),
    }
    content = {key: value for key, value in owned.items() if value not in (None, [], "")}
    keys = set(owned)
    if (contact := contact_point(record)) is not None:
        content["contact_point"] = contact
        keys.add("contact_point")
    else:
        content["contact_point"] = dict(defaults.contact_point)
    content["data_use"] = list(defaults.data_use)
    content["data_types"] = list(defaults.data_types)
    content["access_rights"] = "non-public"
    return Mapped(nct, content, keys)


# --- one field at a time -----------------------------------------------------------------------


def normalise_text(text: str | None) -> str:
    """Paragraphs kept, every other run of whitespace (the registry's line breaks) one space."""
    if not text:
        return ""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _shorten(text: str | None, limit: int) -> str | None:
    text = " ".join(text.split()) if text else None
    if not text or len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def description(record: RegistryRecord) -> str | None:
    """Official title (when it says more than the brief one), brief summary, detailed description."""
    parts = []
    official = " ".join((record.official_title or "").split())
    if official and official.casefold() != " ".join((record.brief_title or "").split()).casefold():
        parts.append(f"Official title: {official}")
    summary, detail = normalise_text(record.brief_summary), normalise_text(record.detailed_description)
    parts += [summary] if summary else []
    parts += [detail] if detail and detail != summary else []
    text = "\n\n".join(parts)
    if len(text) > 20000:
        text = text[:19999].rsplit(" ", 1)[0] + "…"
    return text or None


def _distinct(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = " ".join(value.split())
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())


def disease_terms(texts: list[str]) -> list[str]:
    """The most specific distinct terms the conditions and MeSH headings match: "Leukemia" adds
    nothing next to "Leukemia, Myeloid, Acute"."""
    vocabulary = diseases()
    found = list(dict.fromkeys(term for text in texts if (term := vocabulary.match(text))))
    broader = {ancestor for term in found for ancestor in vocabulary.ancestors(term)}
    return [term for term in found if term not in broader][:MAX_DISEASES]


_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)", re.IGNORECASE)
_PER_YEAR = {"year": 1, "month": 12, "week": 52.1775, "day": 365.25, "hour": 8766, "minute": 525960}


def years(text: str | None) -> float | None:
    """"18 Years" → 18, "6 Months" → 0.5; None for "N/A", nonsense, or above 120."""
    found = _AGE.search(text or "")
    if not found:
        return None
    value = round(float(found.group(1)) / _PER_YEAR[found.group(2).lower()], 2)
    value = int(value) if value == int(value) else value
    return value if value <= 120 else None


def population(age_min: float | None, age_max: float | None) -> str:
    if age_max is not None and age_max < 18:
        return "paediatric"
    if age_min is not None and age_min >= 18:
        return "adult"
    return "both"


def _positive_int(text: str | None) -> int | None:
    try:
        value = int(float(text)) if text else None
    except ValueError:
        return None
    return value if value and 0 < value <= 10_000_000 else None


_PHASES = {"earlyphase1": "early-phase-1", "phase0": "early-phase-1", "phase1": "phase-1", "phase2": "phase-2",
           "phase3": "phase-3", "phase4": "phase-4", "na": "not-applicable", "notapplicable": "not-applicable"}


def phases(values: list[str]) -> list[str]:
    found = [_PHASES.get(re.sub(r"[^a-z0-9]", "", value.lower())) for value in values]
    return list(dict.fromkeys(phase for phase in found if phase))


def study_type(record: RegistryRecord) -> str | None:
    kind = re.sub(r"[^a-z]", "", (record.study_type or "").lower())
    if kind == "observational":
        return "registry" if record.patient_registry else "observational"
    return "interventional" if kind == "interventional" else None


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m", "%B %d, %Y", "%B %Y", "%b %d, %Y", "%b %Y")


def registry_date(text: str | None) -> date | None:
    """A registry date; a month alone ("June 1993", "2006-11") becomes the 1st of that month."""
    text = " ".join((text or "").split())
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


_DEGREES = {"md", "phd", "msc", "mph", "mbbs", "mbchb", "frcp", "frcpc", "frcpath", "pharmd", "rn", "do", "bsc",
            "ms", "ma", "mba", "dm", "dr", "prof", "professor", "facp", "mrcp", "dphil", "np", "pa", "bs", "mhs",
            "mscr", "mas", "mmed", "drmed", "jr", "iii", "ii"}


def person_name(name: str) -> str:
    """"Nicolas Novitzky, MD, PhD" → "Nicolas Novitzky"."""
    parts = [part.strip() for part in name.split(",")]
    while len(parts) > 1 and all(re.sub(r"[^a-z]", "", word.lower()) in _DEGREES for word in parts[-1].split()):
        parts.pop()
    return ", ".join(parts)[:200]


def creators(record: RegistryRecord) -> list[dict[str, str]]:
    """Overall officials (with their affiliation), then the sponsor and collaborators as organisations."""
    people = [{"name": person_name(o.name), **({"affiliation": o.affiliation[:300]} if o.affiliation else {})}
              for o in record.officials]
    people += [{"name": organisation[:200]} for organisation in [record.sponsor or "", *record.collaborators]
               if organisation]
    distinct: dict[str, dict[str, str]] = {}
    for person in people:
        distinct.setdefault(person["name"].casefold(), person)
    return list(distinct.values())[:MAX_CREATORS]


_EUCT = re.compile(r"\b\d{4}-5\d{5}-\d{2}-\d{2}\b")
_EUDRACT = re.compile(r"\b\d{4}-\d{6}-\d{2}\b")
_ISRCTN = re.compile(r"\bISRCTN\s*(\d{8})\b", re.IGNORECASE)


def registrations(record: RegistryRecord) -> list[str]:
    """The NCT id, and the EudraCT, EU CT and ISRCTN numbers among the study's other ids."""
    found = [record.nct_id] if record.nct_id else []
    for value, kind in [(record.org_study_id or "", ""), *record.secondary_ids]:
        if euct := _EUCT.search(value):
            found.append(euct.group())
        elif eudract := _EUDRACT.search(value):
            found.append(eudract.group())
        elif isrctn := _ISRCTN.search(value):
            found.append(f"ISRCTN{isrctn.group(1)}")
        elif "isrctn" in kind.lower() and re.fullmatch(r"\d{8}", value):
            found.append(f"ISRCTN{value}")
    return [value for value in dict.fromkeys(found) if registration_kind(value)]


_DOI_IN_TEXT = re.compile(r"(?:doi:?\s*|doi\.org/)(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)


def dois(citations: Any) -> list[str]:
    found = (match.group(1).rstrip(".,;)]") for citation in citations for match in _DOI_IN_TEXT.finditer(citation))
    return [doi for doi in dict.fromkeys(found) if DOI.match(doi)]


def contact_point(record: RegistryRecord) -> dict[str, str] | None:
    for person in record.contacts:
        if not person.email:
            continue
        try:
            ContactPoint.model_validate({"name": person_name(person.name), "email": person.email})
        except ValueError:
            continue
        return {"name": person_name(person.name), "email": person.email.strip()}
    return None


def provenance(record: RegistryRecord) -> str | None:
    if not record.nct_id:
        return None
    updated = registry_date(record.last_update)
    when = f", last updated {updated.isoformat()}" if updated else ""
    return (f"Imported from the ClinicalTrials.gov registry record {record.nct_id} "
            f"({STUDY_URL.format(record.nct_id)}){when}. Registry content describes the trial as registered; "
            "the study group holds the individual participant data.")
