"""What the data come as: the short lists a distribution is described with.

Formats are IANA media types, stored as their IANA URI
(`https://www.iana.org/assignments/media-types/<type>`, the form DCAT-AP's shapes check). Three
formats common in clinical research have no registered media type: SAS transport (XPT), SPSS
(.sav) and Stata (.dta). For them Harmony keeps the unregistered `x-` type that tools send
(`application/x-sas-xport`, `application/x-spss-sav`, `application/x-stata-dta`) under the same URI
pattern, so the curator's choice round-trips, but the DCAT export states no `dcat:mediaType` for them
(IANA has no such entry) and names the format by the EU file-type table instead (`SAS` for XPT,
`BIN` for the others); schema.org's free-text `encodingFormat` carries the `x-` type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harmony.catalog import terms
from harmony.catalog.exports import namespaces as ns

IANA = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class MediaType:
    name: str  # e.g. text/csv
    label: str  # what the curator picks
    registered: bool  # in IANA's registry
    file_type: str  # the EU file-type authority table's code, for dct:format

    @property
    def uri(self) -> str:
        return IANA + self.name


MEDIA_TYPES = [
    MediaType("text/csv", "CSV (comma-separated values)", True, "CSV"),
    MediaType("text/tab-separated-values", "TSV (tab-separated values)", True, "TSV"),
    MediaType("application/x-sas-xport", "SAS transport (XPT), e.g. CDISC SDTM/ADaM", False, "SAS"),
    MediaType("application/json", "JSON, e.g. CDISC Dataset-JSON", True, "JSON"),
    MediaType("application/xml", "XML, e.g. CDISC ODM or Define-XML", True, "XML"),
    MediaType("application/x-spss-sav", "SPSS data file (.sav)", False, "BIN"),
    MediaType("application/x-stata-dta", "Stata data file (.dta)", False, "BIN"),
    MediaType("application/fhir+json", "HL7 FHIR bundles (JSON)", True, "JSON"),
    MediaType("application/fhir+xml", "HL7 FHIR bundles (XML)", True, "XML"),
    MediaType("application/vnd.apache.parquet", "Apache Parquet", True, "PARQUET"),
    MediaType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook (.xlsx)",
              True, "XLSX"),
    MediaType("application/zip", "ZIP archive", True, "ZIP"),
]
BY_URI = {media.uri: media for media in MEDIA_TYPES}
FILE_TYPE_LABELS = {"CSV": "CSV", "TSV": "TSV", "SAS": "SAS", "JSON": "JSON", "XML": "XML", "BIN": "Binary data",
                    "PARQUET": "Parquet", "XLSX": "XLSX", "ZIP": "ZIP"}

DELIVERY = {
    "download": "Download after approval",
    "secure-environment": "Secure processing environment",
    "federated": "Federated analysis",
}
DELIVERY_WORDS = {
    "download": "Approved researchers download the files under the data access agreement.",
    "secure-environment": "Approved researchers analyse the files inside a secure processing environment; "
                          "only results leave it.",
    "federated": "The files stay with the data holder; approved analyses run where the data are and return "
                 "aggregate results.",
}

# Standards files can conform to: the dataset-level standards plus the CDISC exchange formats.
STANDARDS = {ns.STANDARDS[key]: label for key, label in terms.STANDARDS.items()} | {
    "https://www.cdisc.org/standards/data-exchange/dataset-json": "CDISC Dataset-JSON",
    "https://www.cdisc.org/standards/data-exchange/define-xml": "CDISC Define-XML",
    "https://www.cdisc.org/standards/data-exchange/odm-xml": "CDISC ODM-XML",
}
_STANDARD_NAMES = {label.casefold(): uri for uri, label in STANDARDS.items()} | {
    key: ns.STANDARDS[key] for key in terms.STANDARDS}
_URI = re.compile(r"^(https?://\S+|urn:[a-z0-9][a-z0-9-]*:\S+)$", re.IGNORECASE)


def media_type(value: str) -> MediaType | None:
    """The listed media type for its IANA URI, its name (text/csv) or its label; None otherwise."""
    value = value.strip()
    name = value.removeprefix("http://").removeprefix("https://").removeprefix(IANA.split("://")[1]).lower()
    found = BY_URI.get(IANA + name)
    return found or next((m for m in MEDIA_TYPES if m.label.casefold() == value.casefold()), None)


def standard_uri(value: str) -> str | None:
    """A standard's URI for a listed name or key (CDISC SDTM, cdisc-sdtm) or any URI; None otherwise."""
    value = value.strip()
    found = _STANDARD_NAMES.get(value.casefold()) or _STANDARD_NAMES.get(value)
    if found:
        return found
    return value if _URI.match(value) else None


def standard_label(uri: str) -> str:
    return STANDARDS.get(uri, uri)


def media_label(uri: str) -> str:
    found = BY_URI.get(uri)
    return found.label if found else uri.removeprefix(IANA)


def approximate_size(byte_size: int | None) -> str:
    """A size in bytes in words, rounded in decimal units: "about 1.2 GB"."""
    if byte_size is None:
        return "Not stated"
    if byte_size < 1000:
        return f"{byte_size} bytes"
    size = float(byte_size)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        size /= 1000
        if size < 999.5 or unit == "PB":
            shown = f"{size:.1f}" if size < 10 else f"{size:.0f}"
            return f"about {shown.removesuffix('.0')} {unit}"
    raise AssertionError("unreachable")


_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]*)$", re.IGNORECASE)


def parse_size(value: str) -> int | None:
    """Bytes for "1200000", "1,200,000", "2.5 GB" or "800 MiB"; None when it is not a size."""
    found = _SIZE.match(value.strip().replace(",", "").replace("_", ""))
    if not found or found.group(2).lower() not in _UNITS:
        return None
    return round(float(found.group(1)) * _UNITS[found.group(2).lower()])
