"""What a proposal holds, and what its requested datasets' data-use conditions demand of it.

`ProposalContent` is the one input model of the form, the autosave and `PATCH /api/v1/requests/<id>`.
Drafts may be incomplete; `submission_problems` lists everything that stops a submission at once.
`requirements` turns the DUO conditions of the requested datasets into what the form must ask,
and `dataset_objections` reuses the catalog's one purpose rule (`catalog.data_use`), so search's
"compatible with my purpose" filter and the proposal cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from harmony.catalog import data_use
from harmony.catalog.content import disease_id, disease_ids, duo_codes
from harmony.catalog.vocabularies import diseases, duo
from harmony.validation import value_from

TIME_LIMIT_MONTHS = 12  # the longest access a dataset with a time limit (DUO TS) grants
LONGEST_DURATION_MONTHS = 60
IRB, PUB, COL, TS, GS, IS = "DUO:0000021", "DUO:0000019", "DUO:0000020", "DUO:0000025", "DUO:0000022", "DUO:0000028"
NCU, NPU, NPUNCU = data_use.NCU, data_use.NPU, data_use.NPUNCU
ETHICS_APPROVAL = "ethics-approval"
ATTACHMENT_KINDS = {ETHICS_APPROVAL: "Ethics approval", "protocol": "Study protocol", "other": "Other document"}

TEXT_FIELDS = {  # field: (label, longest)
    "title": ("Title", 300),
    "lay_summary": ("Lay summary", 3000),
    "abstract": ("Scientific abstract", 5000),
    "objectives": ("Objectives", 5000),
    "methods": ("Methods and statistical analysis plan", 10000),
    "institution": ("Institution", 300),
    "funding": ("Funding", 2000),
    "conflicts_of_interest": ("Conflicts of interest", 2000),
    "data_security_plan": ("Data security plan", 5000),
    "publication_plan": ("Publication plan", 3000),
    "collaborator": ("Collaborator in the study group", 500),
}
MANDATORY = ("title", "lay_summary", "abstract", "objectives", "methods", "purpose", "duration_months", "institution",
             "data_security_plan")
FIELD_LABELS = {**{key: label for key, (label, _) in TEXT_FIELDS.items()},
                "purpose": "Research purpose", "duration_months": "Requested duration (months)",
                "datasets": "Requested datasets", "publication_commitment": "Publication commitment",
                "geographic_declaration": "Geographic declaration", "institution_declaration": "Institution declaration",
                "non_commercial_declaration": "Non-commercial declaration",
                "not_for_profit_declaration": "Not-for-profit declaration", "attachments": "Attachments",
                "co_applicants": "Co-applicants"}


class PurposeInput(BaseModel):
    """The research purpose: a DUO permission (GRU, HMB, DS, POA) and, for DS, the disease."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(json_schema_extra=lambda schema: schema.update(enum=duo_codes(data_use.PURPOSES)))
    disease: str | None = Field(default=None, json_schema_extra=value_from(disease_ids, blank=True))
    commercial: StrictBool = False
    for_profit: StrictBool = False
    methods: StrictBool = False
    genetic: StrictBool = False

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        term = duo().get(value) or duo().by_shorthand(value)
        if term is None or term.id not in data_use.PURPOSES:
            raise ValueError("choose one of GRU, HMB, DS (disease-specific) or POA")
        return term.id

    @field_validator("disease")
    @classmethod
    def _disease(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        found = disease_id(value)
        if found is None:
            raise ValueError(f"unknown disease: {value}")
        return found

    def as_purpose(self) -> data_use.Purpose | None:
        if self.code == data_use.DS and not self.disease:
            return None
        return data_use.Purpose(use=self.code, disease=self.disease, commercial=self.commercial,
                                for_profit=self.for_profit, methods=self.methods, genetic=self.genetic)


class ProposalContent(BaseModel):
    """Every field of the proposal form; all optional while it is a draft."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=300)
    lay_summary: str | None = Field(default=None, max_length=3000)
    abstract: str | None = Field(default=None, max_length=5000)
    objectives: str | None = Field(default=None, max_length=5000)
    methods: str | None = Field(default=None, max_length=10000)
    purpose: PurposeInput | None = None
    duration_months: int | None = Field(default=None, ge=1, le=LONGEST_DURATION_MONTHS)
    institution: str | None = Field(default=None, max_length=300)
    funding: str | None = Field(default=None, max_length=2000)
    conflicts_of_interest: str | None = Field(default=None, max_length=2000)
    data_security_plan: str | None = Field(default=None, max_length=5000)
    publication_plan: str | None = Field(default=None, max_length=3000)
    collaborator: str | None = Field(default=None, max_length=500)
    publication_commitment: StrictBool = False
    geographic_declaration: StrictBool = False
    institution_declaration: StrictBool = False
    non_commercial_declaration: StrictBool = False
    not_for_profit_declaration: StrictBool = False

    @field_validator(*TEXT_FIELDS, mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


EDITABLE_FIELDS = tuple(ProposalContent.model_fields)


@dataclass
class Requirement:
    """What one data-use condition of the requested datasets asks of the proposal."""

    code: str  # DUO id
    shorthand: str
    asks: str  # in the applicant's words
    field: str  # the form field that answers it
    datasets: list[str] = field(default_factory=list)  # PIDs


_ASKS = {
    IRB: ("ethics approval document (PDF)", "attachments"),
    PUB: ("a commitment to publish the results", "publication_commitment"),
    COL: ("the collaborator in the study group", "collaborator"),
    TS: (f"a duration of at most {TIME_LIMIT_MONTHS} months", "duration_months"),
    GS: ("a declaration that the data stay within the permitted area", "geographic_declaration"),
    IS: ("a declaration that only the approved institution uses the data", "institution_declaration"),
    NCU: ("a declaration of non-commercial use", "non_commercial_declaration"),
    NPU: ("a declaration that the organisation is not for profit", "not_for_profit_declaration"),
    NPUNCU: ("declarations of non-commercial use by a not-for-profit organisation", "non_commercial_declaration"),
}


def requirements(datasets: list[tuple[str, dict[str, Any]]]) -> list[Requirement]:
    """The conditions of the requested datasets (PID, published content) that the form must ask about."""
    found: dict[str, Requirement] = {}
    for pid, content in datasets:
        for code in content.get("data_use", []):
            if code in _ASKS:
                asks, answer = _ASKS[code]
                term = duo().get(code)
                entry = found.setdefault(code, Requirement(code, term.shorthand if term else code, asks, answer))
                entry.datasets.append(pid)
    return sorted(found.values(), key=lambda r: r.shorthand)


def dataset_objections(content: dict[str, Any], proposal: dict[str, Any]) -> list[str]:
    """Why the proposal's purpose cannot use this dataset (empty: it can, or no purpose is chosen yet)."""
    purpose = PurposeInput.model_validate(proposal["purpose"]).as_purpose() if proposal.get("purpose") else None
    if purpose is None:
        return []
    return data_use.objections(content.get("data_use", []), content.get("data_use_diseases", []), purpose)


def submission_problems(proposal: dict[str, Any], datasets: list[tuple[str, dict[str, Any]]],
                        attachment_kinds: set[str], unavailable: list[str]) -> dict[str, list[str]]:
    """Everything that stops a submission, by field. `unavailable` lists requested PIDs that cannot be
    reviewed (withdrawn, or no committee governs their study group)."""
    problems: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        problems.setdefault(key, []).append(message)

    for key in MANDATORY:
        if proposal.get(key) in (None, "", []):
            add(key, f"{FIELD_LABELS[key]} is needed before you submit.")
    purpose = proposal.get("purpose") or {}
    if purpose.get("code") == data_use.DS and not purpose.get("disease"):
        add("purpose", "Disease-specific research needs the disease.")
    if not datasets and not unavailable:
        add("datasets", "Ask for at least one dataset.")
    for message in unavailable:
        add("datasets", message)
    for pid, content in datasets:
        for reason in dataset_objections(content, proposal):
            add("datasets", f"{pid}: {reason}")
    for requirement in requirements(datasets):
        pids = ", ".join(requirement.datasets)
        if requirement.code == IRB and ETHICS_APPROVAL not in attachment_kinds:
            add("attachments", f"Attach the ethics approval (PDF): {pids} require it.")
        elif requirement.code == TS and (proposal.get("duration_months") or 0) > TIME_LIMIT_MONTHS:
            add("duration_months", f"{pids} allow at most {TIME_LIMIT_MONTHS} months.")
        elif requirement.code == NPUNCU:
            for key in ("non_commercial_declaration", "not_for_profit_declaration"):
                if not proposal.get(key):
                    add(key, f"{FIELD_LABELS[key]} is needed: {pids} require it.")
        elif requirement.code not in (IRB, TS) and not proposal.get(requirement.field):
            add(requirement.field, f"{FIELD_LABELS.get(requirement.field, requirement.field)} is needed: "
                                   f"{pids} require {requirement.asks}.")
    return problems


def describe_purpose(purpose: dict[str, Any] | None) -> str:
    if not purpose:
        return "not chosen yet"
    words = data_use.PURPOSES.get(purpose.get("code", ""), purpose.get("code", ""))
    if purpose.get("disease") and (term := diseases().get(purpose["disease"])) is not None:
        words += f": {term.label}"
    return words


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Field-by-field differences (label order of the form): (field, old, new)."""
    keys = [key for key in (*EDITABLE_FIELDS, "datasets") if key in old or key in new]
    return [(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]
