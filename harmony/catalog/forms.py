"""The curation forms, and how a description's fields are named and read in words.

The forms carry CSRF and the curator's raw input only; `content_input` turns it into the dict
`DatasetContent` expects and the model's validators decide (validate once). The same labels
serve the form, the landing page, the fix-it list and the version comparison.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields import SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput

try:  # WTForms 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    def SelectChoice(value: str, label: str) -> tuple[str, str]:  # noqa: N802
        return (value, label)

from harmony.catalog import formats, terms
from harmony.catalog.content import DatasetContent, completeness
from harmony.catalog.vocabularies import countries, country, diseases, duo
from harmony.errors import ValidationError
from harmony.validation import apply_errors, parse

FIELD_LABELS = {
    "title": "Title", "acronym": "Acronym", "description": "Description", "keywords": "Keywords",
    "diseases": "Diseases", "population": "Population", "age_min": "Youngest age (years)",
    "age_max": "Oldest age (years)", "n_patients": "Number of patients", "n_records": "Number of records",
    "countries": "Countries", "study_type": "Study type", "phases": "Phase",
    "recruitment_start": "Recruitment start", "recruitment_end": "Recruitment end",
    "registrations": "Trial registrations", "data_types": "Data types", "standards": "Standards",
    "provenance": "Provenance", "data_use": "Data-use conditions", "data_use_diseases": "Diseases of the DS condition",
    "access_rights": "Access rights", "legal_basis": "Legal basis", "purpose": "Purpose",
    "licence": "Licence of the description", "contact_point": "Contact point", "creators": "Creators",
    "publications": "Publications", "version_notes": "Notes for the next version",
    "distributions": "Distributions",
}

# Where each check of the fix-it list is fixed (a field id of the edit form).
FIX_TARGETS = {
    "contact_point": "contact_name", "contact": "contact_name", "creators": "creators-0-name",
    "orcid": "creators-0-orcid", "disease-codes": "diseases", "temporal": "recruitment_start",
    "registration": "registrations", "data-use": "data_use", "licence": "licence-0", "pid": "title",
    "population": "population-0", "phases": "phases-0", "data_types": "data_types-0", "standards": "standards-0",
    "legal_basis": "legal_basis-0", "purpose": "purpose-0", "distributions": "distributions-0-title",
}

_NAMED = {"population": terms.POPULATIONS, "study_type": terms.STUDY_TYPES, "phases": terms.PHASES,
          "data_types": terms.DATA_TYPES, "standards": terms.STANDARDS, "legal_basis": terms.LEGAL_BASES,
          "purpose": terms.PURPOSES, "licence": terms.LICENCES, "access_rights": terms.ACCESS_RIGHTS}


def term_label(key: str, value: Any) -> str:
    """One stored value in words: a disease id becomes its label, a country code its name."""
    if key in _NAMED:
        return _NAMED[key].get(value, str(value))
    if key in ("diseases", "data_use_diseases"):
        term = diseases().get(value)
        return term.label if term else str(value)
    if key == "countries":
        found = country(value)
        return found.name if found else str(value)
    if key == "data_use":
        found = duo().get(value)
        return f"{found.label} ({found.shorthand})" if found else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_value(key: str, value: Any) -> str:
    """A whole field in words, for comparisons of versions."""
    if value in (None, "", [], {}):
        return "—"
    if key == "contact_point":
        return f"{value.get('name')} <{value.get('email')}>"
    if key == "creators":
        return "; ".join(p["name"] + (f" (ORCID {p['orcid']})" if p.get("orcid") else "") for p in value)
    if key == "distributions":
        return "; ".join(distribution_words(d) for d in value)
    if isinstance(value, list):
        return ", ".join(term_label(key, item) for item in value)
    return term_label(key, value)


def distribution_words(distribution: dict[str, Any]) -> str:
    """One distribution in a line: "SDTM datasets (SAS transport (XPT) …, about 2.5 GB, …)"."""
    parts = [formats.media_label(distribution["media_type"])]
    if distribution.get("byte_size") is not None:
        parts.append(formats.approximate_size(distribution["byte_size"]))
    parts += [formats.standard_label(uri) for uri in distribution.get("conforms_to", [])]
    parts.append(formats.DELIVERY.get(distribution.get("delivery", ""), str(distribution.get("delivery"))))
    return f"{distribution['title']} ({', '.join(parts)})"


def plain_duo(definition: str) -> str:
    """DUO's definitions start "This data use modifier indicates that ..."; keep what follows."""
    text = re.sub(r"^This data use (permission|modifier) indicates( that)? ", "", definition.strip())
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


