"""Validation of exports against the official DCAT-AP 3.0.1 and HealthDCAT-AP Release 5 shapes.

The shapes ship with the package (`shapes/`, see SOURCES.md), so a data office can check a graph
at run time without network access. They are parsed once per process. Both profiles name their
shapes in the same namespace, so one merged shapes graph holds DCAT-AP's constraints plus the
HealthDCAT-AP ones added to the same shapes, as HealthDCAT-AP intends (it imports DCAT-AP).
Only `sh:Violation` results make a graph non-conformant; warnings (recommended properties,
vocabularies outside the EU authority tables) are reported separately.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyshacl
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

SHAPES_DIR = Path(__file__).parent / "shapes"
DCAT_AP_SHAPES = (
    "3.0.1__html__shacl__shapes.ttl",
    "3.0.1__html__shacl__shapes_recommended.ttl",
    "3.0.1__html__shacl__range.ttl",
    "3.0.1__html__shacl__mdr-vocabularies.shape.ttl",
    "3.0.1__html__shacl__deprecateduris.ttl",
)
HEALTHDCAT_AP_SHAPES = ("healthdcatap-shacl_release5_nonpublic.ttl",)
_lock = threading.Lock()


@dataclass(frozen=True)
class Report:
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not self.violations


@cache
def shapes() -> Graph:
    """The merged shapes graph, parsed once per process."""
    graph = Graph()
    for name in DCAT_AP_SHAPES + HEALTHDCAT_AP_SHAPES:
        graph.parse(SHAPES_DIR / name, format="turtle")
    return graph


def check(graph: Graph) -> Report:
    """Validate `graph` (no inference: the exports state every type the shapes look for)."""
    shapes_graph = shapes()
    with _lock:  # rdflib graphs promise no thread safety; the shapes graph is shared
        _, results, _ = pyshacl.validate(graph, shacl_graph=shapes_graph, inference="none",
                                         allow_warnings=True, allow_infos=True)
    violations, warnings = [], []
    # Top-level results only: a failed nested shape shows up as sh:detail of its parent result,
    # with the severity of the inner constraint, not of the property that used it.
    report = results.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
    for result in results.objects(report, SH.result):
        line = _describe(results, result)
        severity = results.value(result, SH.resultSeverity)
        if severity == SH.Violation:
            violations.append(line)
        elif severity == SH.Warning:
            warnings.append(line)
    return Report(sorted(violations), sorted(warnings))


def validate(graph: Graph) -> tuple[bool, list[str]]:
    """(conforms, violations): conforms when no result has severity sh:Violation."""
    report = check(graph)
    return report.conforms, report.violations


def _describe(results: Graph, result) -> str:
    """One line: focus node, path, which constraint, and the shape's message."""
    focus = results.value(result, SH.focusNode)
    path = results.value(result, SH.resultPath)
    component = results.value(result, SH.sourceConstraintComponent)
    message = results.value(result, SH.resultMessage)
    value = results.value(result, SH.value)
    parts = [_short(results, focus), f"path {_short(results, path)}" if path is not None else "",
             str(component).rsplit("#", 1)[-1], f"value {_short(results, value)}" if value is not None else "",
             f"— {message}" if message else ""]
    return " ".join(part for part in parts if part)


def _short(graph: Graph, node) -> str:
    return graph.namespace_manager.normalizeUri(node) if isinstance(node, URIRef) else str(node)


def check_published(base_url: str, batch_size: int = 200) -> Iterator[tuple[list[str], Report]]:
    """Validate every published dataset, `batch_size` datasets to a graph; yields (PIDs, report).

    Datasets share only their publisher and vocabulary nodes, so a merged graph gives the same
    results as one graph each, several times faster.
    """
    from harmony.catalog import services
    from harmony.catalog.exports.rdf import dataset_graph

    groups = {group.id: group for group in services.groups()}
    published = services.published_datasets()
    for start in range(0, len(published), batch_size):
        graph, pids = Graph(), []
        for dataset, version in published[start:start + batch_size]:
            graph += dataset_graph(dataset, version, groups[dataset.group_id], base_url)
            pids.append(dataset.pid)
        yield pids, check(graph)
