"""HTML forms of what follows a decision: accepting the agreements, the final report, revoking access, and
the confirmation that closing a project or removing a co-applicant asks for. They carry CSRF and the raw
input; `ActionInput` validates it, as it does for the JSON API, and `show_errors` puts its messages next
to the fields.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired

from harmony.access_requests.forms import SelectChoice
from harmony.errors import ValidationError
from harmony.validation import apply_errors

YES, NO = "yes", "no"
ALL_DATASETS = ""  # the revoke form's choice for every dataset the person may revoke


class ConfirmForm(FlaskForm):
    """Closing the project, removing a co-applicant: "Yes, I am sure" as withdraw and delete ask it."""

    confirm = BooleanField("Yes, I am sure")


class ReportForm(FlaskForm):
    publications = TextAreaField("Publications", description=(
        "One per line: a DOI (10.1000/xyz123), a PubMed id (PMID: 12345678) or a full citation. "
        "They appear on the public register. Leave empty if there are none yet."))
    data_deleted = RadioField("Have the data been deleted?", choices=[
        SelectChoice(YES, "Yes, every copy of the data has been deleted"),
        SelectChoice(NO, "No, not yet (say in the summary when they will be)")], validate_choice=False,
        validators=[DataRequired()])  # marks it required; ActionInput checks
    summary = TextAreaField("Summary", description="What the project found or produced, in a few sentences. "
                                                   "The committees and the data office read it; the register does not.")


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired()],  # marks it required; ActionInput checks
                           description="The applicants and the coordinator receive it.")
    dataset = SelectField("Datasets", validate_choice=False)
    confirm = BooleanField("Yes, I am sure")


def agreement_form(agreements: list[Any], formdata: Any = None) -> FlaskForm:
    """A checkbox "I have read and accept …" per agreement still to accept (`AgreementView`s), and the
    version shown with each, which the form posts back so that a changed agreement is noticed."""

    class AgreementForm(FlaskForm):
        pass

    for agreement in agreements:
        committee = agreement.committee
        setattr(AgreementForm, f"accept_{committee.id}", BooleanField(
            f"I have read and accept the data access agreement of {committee.name} (version {agreement.version})"))
        setattr(AgreementForm, f"version_{committee.id}", HiddenField(default=str(agreement.version)))
    return AgreementForm() if formdata is None else AgreementForm(formdata=formdata)


def shown_versions(form: FlaskForm, agreements: list[Any]) -> dict[int, int]:
    """The version of each agreement as the page showed it (0, a version that never was, when it was not
    on the page: the service then asks to read the current one); a box left unticked is a field error."""
    missing: dict[str, list[str]] = {}
    versions: dict[int, int] = {}
    for agreement in agreements:
        committee = agreement.committee
        if not getattr(form, f"accept_{committee.id}").data:
            missing[f"accept_{committee.id}"] = [f"Tick the box to accept the agreement of {committee.name}."]
        raw = (getattr(form, f"version_{committee.id}").data or "").strip()
        versions[committee.id] = int(raw) if raw.isdigit() else 0
    if missing:
        raise ValidationError("Accept every agreement to continue.", missing)
    return versions


def report_input(form: ReportForm) -> dict[str, Any]:
    """The final report as `ActionInput` takes it: a publication per line, yes/no, the summary as comment."""
    chosen = form.data_deleted.data
    return {"publications": [line for line in (form.publications.data or "").splitlines() if line.strip()],
            "data_deleted": {YES: True, NO: False}.get(chosen or ""), "comment": form.summary.data}


def report_data(report: Any) -> dict[str, Any]:
    """A filed report's values for the form, to correct it."""
    return {"publications": "\n".join(report.publications or []), "data_deleted": YES if report.data_deleted else NO,
            "summary": report.summary or ""}


def revoke_choices(datasets: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(ALL_DATASETS, "Every dataset of this proposal that you may revoke"),
            *(SelectChoice(pid, f"{title} ({pid})") for pid, title in datasets)]


# Where `ActionInput`'s field names land on each form.
RENAMED = {"report": {"comment": "summary"}, "revoke": {"comment": "reason"}}


def show_errors(form: FlaskForm, key: str, error: ValidationError) -> None:
    """The service's messages next to the form's fields; anything else at the form's top."""
    renamed: dict[str, list[str]] = {}
    for name, messages in error.fields.items():
        target = name.split(".")[0]
        renamed.setdefault(RENAMED.get(key, {}).get(target, target), []).extend(messages)
    if not error.fields:
        renamed["__form__"] = [error.detail]
    apply_errors(form, ValidationError(error.detail, renamed))