# --- the forms ------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the form macro renders it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PersonForm(Form):
    name = StringField("Name")
    orcid = StringField("ORCID iD")
    affiliation = StringField("Affiliation")


def _choices(named: dict[str, str]) -> list[Any]:
    return [SelectChoice(value, label) for value, label in named.items()]


DISTRIBUTION_LABELS = {"title": "Name", "media_type": "Format", "byte_size": "Approximate size",
                       "conforms_to": "Standards the files conform to", "delivery": "Delivery"}


class DistributionForm(Form):
    """One row of the distributions; `DatasetForm` numbers the labels ("Format of distribution 2")."""

    title = StringField("Name", description="What this part holds, e.g. “SDTM datasets”.")
    media_type = SelectField("Format", choices=_choices({"": "Choose a format", **{
        m.uri: m.label for m in formats.MEDIA_TYPES}}), validate_choice=False)
    byte_size = StringField("Approximate size", description="In bytes, or like 2.5 GB or 800 MB.")
    conforms_to = StringField("Standards the files conform to", description=(
        "Separated by commas: names from the list (CDISC SDTM, CDISC Dataset-JSON, HL7 FHIR …) or URIs."))
    delivery = SelectField("Delivery", choices=_choices({"": "Choose how", **formats.DELIVERY}),
                           validate_choice=False)


def _number(label: str, step: str = "1", **kwargs: Any) -> StringField:
    # A string field: the number is checked once, by DatasetContent, with its message.
    return StringField(label, widget=NumberInput(step=step, min=0), **kwargs)


class DatasetForm(FlaskForm):
    lock_version = HiddenField()
    # About
    title = StringField(FIELD_LABELS["title"], description="As in the trial protocol or cohort description.")
    acronym = StringField(FIELD_LABELS["acronym"], description="For example HOVON-132.")
    description = TextAreaField(FIELD_LABELS["description"],
                                description="What the dataset holds and why it was collected; at least 50 characters.")
    keywords = StringField(FIELD_LABELS["keywords"], description="Separated by commas.")
    # Diseases & population
    diseases = TextAreaField(FIELD_LABELS["diseases"], description=(
        "One per line: a name (acute myeloid leukaemia), an abbreviation (AML), an ICD-10 or ICD-O-3 code "
        "(C92.0, 9861/3) or a Disease Ontology id (DOID:9119)."))
    population = RadioField(FIELD_LABELS["population"], choices=_choices(terms.POPULATIONS), validate_choice=False)
    age_min = _number(FIELD_LABELS["age_min"], step="any")
    age_max = _number(FIELD_LABELS["age_max"], step="any")
    n_patients = _number(FIELD_LABELS["n_patients"], description="Unique individuals.")
    n_records = _number(FIELD_LABELS["n_records"])
    countries = TextAreaField(FIELD_LABELS["countries"],
                              description="One per line or separated by commas: names or ISO codes (NL, DEU).")
    # Design & dates
    study_type = SelectField(FIELD_LABELS["study_type"], choices=_choices({"": "Not stated", **terms.STUDY_TYPES}),
                             validate_choice=False)
    phases = MultiCheckboxField(FIELD_LABELS["phases"], choices=_choices(terms.PHASES))
    recruitment_start = StringField(FIELD_LABELS["recruitment_start"], widget=DateInput())
    recruitment_end = StringField(FIELD_LABELS["recruitment_end"], widget=DateInput())
    registrations = TextAreaField(FIELD_LABELS["registrations"],
                                  description="NCT, EudraCT, EU CT or ISRCTN numbers, one per line.")
    # Data
    data_types = MultiCheckboxField(FIELD_LABELS["data_types"], choices=_choices(terms.DATA_TYPES))
    standards = MultiCheckboxField(FIELD_LABELS["standards"], choices=_choices(terms.STANDARDS))
    provenance = TextAreaField(FIELD_LABELS["provenance"],
                               description="Where the data comes from and how it was collected and cleaned.")
    # Access & legal
    data_use = MultiCheckboxField(FIELD_LABELS["data_use"])
    data_use_diseases = TextAreaField(FIELD_LABELS["data_use_diseases"],
                                      description="Only for disease-specific research (DS): the diseases, one per line.")
    access_rights = RadioField(FIELD_LABELS["access_rights"], choices=_choices(terms.ACCESS_RIGHTS),
                               default="non-public", validate_choice=False)
    legal_basis = MultiCheckboxField(FIELD_LABELS["legal_basis"], choices=_choices(terms.LEGAL_BASES))
    purpose = MultiCheckboxField(FIELD_LABELS["purpose"], choices=_choices(terms.PURPOSES),
                                 description="The purpose for which the data was first collected.")
    licence = RadioField(FIELD_LABELS["licence"], choices=_choices(terms.LICENCES), default=terms.CC0,
                         validate_choice=False)
    # People & publications
    contact_name = StringField("Contact name", description="A person or a data office.")
    contact_email = StringField("Contact e-mail", render_kw={"type": "email", "autocomplete": "email"})
    creators = FieldList(FormField(PersonForm), label=FIELD_LABELS["creators"])
    publications = TextAreaField(FIELD_LABELS["publications"], description="DOIs, one per line.")
    # Distributions
    distributions = FieldList(FormField(DistributionForm), label=FIELD_LABELS["distributions"])
    version_notes = TextAreaField(FIELD_LABELS["version_notes"],
                                  description="What changed; shown in the version history when you publish.")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.data_use.choices = _choices({t.id: f"{t.label} ({t.shorthand})" for t in duo().all()})
        for number, entry in enumerate(self.distributions.entries, start=1):  # each control its own name
            for key, label in DISTRIBUTION_LABELS.items():
                getattr(entry.form, key).label.text = f"{label} of distribution {number}"


