"""Controlled vocabularies shipped with Harmony: diseases, data-use conditions, countries.

Loaded once per process from the files in `data/` (habit 7): forms, facets, query expansion,
importers and exports all read the same objects.
"""

from __future__ import annotations

from functools import cache

from .countries import Country, countries, country, eu_country_uri
from .diseases import DiseaseCategory, DiseaseTerm, DiseaseVocabulary, Suggestion
from .duo import DuoTerm, DuoVocabulary, load_duo_vocabulary
from .sources import load_disease_vocabulary
from .text import normalise, spelling_variants

__all__ = [
    "Country",
    "DiseaseCategory",
    "DiseaseTerm",
    "DiseaseVocabulary",
    "DuoTerm",
    "DuoVocabulary",
    "Suggestion",
    "countries",
    "country",
    "diseases",
    "duo",
    "eu_country_uri",
    "normalise",
    "spelling_variants",
]


@cache
def diseases() -> DiseaseVocabulary:
    """The disease vocabulary, built on first use and shared afterwards (it is immutable)."""
    return load_disease_vocabulary()


@cache
def duo() -> DuoVocabulary:
    """The GA4GH Data Use Ontology terms, built on first use and shared afterwards."""
    return load_duo_vocabulary()
