"""The HealthDCAT-AP part of a description: health categories, diseases and their codes, population."""

from __future__ import annotations

import math
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from harmony.catalog.exports import namespaces as ns
from harmony.catalog.exports.builder import DescriptionBuilder, text
from harmony.catalog.exports.namespaces import HEALTH
from harmony.catalog.vocabularies import country, diseases


def health_categories(content: dict[str, Any]) -> list[str]:
    codes = [ns.STUDY_TYPE_CATEGORY.get(content.get("study_type") or "", "CLINICAL_TRIAL")]
    if ns.GENOMIC_DATA_TYPES & set(content.get("data_types", [])):
        codes.append("GENOMIC")
    return codes


def add_diseases(build: DescriptionBuilder, node: URIRef, disease_ids: list[str]) -> None:
    """Disease Ontology terms as subject and health theme, their ICD codes as code values."""
    vocabulary = diseases()
    systems: set[str] = {"doid"}
    for disease_id in disease_ids:
        term = vocabulary.get(disease_id)
        if term is None:
            continue
        theme = vocabulary.nearest_doid(term.id)  # a WHO code's own concept: its nearest DOID term
        concept = build.concept(str(ns.OBO[theme.id.replace(":", "_")]), theme.label)
        build.add(concept, SKOS.notation, Literal(theme.id))
        build.add(node, DCTERMS.subject, concept)
        build.add(node, HEALTH.healthTheme, concept)
        for code in term.icd10:
            systems.add("icd10")
            _code_value(build, node, "icd10", code, vocabulary.icd10_title(code), ns.ICD10_BROWSER + code)
        for code in term.icdo3:
            systems.add("icdo3")
            _code_value(build, node, "icdo3", code, vocabulary.icdo3_title(code), None)
    for system in sorted(systems):
        build.add(node, HEALTH.hasCodingSystem, ns.CODING_SYSTEMS[system][0])


def _code_value(build: DescriptionBuilder, node: URIRef, system: str, code: str, title: str | None,
                link: str | None) -> None:
    value = BNode()
    build.add(value, RDF.type, SKOS.Concept)
    build.add(value, SKOS.notation, Literal(code))
    build.add(value, SKOS.prefLabel, text(f"{code} {title}" if title else code))
    build.add(value, SKOS.inScheme, ns.CODING_SYSTEMS[system][0])
    if link:
        build.add(value, DCTERMS.identifier, Literal(link, datatype=XSD.anyURI))
    build.add(node, HEALTH.hasCodeValues, value)


def population_text(content: dict[str, Any]) -> str:
    """The population in one sentence, e.g. "Adult patients aged 18 to 65 years with AML in …"."""
    vocabulary = diseases()
    who = {"paediatric": "Paediatric patients", "adult": "Adult patients",
           "both": "Paediatric and adult patients"}.get(content.get("population") or "", "Patients")
    low, high = content.get("age_min"), content.get("age_max")
    ages = (f" aged {low:g} to {high:g} years" if low is not None and high is not None
            else f" aged {low:g} years and over" if low is not None
            else f" aged up to {high:g} years" if high is not None else "")
    names = [term.label for d in content.get("diseases", []) if (term := vocabulary.get(d))]
    where = [found.name for code in content.get("countries", []) if (found := country(code))]
    sentence = f"{who}{ages} with {_and(names) if names else 'a haematological malignancy'}"
    return sentence + (f" in {_and(where)}." if where else ".")


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def add_population(build: DescriptionBuilder, node: URIRef, content: dict[str, Any]) -> None:
    build.add(node, HEALTH.populationCoverage, text(population_text(content)))
    counts = {HEALTH.numberOfUniqueIndividuals: content.get("n_patients"), HEALTH.numberOfRecords: content.get("n_records"),
              HEALTH.minTypicalAge: _whole(content.get("age_min"), math.floor),
              HEALTH.maxTypicalAge: _whole(content.get("age_max"), math.ceil)}
    for predicate, value in counts.items():
        if value is not None:
            build.add(node, predicate, Literal(str(value), datatype=XSD.nonNegativeInteger))


def _whole(value: float | None, rounding: Any) -> int | None:
    return None if value is None else int(rounding(value))