class PublishForm(FlaskForm):
    notes = TextAreaField("Version notes", description="What changed in this version, for the version history.")


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Reason for withdrawal", render_kw={"required": True},
                           description="Shown to everyone on the dataset's page. At least one sentence.")


# --- from content to form and back --------------------------------------------------------


def _disease_line(term_id: str) -> str:
    """The label when it leads back to the same term, else the id, so a save changes nothing."""
    vocabulary = diseases()
    term = vocabulary.get(term_id)
    if term is None:
        return term_id
    return term.label if vocabulary.lookup(term.label)[:1] == [term.id] else term.id


def _country_line(code: str) -> str:
    found = country(code)
    if found is None:
        return code
    head, comma, tail = found.name.partition(", ")
    return f"{tail} {head}" if comma else found.name  # "Korea, Republic of" would split at the comma


def country_names() -> list[str]:
    """Every country as the curator may type it, for the picker's suggestions."""
    return [_country_line(found.alpha2) for found in countries()]


def _distribution_row(distribution: dict[str, Any]) -> dict[str, Any]:
    """A stored distribution as the form shows it: standards by name where listed, else by URI."""
    size = distribution.get("byte_size")
    return {**distribution, "byte_size": str(size) if size is not None else None,
            "conforms_to": ", ".join(formats.standard_label(uri) if formats.standard_uri(formats.standard_label(uri))
                                     == uri else uri for uri in distribution.get("conforms_to", []))}


def _number_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def form_data(content: dict[str, Any], lock_version: int | None = None) -> dict[str, Any]:
    """The form's initial values for a stored content; one empty creator row to add another."""
    data: dict[str, Any] = {key: content.get(key) for key in (
        "title", "acronym", "description", "population", "study_type", "recruitment_start", "recruitment_end",
        "provenance", "version_notes", "phases", "data_types", "standards", "data_use", "legal_basis", "purpose")}
    data.update(
        lock_version=lock_version,
        keywords=", ".join(content.get("keywords", [])),
        diseases="\n".join(_disease_line(d) for d in content.get("diseases", [])),
        data_use_diseases="\n".join(_disease_line(d) for d in content.get("data_use_diseases", [])),
        countries="\n".join(_country_line(c) for c in content.get("countries", [])),
        registrations="\n".join(content.get("registrations", [])),
        publications="\n".join(content.get("publications", [])),
        access_rights=content.get("access_rights", "non-public"),
        licence=content.get("licence", terms.CC0),
        contact_name=(content.get("contact_point") or {}).get("name"),
        contact_email=(content.get("contact_point") or {}).get("email"),
        creators=[*content.get("creators", []), {}],
        distributions=[*(_distribution_row(d) for d in content.get("distributions", [])), {}],
    )
    for key in ("age_min", "age_max", "n_patients", "n_records"):
        data[key] = _number_text(content[key]) if content.get(key) is not None else None
    return data


def _lines(text: str | None, whole_line_is_a_term) -> list[str]:
    """One item per line; a line is also split at commas unless it names a term as a whole."""
    items: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and re.search(r"[,;]", line) and not whole_line_is_a_term(line):
            items += [part.strip() for part in re.split(r"[,;]", line) if part.strip()]
        elif line:
            items.append(line)
    return items


