"""Reading queries: operators, phrases, fields, disease names, and helpful errors."""

from __future__ import annotations

import pytest

from harmony.catalog.vocabularies import diseases
from harmony.search import analysis
from harmony.search.query import And, Concept, Facet, Not, Or, QueryError, Text, parse

AML, ALL, LEUKAEMIA = "DOID:9119", "DOID:9952", "DOID:1240"


def concept_ids(text: str) -> list[str]:
    return [c.term_id for c in parse(text).concepts]


def test_words_phrases_and_operators():
    tree = parse('cytarabine "minimal residual disease" OR (induction AND NOT relapse) -maintenance', literal=True).tree
    assert isinstance(tree, Or)
    left, right = tree.items
    assert left == And((Text(("cytarabine",)), Text(("minimal", "residual", "disease"), None, True)))
    assert right == And((And((Text(("induction",)), Not(Text(("relapse",))))), Not(Text(("maintenance",)))))


@pytest.mark.parametrize("typed", ["AML", "aml", "acute myeloid leukaemia", "acute myeloid leukemia",
                                   "acute myelogenous leukemia", "C92.0", "9861/3", "DOID:9119"])
def test_names_codes_and_spellings_of_one_disease(typed):
    assert concept_ids(typed) == [AML]


@pytest.mark.parametrize(("typed", "expected"), [
    ("leukaemia", LEUKAEMIA), ("leukemia", LEUKAEMIA), ("ALL", ALL), ("CLL", "DOID:1040"),
    ("MDS", "DOID:0050908"), ('"Hodgkin\'s disease"', "DOID:8567"), ("Hodgkin's disease", "DOID:8567"),
])
def test_abbreviations_and_synonyms(typed, expected):
    assert concept_ids(typed) == [expected]


def test_a_term_covers_the_diseases_under_it():
    (concept,) = parse("acute leukemia").concepts
    assert AML in concept.ids and ALL in concept.ids
    assert set(concept.ids) == set(diseases().descendants(concept.term_id))


def test_disease_names_are_found_inside_running_text():
    tree = parse("pediatric acute lymphoblastic leukemia cytogenetics").tree
    assert isinstance(tree, And)
    kinds = [type(item).__name__ for item in tree.items]
    assert kinds == ["PopulationWord", "Concept", "Text"]
    assert tree.items[0].population == "paediatric" and tree.items[1].term_id == ALL
    assert [type(i).__name__ for i in parse("pediatric ALL", literal=True).tree.items] == ["Text", "Text"]


def test_all_the_word_is_not_all_the_disease():
    assert concept_ids("all patients") == []
    (concept,) = parse("ALL").concepts
    assert all("ALL" not in text.words for text in concept.texts)  # the word "all" is not searched
    assert any(text.words == ("acute", "lymphoblastic", "leukemia") for text in concept.texts)


def test_literal_search_skips_the_vocabulary():
    parsed = parse("AML", literal=True)
    assert parsed.concepts == [] and parsed.tree == Text(("AML",))


def test_fields():
    tree = parse("disease:CLL country:Netherlands title:ibrutinib population:children phase:III year:2015").tree
    items = tree.items
    assert isinstance(items[0], Concept) and items[0].term_id == "DOID:1040"
    assert items[1] == Facet("country", ("NL",), "Netherlands")
    assert items[2] == Text(("ibrutinib",), "title")
    assert items[3] == Facet("population", ("paediatric",), "children")
    assert items[4] == Facet("phase", ("phase-3",), "III")
    assert items[5] == Facet("year", ("2015",), "2015")
    assert parse('title:"stem cell"').tree == Text(("stem", "cell"), "title", True)


def test_group_field_uses_the_given_lookup():
    assert parse("group:HOVON", groups=lambda name: [7] if name == "HOVON" else []).tree == Facet("group", ("7",), "HOVON")
    with pytest.raises(QueryError, match="no study group"):
        parse("group:NOPE", groups=lambda name: [])


@pytest.mark.parametrize(("typed", "message"), [
    ('"minimal residual', "quotation mark is not closed"),
    ("(AML OR MDS", "parenthesis is not closed"),
    ("AML)", "closing parenthesis without an opening one"),
    ("AML OR", "OR needs something on both sides"),
    ("AND AML", "AND needs something on both sides"),
    ("AML NOT", "NOT needs a search term"),
    ("()", "Something is missing"),
    ('""', "quotation marks are empty"),
    ("disease:", "needs a value"),
    ("colour:red", "not a field one can search in"),
    ("country:Atlantis", "not a country"),
    ("phase:9", "phase: takes"),
    ("year:recent", "year: takes"),
])
def test_errors_say_what_to_do(typed, message):
    with pytest.raises(QueryError, match=message):
        parse(typed)


def test_long_and_deep_queries_are_refused_at_once(monkeypatch):
    """Too long: refused before the text is even split into words (how fast: benchmarks/query_refusal_bench.py)."""
    from harmony.search import query

    def no_work(_text):
        raise AssertionError("a query over the length limit was read before being refused")

    with monkeypatch.context() as patched:
        patched.setattr(query, "_tokens", no_work)
        with pytest.raises(QueryError, match="too long"):
            parse("leukaemia " * 2000)
    with pytest.raises(QueryError, match="too deeply"):
        parse("(" * 40 + "AML" + ")" * 40)
    with pytest.raises(QueryError, match="too many terms"):
        parse(" OR ".join(f"w{n}" for n in range(60)))


def test_analyser_spelling_and_stemming():
    assert analysis.terms("Leukaemias") == analysis.terms("leukemia") == ["leukemia"]
    assert analysis.terms("haematological") == analysis.terms("hematologic")
    assert analysis.terms("paediatric") == analysis.terms("Pediatric")
    assert analysis.terms("C92.0 and 9861/3") == ["c92.0", "9861/3"]
    assert analysis.terms("the of and") == []
