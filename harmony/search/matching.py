"""From a parsed query to the set of matching documents and the evidence for ranking them.

Each leaf of the query becomes a bitset; AND, OR and NOT become set operations. Ranking
evidence is a list of (documents, weight) parts, summed per document by `bits.Accumulator`: a
term in the title weighs more than in the description, a rare term more than a common one
(BM25's idf), a repeated term a little more, a phrase more than its words apart, and a dataset
about the disease searched for (or a disease under it) most of all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harmony.search import analysis
from harmony.search.query import And, Concept, Facet, Node, Not, PopulationWord, Text
from harmony.search.schema import TEXT_FIELDS
from harmony.search.view import View

REPEAT = 0.4  # extra weight, relative to the field's, where a term appears twice or more
PHRASE = 1.5  # extra weight per term for a phrase found as written
CONCEPT = 6.0  # a dataset about the disease searched for or one under it
CONCEPT_EXACT = 2.0  # ... about exactly that disease
POPULATION = 4.0  # a dataset of the age group searched for (a third of it for all ages)
FACET = 0.5


@dataclass
class Match:
    bits: int
    parts: list[tuple[int, float]] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)  # what to highlight


def idf(view: View, found: int) -> float:
    total = max(view.count, 1)
    frequency = found.bit_count()
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


def evaluate(view: View, node: Node | None) -> Match:
    """Everything the node matches (all live documents for an empty query)."""
    found = _evaluate(view, node) if node is not None else None
    return found if found is not None else Match(view.live)


def _evaluate(view: View, node: Node) -> Match | None:
    """None for a node that constrains nothing (a word that is only a stop word)."""
    if isinstance(node, Text):
        return _text(view, node)
    if isinstance(node, Concept):
        return _concept(view, node)
    if isinstance(node, PopulationWord):
        return _population(view, node)
    if isinstance(node, Facet):
        members = 0
        for value in node.values:
            members |= view.facet(node.field, value)
        return Match(members, [(members, FACET)])
    if isinstance(node, Not):
        inner = _evaluate(view, node.item)
        return None if inner is None else Match(view.live & ~inner.bits)
    children = [m for m in (_evaluate(view, item) for item in node.items) if m is not None]
    if not children:
        return None
    combined = Match(children[0].bits)
    for child in children[1:]:
        combined.bits = combined.bits & child.bits if isinstance(node, And) else combined.bits | child.bits
    for child in children:
        combined.parts += child.parts
        combined.terms |= child.terms
    return combined


def _text(view: View, node: Text) -> Match | None:
    sequence = analysis.terms(" ".join(node.words))
    if not sequence:
        return None
    fields = [node.field] if node.field else list(TEXT_FIELDS)
    result = Match(view.live, terms=set(sequence))
    evidence: list[tuple[int, int, float, float]] = []
    together = dict.fromkeys(fields, view.live)  # documents with every term in that one field
    for term in dict.fromkeys(sequence):
        anywhere = 0
        per_field = []
        for name in fields:
            present, repeated = view.term(name, term)
            per_field.append((present, repeated, TEXT_FIELDS[name]))
            anywhere |= present
            together[name] &= present
        result.bits &= anywhere
        weight = idf(view, anywhere)
        evidence += [(present, repeated, boost * weight, weight) for present, repeated, boost in per_field]
    if node.phrase and len(sequence) > 1:
        # a phrase lies within one field, so only documents with all its terms in one field are read
        candidates = 0
        for members in together.values():
            candidates |= members
        key = ("phrase", tuple(sequence), node.field)
        result.bits = view.memo(key, lambda: view.phrase(sequence, candidates, node.field == "title"))
        result.parts.append((result.bits, PHRASE * sum(w for _, _, _, w in evidence) / len(fields)))
    for present, repeated, weight, _ in evidence:
        result.parts.append((present & result.bits, weight))
        result.parts.append((repeated & result.bits, weight * REPEAT))
    return result


def _concept(view: View, node: Concept) -> Match:
    """The datasets about the disease (or one under it), and those that name it in their text.
    Naming counts once however many of its names match, in the title more than elsewhere."""
    about = 0
    for disease_id in node.ids:
        about |= view.facet("disease", disease_id)
    exact = view.facet("disease_own", node.term_id)
    named = named_in_title = 0
    terms: set[str] = set()
    for text in node.texts:
        found = _text(view, text)
        if found is None:
            continue
        named |= found.bits
        terms |= found.terms
        in_title = found.bits
        for term in found.terms:
            in_title &= view.term("title", term)[0]
        named_in_title |= in_title
    weight = idf(view, about | named)
    parts = [(about, CONCEPT * weight), (exact, CONCEPT_EXACT * weight),
             (named_in_title, TEXT_FIELDS["title"] * weight), (named, weight)]
    return Match(about | named, parts, terms)


def _population(view: View, node: PopulationWord) -> Match:
    """Datasets of that age group first, then those of all ages, then those whose text has the word."""
    only = view.facet("population", node.population)
    every_age = view.facet("population", "both")
    found = _text(view, Text((node.typed,))) or Match(0)
    return Match(only | every_age | found.bits,
                 [(only, POPULATION), (every_age, POPULATION / 3), *found.parts], found.terms)
