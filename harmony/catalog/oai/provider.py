"""The six OAI-PMH verbs, and `respond`, which turns one request into the bytes of its answer.

Protocol errors are answers too: HTTP 200 with <error code="…">, as the protocol asks. After
badVerb or badArgument the request element carries no attributes; otherwise it echoes the
arguments, which `protocol.parse` has already found well-formed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from email.utils import getaddresses

from flask import current_app
from werkzeug.datastructures import MultiDict

from harmony import clock
from harmony.catalog import services
from harmony.catalog.oai import envelope, records, tokens
from harmony.catalog.oai.dublin_core import DC
from harmony.catalog.oai.dublin_core import NAMESPACE as OAI_DC
from harmony.catalog.oai.envelope import oai, sub, utc
from harmony.catalog.oai.formats import FORMATS, MetadataFormat
from harmony.catalog.oai.protocol import Arguments, OaiError, parse, parse_datestamp
from harmony.catalog.oai.records import GROUP_SETS, Record, Selection

DEFAULT_NAME = "Harmony: clinical-study datasets in haematologic malignancies"
DEFAULT_PAGE_SIZE = 100
EMAIL = re.compile(r"\S+@(\S+\.)+\S+")  # the OAI-PMH schema's emailType
DOMAIN = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")  # oai-identifier's repositoryIdentifier


def base_url() -> str:
    return current_app.config["BASE_URL"] + "/oai"


def respond(parameters: MultiDict[str, str]) -> bytes:
    """The whole answer to one OAI-PMH request (GET query or POST form arguments)."""
    now = clock.now()
    try:
        arguments = parse(parameters)
    except OaiError as failure:
        return _errors(envelope.start(now, base_url(), {}), failure)
    root = envelope.start(now, base_url(), arguments.echo)
    try:
        root.append(VERBS[arguments.verb](arguments, now))
    except OaiError as failure:
        return _errors(root, failure)
    return envelope.serialise(root)


def _errors(root: ET.Element, failure: OaiError) -> bytes:
    for code, message in failure.errors:
        envelope.error(root, code, message)
    return envelope.serialise(root)


# --- Identify, ListMetadataFormats, ListSets ------------------------------------------------


def identify(arguments: Arguments, now: datetime) -> ET.Element:
    answer = ET.Element(oai("Identify"))
    sub(answer, "repositoryName", current_app.config.get("OAI_REPOSITORY_NAME") or DEFAULT_NAME)
    sub(answer, "baseURL", base_url())
    sub(answer, "protocolVersion", "2.0")
    for address in admin_emails():
        sub(answer, "adminEmail", address)
    sub(answer, "earliestDatestamp", utc(records.earliest_datestamp() or now))
    sub(answer, "deletedRecord", "persistent")
    sub(answer, "granularity", "YYYY-MM-DDThh:mm:ssZ")
    host = records.repository_host()
    if DOMAIN.fullmatch(host):
        scheme = envelope.OAI_IDENTIFIER
        block = ET.SubElement(sub(answer, "description"), f"{{{scheme}}}oai-identifier",
                              {f"{{{envelope.XSI}}}schemaLocation": f"{scheme} {envelope.OAI_IDENTIFIER_SCHEMA}"})
        for name, value in (("scheme", "oai"), ("repositoryIdentifier", host), ("delimiter", ":"),
                            ("sampleIdentifier", records.identifier("HM-000001"))):
            sub(block, f"{{{scheme}}}{name}", value)
    return answer


def admin_emails() -> list[str]:
    """OAI_ADMIN_EMAIL (comma-separated), else the sender address of Harmony's e-mails."""
    configured = current_app.config.get("OAI_ADMIN_EMAIL") or current_app.config.get("MAIL_FROM") or ""
    addresses = [address for _name, address in getaddresses([str(configured)]) if address]
    return [address for address in addresses if EMAIL.fullmatch(address)] or addresses[:1]


def list_metadata_formats(arguments: Arguments, now: datetime) -> ET.Element:
    formats: list[MetadataFormat] = list(FORMATS.values())
    if arguments.get("identifier"):
        record = _record(arguments.get("identifier") or "")
        formats = [found for found in formats if found.available_for(record)]
        if not formats:
            raise OaiError("noMetadataFormats", "No metadata formats are available for this item.")
    answer = ET.Element(oai("ListMetadataFormats"))
    for found in formats:
        element = sub(answer, "metadataFormat")
        sub(element, "metadataPrefix", found.prefix)
        sub(element, "schema", found.schema)
        sub(element, "metadataNamespace", found.namespace)
    return answer


