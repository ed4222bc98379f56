"""The XML around every OAI-PMH answer, built with xml.etree so text is always escaped.

lxml is only a test dependency, so the provider uses the standard library. Prefixes are
registered once at import: they only make the output readable, the namespaces carry meaning.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"

PREFIXES = {
    "xsi": XSI,
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai-identifier": OAI_IDENTIFIER,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatap": "http://data.europa.eu/r5r/",
    "healthdcatap": "http://healthdataportal.eu/ns/health#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dpv": "https://w3id.org/dpv#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "spdx": "http://spdx.org/rdf/terms#",
    "locn": "http://www.w3.org/ns/locn#",
    "time": "http://www.w3.org/2006/time#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "schema": "http://schema.org/",
}
for _prefix, _uri in PREFIXES.items():
    ET.register_namespace(_prefix, _uri)
ET.register_namespace("", OAI)  # the OAI-PMH elements unprefixed, as harvesters are used to seeing them

# Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def is_xml_text(value: str) -> bool:
    return _NOT_XML.search(value) is None


def clean(value: object) -> str:
    """Text safe to put in XML: characters XML cannot carry are dropped."""
    return _NOT_XML.sub("", str(value))


def oai(tag: str) -> str:
    return f"{{{OAI}}}{tag}"


def sub(parent: ET.Element, tag: str, text: object | None = None, **attributes: str) -> ET.Element:
    """Append a child element (tag in Clark notation or an OAI local name) with escaped text."""
    element = ET.SubElement(parent, tag if tag.startswith("{") else oai(tag), attributes)
    if text is not None:
        element.text = clean(text)
    return element


def utc(moment: datetime) -> str:
    """A datestamp at the seconds granularity this repository declares."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start(now: datetime, base_url: str, arguments: Mapping[str, str]) -> ET.Element:
    """The OAI-PMH root with responseDate and the request element echoing `arguments`."""
    root = ET.Element(oai("OAI-PMH"), {f"{{{XSI}}}schemaLocation": f"{OAI} {OAI_SCHEMA}"})
    sub(root, "responseDate", utc(now))
    sub(root, "request", base_url, **{name: clean(value) for name, value in arguments.items()})
    return root


def error(root: ET.Element, code: str, message: str) -> None:
    sub(root, "error", message, code=code)


def serialise(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
