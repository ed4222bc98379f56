"""Text normalisation for disease names.

Registry conditions, MeSH headings, clinicians' abbreviations and Disease Ontology labels spell
the same disease in many ways (British/American spelling, plurals, possessives, punctuation,
inverted MeSH order, qualifiers such as "recurrent" or "adult"). Everything that compares disease
names goes through `normalise`, so the index and the queries agree on one form.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise", "spelling_variants", "token_key", "candidate_phrases", "strip_qualifiers"]

# British -> American, applied to lower-case tokens. American is canonical because the Disease
# Ontology is written in American English.
_BRITISH_TO_AMERICAN: tuple[tuple[str, str], ...] = (
    ("waldenstroem", "waldenstrom"),
    ("aem", "em"),  # haem-, anaemia, leukaemia, -cythaemia, -globulinaemia, ischaemia
    ("oedem", "edem"),
    ("oesophag", "esophag"),
    ("oestr", "estr"),
    ("foet", "fet"),
    ("diarrhoea", "diarrhea"),
    ("coeliac", "celiac"),
    ("paed", "ped"),  # paediatric, orthopaedic
    ("tumour", "tumor"),
    ("behaviour", "behavior"),
    ("colour", "color"),
    ("centre", "center"),
    ("fibre", "fiber"),
    ("gynaec", "gynec"),
)
_AMERICAN_TO_BRITISH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bhem(?=at|o|ic)"), "haem"),
    (re.compile(r"(?<=[a-z])emia\b"), "aemia"),
    (re.compile(r"\bedema"), "oedema"),
    (re.compile(r"\besophag"), "oesophag"),
    (re.compile(r"\bpediatric"), "paediatric"),
    (re.compile(r"\btumor"), "tumour"),
    (re.compile(r"\bcenter\b"), "centre"),
)
# -ical/-ic and other variants that are not national spellings but mean the same here.
_SAME_WORD = {"hematological": "hematologic"}
# Abbreviations that are also English words keep their case, so "ALL" is a disease and "all" is not.
_CASED_ABBREVIATIONS = {"all", "et"}
_NON_PREFIXED = ("hodgkin", "cleaved", "lymphocytic", "cutaneous", "contiguous", "small")
# Words that carry no meaning for matching names as bags of words.
_STOPWORDS = frozenset({"of", "the", "a", "an", "with", "and", "or", "nos", "type", "in"})


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _americanise(token: str) -> str:
    for british, american in _BRITISH_TO_AMERICAN:
        if british in token:
            token = token.replace(british, american)
    return _SAME_WORD.get(token, token)


def _singular(token: str) -> str:
    if len(token) > 5 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _tokens(text: str) -> list[str]:
    if text.isascii() and text.isalnum():  # one plain word (the search analyser asks for many)
        raws = [text]
    else:
        text = _ascii(text).replace("\u2019", "'").replace("`", "'")
        text = re.sub(r"'s\b", "", text).replace("'", "")
        raws = re.findall(r"[A-Za-z0-9]+", text)
    out: list[str] = []
    for raw in raws:
        if raw.isupper() and raw.lower() in _CASED_ABBREVIATIONS:
            out.append(raw)
            continue
        token = _americanise(raw.lower())
        for rest in _NON_PREFIXED:
            if token.startswith("non") and token[3:].rstrip("s") == rest:
                out.append("non")
                token = token[3:]
                break
        out.append(_singular(token))
    return out


def normalise(text: str) -> str:
    """One comparable form: ASCII, lower case, American spelling, singular, no punctuation."""
    return " ".join(_tokens(text))


def token_key(normalised: str) -> tuple[str, ...]:
    """The words of a normalised name as a sorted set, so MeSH "Leukemia, Myeloid, Acute" and
    "acute myeloid leukemia" meet."""
    return tuple(sorted(set(normalised.split()) - _STOPWORDS))


def spelling_variants(text: str) -> list[str]:
    """The text as given, in American and in British spelling (distinct, original first), for
    query expansion: a search for "leukaemia" must also find "leukemia" and vice versa."""
    lowered = _ascii(text).lower()
    american = " ".join(_americanise(word) for word in lowered.split(" "))
    british = american
    for pattern, replacement in _AMERICAN_TO_BRITISH:
        british = pattern.sub(replacement, british)
    variants = [text]
    for variant in (american, british):
        if variant != lowered and variant not in variants:
            variants.append(variant)
    return variants


_STATUS = re.compile(
    r"\b(?:recurrent|refractory|relapsed|relapsing|relapse|resistant|untreated|progressive|"
    r"persistent|newly diagnosed|previously (?:un)?treated|de novo|secondary|therapy related|"
    r"treatment related|high risk|low risk|standard risk|intermediate risk|poor risk|advanced|"
    r"early|localized|metastatic|aggressive|indolent|low grade|high grade|smoldering|"
    r"smouldering|asymptomatic|symptomatic|unspecified|protocol specific|previously|treated|"
    r"(?:chronic|accelerated|blastic|blast) phase(?: of)?|blast crisis|"
    r"in (?:first |second )?(?:complete )?remission|minimal residual disease|"
    r"(?:non )?contiguous|stage (?:[0-4]|iv|i{1,3})[abc]?|grade (?:[0-4]|i{1,3}|iv)[ab]?)\b"
)
_POPULATION = re.compile(
    r"\b(?:adult|childhood|child|pediatric|adolescent|young adult|elderly|older|infant|infantile|"
    r"juvenile|newborn|neonatal)\b"
)


def strip_qualifiers(normalised: str, population: bool = False) -> str:
    """Drop disease-status qualifiers (and, if asked, age-group words) from a normalised name."""
    text = _STATUS.sub(" ", normalised)
    if population:
        text = _POPULATION.sub(" ", text)
    return " ".join(text.split())


def _without_parentheses(text: str) -> str:
    return re.sub(r"\([^()]*\)", " ", text)


def candidate_phrases(text: str) -> list[str]:
    """Normalised readings of a free-text condition, most specific first.

    The order is the fallback order of `DiseaseVocabulary.match`: the text as written, without
    parentheses, without trailing MeSH qualifiers ("Leukemia, Myelogenous, Chronic, BCR-ABL
    Positive"), before "with ...", then each part of a list ("Multiple Myeloma and Plasma Cell
    Neoplasm"); each reading also without status qualifiers and then without age-group words.
    """
    phrases: list[str] = []

    def add(reading: str) -> None:
        normalised = normalise(reading)
        for form in (normalised, strip_qualifiers(normalised), strip_qualifiers(normalised, True)):
            if form and form not in phrases:
                phrases.append(form)

    bare = _without_parentheses(text)
    readings = [text, bare]
    parts = bare.split(",")
    readings += [",".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]
    readings.append(re.split(r"\bwith\b", bare, maxsplit=1, flags=re.IGNORECASE)[0])
    readings += re.split(r"[/;,()]|\band\b|\bor\b|\bwith\b", text, flags=re.IGNORECASE)
    for reading in readings:
        add(reading)
    return phrases
