"""The query language, and how a query is understood through the disease vocabulary.

    AML cytogenetics                  both words (AND is implied)
    "minimal residual disease"        a phrase
    AML OR MDS, NOT relapse, -relapse operators (upper case) and negation
    (AML OR MDS) AND children         grouping
    disease:CLL  country:NL  group:HOVON  title:ibrutinib  population:paediatric  phase:3  year:2015

Words that name a disease (a label, synonym, abbreviation, ICD-10, ICD-O-3 or DOID code, in
British or American spelling) become a `Concept`: the datasets about that disease or any
disease under it, plus those naming it. Words for an age group ("children", "adults") become
a `PopulationWord`. `parse(..., literal=True)` skips both.
Problems are `QueryError`s with a message for the person who typed the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harmony.catalog import terms as catalog_terms
from harmony.catalog.vocabularies import country as find_country
from harmony.catalog.vocabularies import diseases, normalise

MAX_LENGTH = 500  # characters; longer queries are refused before any work is done
MAX_ATOMS = 40
MAX_DEPTH = 12
MAX_SPAN = 6  # words in a disease name found in running text
FIELDS = ("disease", "country", "group", "title", "population", "phase", "year")
CODE_SCHEMES = ("doid", "icd10", "icd10cm", "icdo", "icdo3", "mesh", "ncit", "nci", "umls", "orpha", "mondo", "omim")
_CODE = re.compile(r"(?i)^(?:[a-z]\d{2}(?:\.\d{1,2})?|\d{4}/\d|[a-z][a-z0-9_]*:\S+)$")
_TOKEN = re.compile(r'\s+|\(|\)|"[^"]*"?|[^\s()"]+')
_POPULATIONS = {"paediatric": "paediatric", "pediatric": "paediatric", "children": "paediatric",
                "child": "paediatric", "childhood": "paediatric", "adult": "adult", "adults": "adult",
                "both": "both"}
_POPULATION_WORDS = {word: key for word, key in _POPULATIONS.items() if key != "both"}


class QueryError(ValueError):
    """The query cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Text:
    words: tuple[str, ...]
    field: str | None = None  # None: every text field; or "title" / "names"
    phrase: bool = False


@dataclass(frozen=True)
class Concept:
    typed: str
    term_id: str
    ids: tuple[str, ...]  # the term and everything under it
    texts: tuple[Text, ...]  # words searched besides the datasets' disease terms


@dataclass(frozen=True)
class PopulationWord:
    """A word for an age group ("paediatric", "children", "adults"), read as that population."""

    typed: str
    population: str  # "paediatric" or "adult"


@dataclass(frozen=True)
class Facet:
    field: str
    values: tuple[str, ...]
    typed: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Text | Concept | PopulationWord | Facet | And | Or | Not


