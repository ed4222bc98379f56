"""The metadata formats the provider disseminates: `oai_dc` and `dcat_ap`.

`dcat_ap` is the DCAT-AP / HealthDCAT-AP description of the dataset, the same graph the
catalog's RDF exports serve, as RDF/XML inside <metadata> (root rdf:RDF). RDF/XML has no XML
Schema, so its `schema` points at the DCAT-AP 3.0.1 specification.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET

from harmony.catalog.oai import dublin_core
from harmony.catalog.oai.records import Record


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    render: Callable[[Record, str], ET.Element]  # (record, base URL) -> the element inside <metadata>

    def available_for(self, record: Record) -> bool:
        """Every harvestable record has a published version, which both formats are made from."""
        return record.version is not None


def dcat_ap(record: Record, base_url: str) -> ET.Element:
    # Imported here: the RDF exports are a sibling package the provider should not load eagerly.
    from harmony.catalog.exports.listing import first_issued
    from harmony.catalog.exports.rdf import dataset_graph

    issued = first_issued([record.dataset.id]).get(record.dataset.id)
    graph = dataset_graph(record.dataset, record.version, record.group, base_url, issued=issued)
    return SafeET.fromstring(graph.serialize(format="xml", encoding="utf-8"))


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", dublin_core.SCHEMA, dublin_core.NAMESPACE, dublin_core.oai_dc),
    "dcat_ap": MetadataFormat("dcat_ap", "https://semiceu.github.io/DCAT-AP/releases/3.0.1/",
                              "http://www.w3.org/ns/dcat#", dcat_ap),
}