def _blank_none(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


def _names_a_disease(line: str) -> bool:
    return bool(diseases().lookup(line))


def _names_a_country(line: str) -> bool:
    return country(line) is not None


def _people(form: DatasetForm) -> list[Any]:
    """The creator rows with anything typed in them (empty rows are how one adds or removes)."""
    return _rows(form.creators)


def _rows(field: FieldList) -> list[Any]:
    """The rows of a repeated group with anything typed in them."""
    return [entry for entry in field.entries if any(_blank_none(value) for value in entry.data.values())]


def content_input(form: DatasetForm) -> dict[str, Any]:
    """The raw input as the dict DatasetContent validates (nothing is checked here)."""
    data: dict[str, Any] = {key: _blank_none(getattr(form, key).data) for key in (
        "title", "acronym", "description", "population", "study_type", "recruitment_start", "recruitment_end",
        "provenance", "version_notes", "age_min", "age_max", "n_patients", "n_records")}
    data.update(
        keywords=form.keywords.data or "",
        diseases=_lines(form.diseases.data, _names_a_disease),
        data_use_diseases=_lines(form.data_use_diseases.data, _names_a_disease),
        countries=_lines(form.countries.data, _names_a_country),
        registrations=form.registrations.data or "",
        publications=form.publications.data or "",
        access_rights=form.access_rights.data or "non-public",
        licence=form.licence.data or terms.CC0,
    )
    for key in ("phases", "data_types", "standards", "data_use", "legal_basis", "purpose"):
        data[key] = list(getattr(form, key).data or [])
    name, email = _blank_none(form.contact_name.data), _blank_none(form.contact_email.data)
    data["contact_point"] = {"name": name or "", "email": email or ""} if (name or email) else None
    data["creators"] = [{key: _blank_none(value) or ("" if key == "name" else None)
                         for key, value in entry.data.items()} for entry in _people(form)]
    data["distributions"] = [{key: _blank_none(value) or (None if key == "byte_size" else "")
                              for key, value in entry.data.items()} for entry in _rows(form.distributions)]
    return data


def show_errors(form: DatasetForm, error: ValidationError) -> None:
    """Put DatasetContent's messages next to the fields the curator typed them into."""
    rows = {"creators": (_people(form), "Creator"), "distributions": (_rows(form.distributions), "Distribution")}
    renamed: dict[str, list[str]] = {}
    for name, messages in error.fields.items():
        parts = name.split(".")
        if parts[0] == "contact_point":
            target = "contact_email" if parts[-1] == "email" else "contact_name"
        elif (parts[0] in rows and len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(rows[parts[0]][0])
              and hasattr(rows[parts[0]][0][int(parts[1])].form, parts[2])):
            entries, what = rows[parts[0]]
            subfield = getattr(entries[int(parts[1])].form, parts[2])
            subfield.errors = list(subfield.errors) + messages
            target = "__form__"
            label = DISTRIBUTION_LABELS[parts[2]] if parts[0] == "distributions" else subfield.label.text
            messages = [f"{what} {int(parts[1]) + 1}, {label}: {m}" for m in messages]
        elif parts[0] == "__root__":
            for message in messages:  # model checks name their field first: "age_min: ..."
                key, colon, rest = message.partition(": ")
                renamed.setdefault(key if colon and key in FIELD_LABELS else "__form__", []).append(
                    rest if colon and key in FIELD_LABELS else message)
            continue
        else:
            target = parts[0]
        renamed.setdefault(target, []).extend(messages)
    apply_errors(form, ValidationError(error.detail, renamed))


def live_completeness(form: DatasetForm) -> dict[str, Any]:
    """The score and fix-it list of the input as typed so far, by the rules of `completeness`.

    Fields that do not validate yet (a half-typed disease) count as empty; their messages come
    back in `errors` and appear next to the fields on saving.
    """
    data = content_input(form)
    errors: dict[str, list[str]] = {}
    stored: dict[str, Any] = {}
    while data:
        try:
            stored = parse(DatasetContent, data).stored()
            break
        except ValidationError as error:
            errors.update(error.fields)
            named = {name.split(".")[0] for name in error.fields}
            named |= {message.partition(": ")[0] for message in error.fields.get("__root__", [])}
            if not named & set(data):
                break
            for key in named & set(data):
                data.pop(key)
    score, fixes = completeness(stored)
    return {"score": score, "errors": errors,
            "fixes": [{"key": c.key, "label": c.label, "kind": c.kind, "advice": c.advice,
                       "target": FIX_TARGETS.get(c.key, c.key)} for c in fixes]}
