"""HTML forms of the access-request pages. They carry CSRF and the raw input; the services' input
models (`ProposalContent`, `ActionInput`, `InvitationInput`) validate it, once, for the pages and the
JSON API alike.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.widgets import NumberInput

try:  # WTForms 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    def SelectChoice(value: str, label: str) -> tuple[str, str]:  # noqa: N802
        return (value, label)

from harmony.access_requests.content import (
    ATTACHMENT_KINDS,
    FIELD_LABELS,
    LONGEST_DURATION_MONTHS,
    NPUNCU,
    TIME_LIMIT_MONTHS,
    TS,
)
from harmony.catalog import data_use
from harmony.catalog.vocabularies import diseases
from harmony.errors import ValidationError
from harmony.validation import apply_errors

# --- the applicant's pages: basket, proposal form, actions, attachments, co-applicants -------------


def _choices(named: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in named.items()]


TEXT_INPUTS = ("title", "lay_summary", "abstract", "objectives", "methods", "institution", "funding",
               "conflicts_of_interest", "data_security_plan", "publication_plan", "collaborator")
DECLARATIONS = ("publication_commitment", "geographic_declaration", "institution_declaration",
                "non_commercial_declaration", "not_for_profit_declaration")
PURPOSE_FLAGS = ("commercial", "for_profit", "methods", "genetic")
# Where the services' field names land on the form.
FORM_FIELDS = {"purpose": "purpose_code", "purpose.code": "purpose_code", "purpose.disease": "purpose_disease",
               "attachments": "ethics_approval", "file": "ethics_approval",
               **{f"purpose.{flag}": f"purpose_{flag}" for flag in PURPOSE_FLAGS}}


class ProposalForm(FlaskForm):
    """The proposal form, in the sections of the product description."""

    title = StringField(FIELD_LABELS["title"], description="A short title; it appears on the public register "
                                                           "if the proposal is approved.")
    lay_summary = TextAreaField(FIELD_LABELS["lay_summary"],
                                description="What you want to learn and why, in words a patient would understand.")
    abstract = TextAreaField(FIELD_LABELS["abstract"], description="Background, aims, design and expected results.")
    objectives = TextAreaField(FIELD_LABELS["objectives"])
    methods = TextAreaField(FIELD_LABELS["methods"],
                            description="The analyses, the variables you need and how missing data are handled.")
    purpose_code = RadioField(FIELD_LABELS["purpose"], choices=_choices(data_use.PURPOSES), validate_choice=False,
                              description="The kind of research, as the datasets' data-use conditions (DUO) name it.")
    purpose_disease = StringField("Disease (for research on a specific disease)", description=(
        "A name (acute myeloid leukaemia), an abbreviation (AML), an ICD-10 or ICD-O-3 code (C92.0, 9861/3) "
        "or a Disease Ontology id (DOID:9119)."))
    purpose_commercial = BooleanField("The results will be used commercially")
    purpose_for_profit = BooleanField("My organisation is a for-profit organisation")
    purpose_methods = BooleanField("The research develops methods (software, algorithms) beyond the research question")
    purpose_genetic = BooleanField("It is a genetic study (genotypes, alone or with phenotypes)")
    duration_months = StringField(FIELD_LABELS["duration_months"],
                                  widget=NumberInput(min=1, max=LONGEST_DURATION_MONTHS),
                                  description=f"How long you need the data, 1 to {LONGEST_DURATION_MONTHS} months.")
    institution = StringField(FIELD_LABELS["institution"], description="Where the analysis is done.")
    funding = TextAreaField(FIELD_LABELS["funding"], description="Who funds the research, with grant numbers.")
    conflicts_of_interest = TextAreaField(FIELD_LABELS["conflicts_of_interest"],
                                          description="Write “None” if there are none.")
    data_security_plan = TextAreaField(FIELD_LABELS["data_security_plan"], description=(
        "Where the data will be stored and analysed, who can reach them, and how they are deleted afterwards."))
    publication_plan = TextAreaField(FIELD_LABELS["publication_plan"])
    # asked only when a requested dataset's conditions ask for them
    publication_commitment = BooleanField("I commit to publishing the results of this research")
    collaborator = StringField(FIELD_LABELS["collaborator"],
                               description="The person in the study group who collaborates on this research.")
    geographic_declaration = BooleanField("I declare that the data stay within the area the datasets permit")
    institution_declaration = BooleanField("I declare that only my approved institution uses the data")
    non_commercial_declaration = BooleanField("I declare that the data are used for non-commercial purposes only")
    not_for_profit_declaration = BooleanField("I declare that my organisation is not for profit")
    ethics_approval = FileField("Ethics approval (PDF)",
                                description="The approval of your ethics committee (IRB), as a PDF document.")
    add_dataset = StringField("Add a dataset", description="Its identifier, for example HM-000123.")


class StartForm(FlaskForm):
    title = StringField("Title of the proposal", description="You can change it later.")


class ActionForm(FlaskForm):
    comment = TextAreaField("Comment")
    confirm = BooleanField("Yes, I am sure")


class AttachmentForm(FlaskForm):
    kind = SelectField("Kind of document", choices=_choices(ATTACHMENT_KINDS), validate_choice=False)
    file = FileField("PDF document", description="PDF only.")


class InviteForm(FlaskForm):
    email = StringField("E-mail address", render_kw={"type": "email", "autocomplete": "off"},
                        description="They get a link to join; it works for 14 days once they sign in.")


def shown_conditions(requirement_fields: set[str], codes: set[str]) -> list[str]:
    """The condition-driven fields the form asks, in the form's order."""
    wanted = set(requirement_fields)
    if NPUNCU in codes:
        wanted.add("not_for_profit_declaration")
    return [name for name in ("publication_commitment", "collaborator", *DECLARATIONS[1:], "ethics_approval")
            if name in wanted or (name == "ethics_approval" and "attachments" in wanted)]


