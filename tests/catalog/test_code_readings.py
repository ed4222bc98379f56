"""Every code of the WHO haematological tables is understood (issue 10, section 1).

Walks ICD-10 C81–C96, D45–D47 (categories and subcategories) and ICD-O-3.1 9590–9992 as shipped
(or as a data office supplied them), and fails on any code that does not read as a concept.
"""

from __future__ import annotations

import pytest

from harmony.catalog.vocabularies import diseases
from harmony.catalog.vocabularies.sources import read_code_tables
from harmony.search import query

TABLES = read_code_tables()
ICD10 = [row["code"] for row in TABLES.icd10 if row["level"] != "block"]
ICDO3 = [row["icdo3_histology_code"] for row in TABLES.icdo3]


def test_the_tables_are_whole():
    assert len(ICD10) == 127 and len(ICDO3) == 154
    assert diseases().unread_codes == []  # every code placed by a DOID term, a name or code_readings.csv


@pytest.mark.parametrize("code", ICD10 + ICDO3)
def test_every_code_reads_as_a_concept(code):
    vocabulary = diseases()
    found = vocabulary.lookup(code)
    assert len(found) == 1, f"{code} is not understood"
    term = vocabulary.get(found[0])
    assert vocabulary.match(code) == term.id  # the importers' reading is the same
    assert any(s.id == term.id for s in vocabulary.suggest(code))  # and the curation picker's
    parsed = query.parse(code)
    assert [c.term_id for c in parsed.concepts] == [term.id]  # and the search's "read as"
    assert term.id in parsed.concepts[0].ids
    if not term.is_doid:  # a concept of its own: the WHO label, under a concept of the hierarchy
        assert term.parents and term.label in _titles()
        assert code in (*term.icd10, *term.icdo3) or vocabulary.reading(code) == term.id


def _titles():
    return [row["description"] for row in TABLES.icd10] + [row["icdo3_histology_code_name"] for row in TABLES.icdo3]


@pytest.mark.parametrize(("code", "reading", "under"), [
    ("C92.1", "DOID:8552", None),  # CML: finds the CML datasets
    ("9663/3", "ICD10:C81.1", "DOID:8567"),  # nodular sclerosis classical Hodgkin lymphoma
    ("C81.1", "ICD10:C81.1", "DOID:8567"),
    ("C84.6", "ICD10:C84.6", "DOID:0050744"),  # ALK-positive ALCL under ALCL
    ("D46.2", "ICD10:D46.2", "DOID:0050908"),  # RAEB under MDS
    ("C81.9", "DOID:8567", None),  # "unspecified": the parent's reading
    ("C92.0", "DOID:9119", None),  # several DOID terms share C92.0: the one covering the others
])
def test_examples(code, reading, under):
    vocabulary = diseases()
    assert vocabulary.lookup(code) == [reading]
    if under:
        assert under in vocabulary.ancestors(reading)


def test_a_category_of_its_own_covers_its_subcategories():
    vocabulary = diseases()
    found = vocabulary.descendants(vocabulary.reading("C92"))  # myeloid leukaemia
    assert {"DOID:9119", "DOID:8552", "DOID:0081088", "ICD10:C92.3"} <= set(found)
    assert vocabulary.category("ICD10:C92").key == "leukaemia"
    assert vocabulary.category("ICD10:C90").key == "plasma_cell"
    # a registry's condition text finds the WHO concept
    assert vocabulary.match("Hodgkin Lymphoma, Nodular Sclerosis") == "ICD10:C81.1"


def test_a_data_office_table_replaces_the_shipped_one(tmp_path, monkeypatch):
    from harmony.catalog.vocabularies.sources import load_disease_vocabulary

    table = tmp_path / "icd10.csv"
    table.write_text("code,level,description,parent\nC81-C96,block,Haematological,C00-C97\n"
                     "C81,category,Hodgkin lymphoma,C81-C96\nC81.1,subcategory,Nodular sclerosis HL (office),C81\n",
                     encoding="utf-8")
    monkeypatch.setenv("HARMONY_ICD10_TABLE", str(table))
    vocabulary = load_disease_vocabulary()
    assert vocabulary.get(vocabulary.reading("C81.1")).label == "Nodular sclerosis HL (office)"
    assert vocabulary.reading("C92.1") is None  # not in the office's table
    monkeypatch.setenv("HARMONY_ICD10_TABLE", str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="HARMONY_ICD10_TABLE"):
        load_disease_vocabulary()