@dataclass
class Parsed:
    tree: Node | None
    concepts: list[Concept] = field(default_factory=list)
    populations: list[PopulationWord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- reading the query --------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    found = [t for t in _TOKEN.findall(text) if not t.isspace()]
    for token in found:
        if token.startswith('"') and (len(token) == 1 or not token.endswith('"')):
            raise QueryError('A quotation mark is not closed. Add the closing " or remove the opening one.')
    return found


class _Parser:
    def __init__(self, tokens: list[str], literal: bool, groups: Callable[[str], list[int]]) -> None:
        self.tokens = tokens
        self.at = 0
        self.literal = literal
        self.groups = groups
        self.atoms = 0
        self.result = Parsed(None)

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        tree = self.or_expression(0)
        if self.peek() is not None:
            token = self.peek()
            raise QueryError("There is a closing parenthesis without an opening one." if token == ")"
                             else f"Could not read the query from “{token}” on.")
        return tree

    def or_expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise QueryError("The query nests parentheses too deeply.")
        items = [self.and_expression(depth)]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("OR needs something on both sides, e.g. AML OR MDS.")
            items.append(self.and_expression(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expression(self, depth: int) -> Node:
        items: list[tuple[Node, bool]] = []  # (node, is a plain word that may join a disease name)
        while (token := self.peek()) not in (None, ")", "OR"):
            if token == "AND":
                self.take()
                if not items or self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND needs something on both sides, e.g. AML AND cytogenetics.")
                continue
            items.append(self.unary(depth))
        if not items:
            raise QueryError("Something is missing: an operator or parentheses without a search term.")
        nodes = self.expand(items)
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self, depth: int) -> tuple[Node, bool]:
        token = self.take()
        if token == "NOT":
            if self.peek() in (None, ")", "OR", "AND", "NOT"):
                raise QueryError("NOT needs a search term after it, e.g. NOT relapsed.")
            return Not(self.expand([self.unary(depth)])[0]), False
        if token == "(":
            inner = self.or_expression(depth + 1)
            if self.peek() != ")":
                raise QueryError("A parenthesis is not closed. Add the closing ) or remove the opening one.")
            self.take()
            return inner, False
        if token.startswith("-") and len(token) > 1:
            self.tokens[self.at - 1] = token[1:]
            self.at -= 1
            return Not(self.expand([self.unary(depth)])[0]), False
        return self.atom(token)

    def count(self) -> None:
        self.atoms += 1
        if self.atoms > MAX_ATOMS:
            raise QueryError(f"The query has too many terms (at most {MAX_ATOMS}). Use the filters instead.")

    def atom(self, token: str) -> tuple[Node, bool]:
        self.count()
        if token.startswith('"'):
            words = tuple(token[1:-1].split())
            if not words:
                raise QueryError("The quotation marks are empty: put the phrase between them.")
            return self.phrase(words), False
        name, colon, value = token.partition(":")
        if colon and name.isalpha():
            if name.lower() in FIELDS:
                if not value:
                    if self.peek() is not None and self.peek().startswith('"'):
                        value = self.take()[1:-1]
                    if not value.strip():
                        raise QueryError(f"{name}: needs a value, e.g. {name.lower()}:{_EXAMPLES[name.lower()]}.")
                return self.fielded(name.lower(), value.strip()), False
            if name.lower() not in CODE_SCHEMES:
                known = ", ".join(f"{f}:" for f in FIELDS)
                raise QueryError(f"“{name}:” is not a field one can search in. Known fields: {known}. "
                                 f"To search the words themselves, put them in quotes.")
        return Text((token,)), True

    def phrase(self, words: tuple[str, ...]) -> Node:
        if not self.literal and (concept := self.concept(" ".join(words))) is not None:
            return concept
        return Text(words, None, len(words) > 1)

    def expand(self, items: list[tuple[Node, bool]]) -> list[Node]:
        """Find disease names among runs of plain words ("acute myeloid leukaemia")."""
        if self.literal:
            return [node for node, _ in items]
        nodes: list[Node] = []
        start = 0
        while start < len(items):
            node, plain = items[start]
            if not plain:
                nodes.append(node)
                start += 1
                continue
            end = start
            while end < len(items) and items[end][1]:
                end += 1
            for length in range(min(MAX_SPAN, end - start), 0, -1):
                words = [items[start + i][0].words[0] for i in range(length)]  # type: ignore[union-attr]
                if (concept := self.concept(" ".join(words))) is not None:
                    nodes.append(concept)
                    start += length
                    break
            else:
                word = node.words[0]  # type: ignore[union-attr]
                if (population := _POPULATION_WORDS.get(word.lower())) is not None:
                    node = PopulationWord(word, population)
                    self.result.populations.append(node)
                nodes.append(node)
                start += 1
        return nodes

    def concept(self, typed: str) -> Concept | None:
        vocabulary = diseases()
        found = vocabulary.lookup(typed)
        if not found:
            return None
        chosen = found if _CODE.match(typed) else found[:1]
        ids = tuple(dict.fromkeys(i for term_id in chosen for i in vocabulary.descendants(term_id)))
        term = vocabulary.get(chosen[0])
        # Datasets that name the disease in their text, under its label or abbreviation, whichever
        # of its names was typed (so every name finds the same datasets); "ALL" the disease is not
        # "all" the word, so names kept in capitals are left out.
        texts: list[Text] = []
        seen: set[str] = set()
        for name in (term.label, *term.abbreviations):
            name = " ".join(re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", name).split())  # "… [RAEB]", "(MGUS)"
            key = normalise(name)
            if key and key not in seen and key == key.lower():
                seen.add(key)
                texts.append(Text(tuple(name.split())))  # its words, not as a phrase: cheap, and enough here
        concept = Concept(typed, term.id, ids, tuple(texts))
        self.result.concepts.append(concept)
        return concept

    def fielded(self, name: str, value: str) -> Node:
        words = tuple(value.split())
        if name == "title":
            return Text(words, "title", len(words) > 1)
        if name == "disease":
            if (concept := self.concept(value)) is not None:
                return concept
            matched = diseases().match(value)
            if matched is not None:
                return self.concept(diseases().get(matched).label) or Text(words, "names", len(words) > 1)
            self.result.notes.append(f"“{value}” is not in the disease vocabulary; disease names were searched for the words.")
            return Text(words, "names", len(words) > 1)
        if name == "country":
            found = find_country(value)
            if found is None:
                raise QueryError(f"“{value}” is not a country name or code known to Harmony.")
            return Facet("country", (found.alpha2,), value)
        if name == "group":
            ids = self.groups(value)
            if not ids:
                raise QueryError(f"There is no study group “{value}”. Use its acronym, e.g. group:HOVON.")
            return Facet("group", tuple(str(i) for i in ids), value)
        if name == "population":
            key = _POPULATIONS.get(value.lower())
            if key is None:
                raise QueryError("population: takes paediatric, adult or both.")
            return Facet("population", (key,), value)
        if name == "phase":
            key = value.lower().removeprefix("phase").strip("- ")
            key = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}.get(key, key)
            if f"phase-{key}" not in catalog_terms.PHASES:
                raise QueryError("phase: takes 1, 2, 3 or 4, e.g. phase:3.")
            return Facet("phase", (f"phase-{key}",), value)
        if not re.fullmatch(r"\d{4}", value):
            raise QueryError("year: takes the year recruitment started, e.g. year:2015.")
        return Facet("year", (value,), value)


_EXAMPLES = {"disease": "AML", "country": "NL", "group": "HOVON", "title": "ibrutinib",
             "population": "paediatric", "phase": "3", "year": "2015"}


def parse(text: str, literal: bool = False, groups: Callable[[str], list[int]] | None = None) -> Parsed:
    """Read a query. `groups` turns a study group acronym into group ids (for group:)."""
    if len(text) > MAX_LENGTH:
        raise QueryError(f"The query is too long ({len(text):,} characters; at most {MAX_LENGTH}).")
    parser = _Parser(_tokens(text), literal, groups or (lambda _name: []))
    parser.result.tree = parser.parse()
    return parser.result