def list_sets(arguments: Arguments, now: datetime) -> ET.Element:
    if arguments.get("resumptionToken"):
        raise OaiError("badResumptionToken", "The list of sets is always complete; this repository issued no token for it.")
    answer = ET.Element(oai("ListSets"))
    family = sub(answer, "set")
    sub(family, "setSpec", GROUP_SETS)
    sub(family, "setName", "Study groups")
    for group in services.groups():
        element = sub(answer, "set")
        sub(element, "setSpec", records.group_set(group))
        sub(element, "setName", group.name)
        if group.description or group.website:
            dc = ET.SubElement(sub(element, "setDescription"), f"{{{OAI_DC}}}dc")
            for name, value in (("description", group.description), ("identifier", group.website)):
                if value:
                    sub(dc, f"{{{DC}}}{name}", value)
    return answer


# --- GetRecord, ListIdentifiers, ListRecords ------------------------------------------------


def _record(oai_identifier: str) -> Record:
    pid = records.pid_of(oai_identifier)
    record = records.find(pid) if pid else None
    if record is None:
        raise OaiError("idDoesNotExist", "No item of this repository has this identifier.")
    return record


def _format(prefix: str) -> MetadataFormat:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"This repository disseminates {' and '.join(FORMATS)} only.")
    return FORMATS[prefix]


def _header(parent: ET.Element, record: Record) -> None:
    header = sub(parent, "header", **({"status": "deleted"} if record.deleted else {}))
    sub(header, "identifier", record.identifier)
    sub(header, "datestamp", utc(record.datestamp))
    for spec in record.set_specs:
        sub(header, "setSpec", spec)


def _full_record(parent: ET.Element, record: Record, metadata_format: MetadataFormat) -> None:
    element = sub(parent, "record")
    _header(element, record)
    if not record.deleted:
        sub(element, "metadata").append(metadata_format.render(record, current_app.config["BASE_URL"]))


def get_record(arguments: Arguments, now: datetime) -> ET.Element:
    """Both an unknown identifier and an unknown format are reported, if both are wrong."""
    problems: list[tuple[str, str]] = []
    record = metadata_format = None
    try:
        record = _record(arguments.get("identifier") or "")
    except OaiError as failure:
        problems += failure.errors
    try:
        metadata_format = _format(arguments.get("metadataPrefix") or "")
    except OaiError as failure:
        problems += failure.errors
    if record is None or metadata_format is None:
        raise OaiError(*problems[0], *problems[1:])
    answer = ET.Element(oai("GetRecord"))
    _full_record(answer, record, metadata_format)
    return answer


def _selection(position: tokens.Position) -> Selection:
    start = parse_datestamp(position.from_).moment if position.from_ else None
    end = parse_datestamp(position.until).next_after if position.until else None
    group_ids = None
    if position.set_spec:
        group_ids = records.groups_of_set(position.set_spec, services.groups())
        if not group_ids:
            raise OaiError("noRecordsMatch", "This repository has no such set; ListSets shows the sets.")
    return Selection(start, end, group_ids)


def _position(arguments: Arguments) -> tokens.Position:
    token = arguments.get("resumptionToken")
    if token:
        try:
            return tokens.redeem(token, arguments.verb)
        except tokens.BadToken as failure:
            raise OaiError("badResumptionToken", str(failure)) from None
    return tokens.Position(arguments.verb, arguments.get("metadataPrefix") or "", arguments.get("from"),
                           arguments.get("until"), arguments.get("set"), after_id=0, cursor=0)


def page_size() -> int:
    return max(1, int(current_app.config.get("OAI_PAGE_SIZE") or DEFAULT_PAGE_SIZE))


def _list(arguments: Arguments, render: Callable[[ET.Element, Record, MetadataFormat], None]) -> ET.Element:
    """One page of ListIdentifiers or ListRecords, with a resumption token if more follow."""
    position = _position(arguments)
    metadata_format = _format(position.metadata_prefix)
    selection = _selection(position)
    size = page_size()
    found = records.page(selection, position.after_id, size + 1)
    if not found:
        raise OaiError("noRecordsMatch", "No records match these from, until, set and metadataPrefix arguments.")
    shown, more = found[:size], len(found) > size
    answer = ET.Element(oai(arguments.verb))
    for record in shown:
        render(answer, record, metadata_format)
    if more or position.cursor:
        total = max(records.count(selection), position.cursor + len(shown))
        attributes = {"completeListSize": str(total), "cursor": str(position.cursor)}
        if more:
            following = replace(position, after_id=shown[-1].dataset.id, cursor=position.cursor + len(shown))
            token, expires = tokens.issue(following)
            sub(answer, "resumptionToken", token, expirationDate=utc(expires), **attributes)
        else:
            sub(answer, "resumptionToken", **attributes)  # empty: the list is complete
    return answer


def list_identifiers(arguments: Arguments, now: datetime) -> ET.Element:
    return _list(arguments, lambda parent, record, _format: _header(parent, record))


def list_records(arguments: Arguments, now: datetime) -> ET.Element:
    return _list(arguments, _full_record)


VERBS: dict[str, Callable[[Arguments, datetime], ET.Element]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