def duration_help(codes: set[str]) -> str | None:
    return f"A requested dataset allows at most {TIME_LIMIT_MONTHS} months." if TS in codes else None


def _disease_text(term_id: str | None) -> str:
    """The label when typing it back leads to the same term, else the id, so a save changes nothing."""
    if not term_id:
        return ""
    term = diseases().get(term_id)
    if term is None:
        return term_id
    return term.label if diseases().lookup(term.label)[:1] == [term.id] else term.id


def form_data(content: dict[str, Any]) -> dict[str, Any]:
    """The form's values for a stored proposal content."""
    purpose = content.get("purpose") or {}
    data: dict[str, Any] = {key: content.get(key) for key in (*TEXT_INPUTS, *DECLARATIONS)}
    data.update(purpose_code=purpose.get("code"), purpose_disease=_disease_text(purpose.get("disease")),
                duration_months=str(content["duration_months"]) if content.get("duration_months") else "",
                **{f"purpose_{flag}": bool(purpose.get(flag)) for flag in PURPOSE_FLAGS})
    return data


def content_input(form: ProposalForm, shown: set[str]) -> dict[str, Any]:
    """The raw input as the dict `ProposalContent` validates. Fields the page did not show are left
    out, so saving does not clear them; `shown` names the declarations that were on the page."""
    data: dict[str, Any] = {}
    for key in TEXT_INPUTS:
        if getattr(form, key).raw_data:
            data[key] = getattr(form, key).data or None
    if form.duration_months.raw_data:
        data["duration_months"] = (form.duration_months.data or "").strip() or None
    for key in DECLARATIONS:
        if key in shown:
            data[key] = bool(getattr(form, key).data)
    code = (form.purpose_code.data or "").strip()
    disease = (form.purpose_disease.data or "").strip()
    flags = {flag: bool(getattr(form, f"purpose_{flag}").data) for flag in PURPOSE_FLAGS}
    if code or disease or any(flags.values()):
        data["purpose"] = {"code": code, "disease": disease or None, **flags}
    elif form.purpose_code.raw_data or form.purpose_disease.raw_data:
        data["purpose"] = None
    return data


def show_errors(form: ProposalForm, error: ValidationError, shown: list[str]) -> list[str]:
    """Put the services' messages next to the fields they name; returns the datasets' messages,
    which the page shows in its datasets section (and the summary at the top)."""
    renamed: dict[str, list[str]] = {}
    datasets: list[str] = []
    for name, messages in error.fields.items():
        if name == "datasets":
            datasets.extend(messages)
            renamed.setdefault("__form__", []).extend(f"{FIELD_LABELS['datasets']}: {m}" for m in messages)
            continue
        target = FORM_FIELDS.get(name, name.split(".")[0])
        if target == "ethics_approval" and "ethics_approval" not in shown:
            target = "__form__"
        renamed.setdefault(target, []).extend(messages)
    if not error.fields:
        renamed["__form__"] = [error.detail]
    apply_errors(form, ValidationError(error.detail, renamed))
    return datasets


def field_problems(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """The services' messages by the form's field ids (for the autosave's answer)."""
    out: dict[str, list[str]] = {}
    for name, messages in fields.items():
        out.setdefault(FORM_FIELDS.get(name, name.split(".")[0]), []).extend(messages)
    return out
