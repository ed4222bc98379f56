"""Does a research purpose fit a dataset's data-use conditions (GA4GH DUO)?

`objections` is the one rule: the search filter "compatible with my purpose" and the
access-request form both call it (or `permits`), so they cannot disagree.

Permissions say which research a dataset may serve, from broad to narrow:
no restriction (NRES) and general research use (GRU) allow any research; health/medical/
biomedical research (HMB) allows health research, including disease-specific, but not the
study of population origins or ancestry; disease-specific research (DS) allows research on
the named diseases and the diseases under them in the Disease Ontology; population origins or
ancestry research only (POA) allows just that. Modifiers narrow further: NCU, NPU and NPUNCU
exclude commercial use and for-profit organisations, NPOA excludes ancestry research, NMDS
methods development, GSO anything but genetic studies; clinical care (CC) is needed for a
clinical-care purpose. The other modifiers (ethics approval, publication, collaboration, time,
place, institution, user, project, moratorium, return of results) are conditions to meet, which
the request form asks about; they do not make a purpose incompatible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harmony.catalog.vocabularies import diseases, duo

NRES, HMB, DS, POA, GRU = "DUO:0000004", "DUO:0000006", "DUO:0000007", "DUO:0000011", "DUO:0000042"
NMDS, GSO, NPUNCU, CC = "DUO:0000015", "DUO:0000016", "DUO:0000018", "DUO:0000043"
NPOA, NPU, NCU = "DUO:0000044", "DUO:0000045", "DUO:0000046"

# What each kind of research purpose is, by the permission that names it.
PURPOSES = {
    GRU: "General research (any field, not only health)",
    HMB: "Health, medical or biomedical research",
    DS: "Research on a specific disease",
    POA: "Population origins or ancestry research",
}
# Which dataset permissions allow which purposes.
_ALLOWS = {
    NRES: {GRU, HMB, DS, POA},
    GRU: {GRU, HMB, DS, POA},
    HMB: {HMB, DS},
    DS: {DS},
    POA: {POA},
}


@dataclass(frozen=True)
class Purpose:
    """What a researcher means to do with the data."""

    use: str  # one of PURPOSES (a DUO permission id)
    disease: str | None = None  # a DOID id, for disease-specific research
    commercial: bool = False  # the results are used commercially
    for_profit: bool = False  # the requesting organisation is for profit
    methods: bool = False  # develops methods (software, algorithms) beyond the disease question
    genetic: bool = False  # a genetic study (genotypes, alone or with phenotypes)
    clinical_care: bool = False  # the data serves clinical care, not research

    def __post_init__(self) -> None:
        if self.use not in PURPOSES:
            raise ValueError(f"not a research purpose: {self.use}")
        if self.use == DS and not self.disease:
            raise ValueError("disease-specific research needs the disease")


def _canonical(codes: Iterable[str]) -> set[str]:
    vocabulary = duo()
    found = set()
    for code in codes:
        term = vocabulary.get(code) or vocabulary.by_shorthand(code)
        if term is not None:
            found.add(term.id)
    return found


def _disease_within(disease: str, restricted_to: Iterable[str]) -> bool:
    vocabulary = diseases()
    if disease not in vocabulary:
        return False
    lineage = {vocabulary.get(disease).id, *vocabulary.ancestors(disease)}
    return any(vocabulary.get(allowed) is not None and vocabulary.get(allowed).id in lineage
               for allowed in restricted_to)


def objections(conditions: Iterable[str], data_use_diseases: Iterable[str], purpose: Purpose) -> list[str]:
    """Why the purpose does not fit the conditions; an empty list means it does."""
    terms = _canonical(conditions)
    restricted_to = list(data_use_diseases)
    reasons: list[str] = []
    permissions = [term for term in terms if term in _ALLOWS]
    if not permissions:
        reasons.append("The dataset states no data-use permission.")
    else:
        allowed = [term for term in permissions if purpose.use in _ALLOWS[term]]
        if allowed == [DS] and purpose.use == DS:
            if not restricted_to:
                reasons.append("The dataset is for disease-specific research but names no disease.")
            elif not _disease_within(purpose.disease or "", restricted_to):
                reasons.append("The dataset may only be used for research on its own diseases.")
        elif not allowed:
            reasons.append(f"The dataset's permission does not cover {PURPOSES[purpose.use].lower()}.")
    if purpose.commercial and terms & {NCU, NPUNCU}:
        reasons.append("The dataset is for non-commercial use only.")
    if purpose.for_profit and terms & {NPU, NPUNCU}:
        reasons.append("The dataset is for not-for-profit organisations only.")
    if purpose.use == POA and NPOA in terms:
        reasons.append("The dataset may not be used for population origins or ancestry research.")
    if purpose.methods and NMDS in terms:
        reasons.append("The dataset may not be used for methods development.")
    if GSO in terms and not purpose.genetic:
        reasons.append("The dataset is for genetic studies only.")
    if purpose.clinical_care and CC not in terms:
        reasons.append("The dataset does not allow clinical-care use.")
    return reasons


def permits(conditions: Iterable[str], data_use_diseases: Iterable[str], purpose: Purpose) -> bool:
    """True if the dataset's data-use conditions allow the purpose."""
    return not objections(conditions, data_use_diseases, purpose)
