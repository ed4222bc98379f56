"""ISO 3166 countries (from pycountry) with a lookup tolerant of the names registries use.

Study groups, dataset descriptions and imported registry records name countries in many ways
("United States", "Korea, Republic of", "Czech Republic", "Turkey"); the catalog stores ISO
alpha-2 codes and exports the EU Publications Office country URIs that DCAT-AP requires.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry

__all__ = ["Country", "countries", "country", "eu_country_uri"]

ALIASES_FILE = Path(__file__).parent / "data" / "country_aliases.csv"
EU_COUNTRY_BASE = "http://publications.europa.eu/resource/authority/country/"


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    name: str
    numeric: str = ""

    @property
    def eu_uri(self) -> str:
        return EU_COUNTRY_BASE + self.alpha3


def _key(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(ch for ch in ascii_name if not unicodedata.combining(ch)).lower()
    words = re.findall(r"[a-z0-9]+", ascii_name)
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


def _name_forms(name: str) -> list[str]:
    """The name and, for ISO's inverted names ("Korea, Republic of"), the natural order."""
    forms = [name]
    head, sep, tail = name.partition(", ")
    if sep:
        forms.append(f"{tail} {head}")
    return forms


@cache
def _index() -> tuple[dict[str, Country], dict[str, Country]]:
    by_code: dict[str, Country] = {}
    by_name: dict[str, Country] = {}
    for record in pycountry.countries:
        entry = Country(record.alpha_2, record.alpha_3, record.name, record.numeric)
        for code in (entry.alpha2, entry.alpha3, entry.numeric):
            by_code[code] = entry
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(record, attribute, None)
            for form in _name_forms(value) if value else ():
                by_name.setdefault(_key(form), entry)
    with ALIASES_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_name[_key(row["alias"])] = by_code[row["alpha2"]]
    return by_code, by_name


@cache
def countries() -> list[Country]:
    """All current ISO 3166-1 countries, by name."""
    by_code, _ = _index()
    return sorted({c.alpha2: c for c in by_code.values()}.values(), key=lambda c: _key(c.name))


def country(code_or_name: str) -> Country | None:
    """The country for an alpha-2 or alpha-3 code, a numeric code, or an official, common or
    registry name; None when nothing fits (dissolved states such as "Former Yugoslavia" too)."""
    if not code_or_name or not code_or_name.strip():
        return None
    text = code_or_name.strip()
    by_code, by_name = _index()
    if text.isalpha() and len(text) in (2, 3) and text.upper() in by_code:
        return by_code[text.upper()]
    if text.isdigit():
        return by_code.get(text.zfill(3))
    return by_name.get(_key(text))


def eu_country_uri(alpha2: str) -> str:
    """The EU Publications Office authority URI (DCAT-AP's dct:spatial) for a country."""
    found = country(alpha2)
    if found is None:
        raise ValueError(f"not an ISO 3166 country: {alpha2!r}")
    return found.eu_uri
