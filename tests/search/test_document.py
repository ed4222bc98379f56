"""The document a dataset becomes in the index: its texts analysed once, counted per field, and
kept in order, part by part, for phrases."""

from __future__ import annotations

from datetime import UTC, datetime

from harmony.search import analysis
from harmony.search.schema import Source, document
from tests import factories


def source(**fields) -> Source:
    content = factories.content(acronym=None, **fields).stored()
    return Source(dataset_id=7, pid="HM-00007", group_id=1, group_acronym="HOVON", group_name="Haemato Oncology",
                  content=content, issued_at=datetime(2024, 5, 1, tzinfo=UTC))


def counts(value: analysis.TermCounts) -> dict[str, int]:
    return dict(zip(value, value.counts, strict=True))


def test_each_text_is_a_part_of_its_own_and_counted_once_per_occurrence():
    made = document(source(title="Induction in AML", description="Bone marrow relapse after bone marrow transplant.",
                           provenance="Marrow samples, central laboratory", keywords=["minimal residual disease"],
                           diseases=[]))
    body = counts(made["body"])
    assert body["marrow"] == 3 and body["bone"] == 2 and body["sampl"] == 1
    assert counts(made["title"]) == {"induct": 1, "aml": 1}
    title, names, rest = made["sequence"].decode().strip().split(" || ")
    assert title == "induct aml"
    assert "minim residu diseas" in names.split(" | ")
    parts = rest.split(" | ")
    # the description and the provenance stay apart, so "transplant marrow" is no phrase
    assert parts[:2] == ["bone marrow relaps after bone marrow transplant", "marrow sampl central laboratori"]
    assert parts[2:5] == ["hemato oncolog", "hovon", "hm 00007"]  # group name, acronym, PID


def test_the_part_marker_never_comes_from_a_text():
    made = document(source(title="Factor X deficiency", description="X linked; factor X.", provenance=None, diseases=[]))
    assert analysis.PART not in made["body"] and analysis.PART not in made["names"]
    assert counts(made["body"])["x"] == 2 and counts(made["title"])["x"] == 1
    title, _names, rest = made["sequence"].decode().strip().split(" || ")
    assert title == "factor x defici"
    assert rest.split(" | ")[0] == "x link factor x"


def test_parts_of_texts_with_and_without_accents_read_as_each_text_alone():
    texts = ["Leucémie aiguë myéloïde", "", "Waldenström's disease", "the and of", "ALL in children"]
    found = analysis.terms_of_parts(texts)
    assert analysis.parts(found) == [" ".join(analysis.terms(text)) for text in texts if analysis.terms(text)]
    assert [term for term in found if term != analysis.PART] == [t for text in texts for t in analysis.terms(text)]


def test_term_counts_are_equal_only_with_the_same_counts():
    assert analysis.TermCounts.of(["a", "b", "a"]) == analysis.TermCounts.of(["a", "a", "b"])
    assert analysis.TermCounts.of(["a", "a"]) != analysis.TermCounts.of(["a"])
    assert "'a': 2" in repr(analysis.TermCounts.of(["a", "a"]))
