"""Forms and words of the committee pages: a review's actions, screening, the admins' committees.

The forms carry CSRF and raw input only; `ActionInput` and `CommitteeInput` validate (validate once).
Field names are the input models' own (`vote`, `comment`, `outcome`, `reason`), so a page posts what
the API takes; the ids differ per form because one review page holds several forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired
from wtforms.widgets import NumberInput

from harmony.access_requests.content import ATTACHMENT_KINDS, FIELD_LABELS, Requirement, describe_purpose, diff
from harmony.access_requests.models import APPROVED, REJECTED, VOTES, Committee
from harmony.access_requests.rules import RULE_NAMES
from harmony.catalog.forms import MultiCheckboxField, SelectChoice, plain_duo
from harmony.catalog.vocabularies import duo
from harmony.errors import NotFound

VOTE_LABELS = {"approve": "Approve", "approve-with-conditions": "Approve with conditions", "reject": "Reject",
               "abstain": "Abstain"}
OUTCOME_LABELS = {APPROVED: "approved", REJECTED: "rejected", "partially_approved": "partially approved"}
SCREENING_ACTIONS = ("return", "send-to-review")
DONE = {  # the flash message after each review action
    "vote": "Your vote is recorded. You can change it until voting closes.",
    "declare-conflict": "Your conflict of interest is recorded: you are recused from this review.",
    "ask-question": "Your question is sent to the applicant; the review waits for the answer.",
    "close-voting": "Voting is closed. Record the decision when you are ready.",
    "decide": "The committee's decision is recorded.",
    "return": "The proposal is returned to the applicant with your comment.",
    "send-to-review": "The proposal is sent to the committees.",
}


# --- a review's actions -----------------------------------------------------------------------


class VoteForm(FlaskForm):
    vote = RadioField("Your vote", id="vote-vote", validate_choice=False,
                      choices=[SelectChoice(value, VOTE_LABELS[value]) for value in VOTES])
    comment = TextAreaField("Comment", id="vote-comment",
                            description="Your reasons; for “approve with conditions”, the conditions.")

    def action_input(self) -> dict[str, Any]:
        return {"vote": self.vote.data or None, "comment": self.comment.data}


class ConflictForm(FlaskForm):
    comment = TextAreaField("Reason", id="conflict-comment",
                            description="For example: I co-authored the protocol. The chair and the coordinators see it.")
    confirm = BooleanField("I have a conflict of interest: I will not vote on this review, and my vote, if any, is "
                           "withdrawn.", id="conflict-confirm",
                           validators=[DataRequired("Tick the box to confirm that you declare a conflict of interest.")])

    def action_input(self) -> dict[str, Any]:
        return {"comment": self.comment.data}


class QuestionForm(FlaskForm):
    comment = TextAreaField("Your question to the applicant", id="question-comment",
                            description="Voting pauses until the applicant answers.")

    def action_input(self) -> dict[str, Any]:
        return {"comment": self.comment.data}


class CloseForm(FlaskForm):
    """A button: close the voting (the chair)."""

    def action_input(self) -> dict[str, Any]:
        return {}


class DecideForm(FlaskForm):
    outcome = RadioField("Decision", id="decide-outcome", validate_choice=False)
    reason = TextAreaField("Reason for the decision", id="decide-reason",  # the conflict form has a "Reason" too
                           description="Needed when you override the computed outcome; recorded in the audit trail.")

    def offer(self, computed: str | None) -> None:
        """Confirm the computed outcome, or override it with the other one."""
        if computed is None:
            self.outcome.choices = [SelectChoice(APPROVED, "Approved"), SelectChoice(REJECTED, "Rejected")]
            return
        other = REJECTED if computed == APPROVED else APPROVED
        self.outcome.choices = [SelectChoice(computed, f"Confirm the computed outcome ({OUTCOME_LABELS[computed]})"),
                                SelectChoice(other, f"Override: record “{OUTCOME_LABELS[other]}” instead")]

    def action_input(self) -> dict[str, Any]:
        return {"outcome": self.outcome.data or None, "reason": self.reason.data}


REVIEW_FORMS: dict[str, type[FlaskForm]] = {"vote": VoteForm, "declare-conflict": ConflictForm,
                                            "ask-question": QuestionForm, "close-voting": CloseForm,
                                            "decide": DecideForm}


def review_form(name: str, computed: str | None, posted: bool = False) -> FlaskForm:
    """The form of one review action: bound to the posted input, or empty (other forms on the page)."""
    kind = REVIEW_FORMS.get(name)
    if kind is None:
        raise NotFound(f"A review has no action {name!r}.")
    form = kind() if posted else kind(formdata=None)
    if isinstance(form, DecideForm):
        form.offer(computed)
        if not posted:
            form.outcome.data = computed
    return form


# --- screening --------------------------------------------------------------------------------


class ReturnForm(FlaskForm):
    comment = TextAreaField("What the applicant should change", id="return-comment",
                            description="Required. The applicant sees it with the returned proposal.")

    def action_input(self) -> dict[str, Any]:
        return {"comment": self.comment.data}


class SendForm(FlaskForm):
    """A button: send the proposal to the committees."""

    def action_input(self) -> dict[str, Any]:
        return {}


SCREENING_FORMS: dict[str, type[FlaskForm]] = {"return": ReturnForm, "send-to-review": SendForm}


def screening_form(name: str, posted: bool = False) -> FlaskForm:
    kind = SCREENING_FORMS.get(name)
    if kind is None:
        raise NotFound(f"The screening page has no action {name!r}.")
    return kind() if posted else kind(formdata=None)


# --- committees -------------------------------------------------------------------------------


class CommitteeForm(FlaskForm):
    name = StringField("Name", id="committee-name", description="For example: HOVON Data Access Committee.")
    rule = SelectField("Decision rule", choices=[SelectChoice(key, label) for key, label in RULE_NAMES.items()],
                       validate_choice=False)
    # Strings: the numbers are checked once, by CommitteeInput, with its messages.
    quorum = StringField("Quorum", widget=NumberInput(step="any", min=0),
                         description="A whole number of votes (2), or a fraction of the members who are not "
                                     "recused (0.5).")
    voting_days = StringField("Voting days", widget=NumberInput(min=1, max=365),
                              description="Days from sending a proposal to the committee to its voting deadline.")
    answer_days = StringField("Days to answer", widget=NumberInput(min=1, max=365),
                              description="Days the applicant has to answer the committee's question; reminded 3 "
                                          "days before, the chair and coordinators are told after.")
    agreement_days = StringField("Days to accept the agreement", widget=NumberInput(min=1, max=365),
                                 description="Days the applicants have to accept the agreement after an approval "
                                             "(the shortest of the approving committees counts).")
    agreement = TextAreaField("Data access agreement",
                              description="What applicants accept after an approval. A changed text becomes a new "
                                          "version; the versions accepted earlier are kept.")


class EditCommitteeForm(CommitteeForm):
    groups = MultiCheckboxField("Study groups it governs", coerce=int, validate_choice=False,
                                description="A study group has one committee: choosing a group that another "
                                            "committee governs moves it here. A group you untick has no committee "
                                            "until another takes it, and its datasets cannot be requested meanwhile.")


def committee_input(form: CommitteeForm) -> dict[str, Any]:
    found = {"name": form.name.data or "", "rule": form.rule.data, "quorum": (form.quorum.data or "").strip(),
             "voting_days": (form.voting_days.data or "").strip(), "agreement": form.agreement.data or None}
    for name in ("answer_days", "agreement_days"):  # not posted at all (an older form): the default
        if form[name].raw_data:
            found[name] = (form[name].data or "").strip()
    return found


def committee_data(committee: Committee | None, agreement: str | None = None,
                   groups: list[int] | None = None) -> dict[str, Any]:
    """What the form shows for a stored committee, or the defaults of a new one."""
    if committee is None:
        return {"rule": "majority", "quorum": "0.5", "voting_days": "14", "answer_days": "14", "agreement_days": "30"}
    return {"name": committee.name, "rule": committee.rule, "quorum": f"{committee.quorum:g}",
            "voting_days": str(committee.voting_days), "answer_days": str(committee.answer_days),
            "agreement_days": str(committee.agreement_days), "agreement": agreement or "", "groups": groups or []}


# --- words --------------------------------------------------------------------------------------


def conditions(codes: list[str]) -> list[dict[str, str]]:
    """A dataset's DUO codes in words."""
    found = []
    for code in codes:
        term = duo().get(code)
        found.append({"code": code, "shorthand": term.shorthand if term else code, "label": term.label if term else code,
                      "definition": plain_duo(term.definition) if term and term.definition else ""})
    return found


def format_value(key: str, value: Any) -> str:
    """One field of a proposal in words, for the comparison of a resubmission."""
    if value in (None, "", [], {}):
        return "—"
    if key == "purpose":
        return describe_purpose(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if key == "duration_months":
        return f"{value} months"
    return str(value)


def changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What changed between two snapshots of a proposal, in the form's order: (label, before, now)."""
    return [(FIELD_LABELS.get(key, key), format_value(key, was), format_value(key, now))
            for key, was, now in diff(old or {}, new)]


def answer(requirement: Requirement, content: dict[str, Any], attachment_kinds: set[str]) -> str:
    """How the proposal answers one requirement of the datasets' conditions."""
    if requirement.field == "attachments":
        return "Ethics approval attached" if "ethics-approval" in attachment_kinds else "No ethics approval attached"
    value = content.get(requirement.field)
    if requirement.field == "duration_months":
        return format_value("duration_months", value)
    if isinstance(value, bool) or value is None:
        return "Declared" if value else "Not declared"
    return str(value)


def attachment_kind(kind: str) -> str:
    return ATTACHMENT_KINDS.get(kind, kind)


def waited(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "—"
    delta = now - since
    if delta.days >= 1:
        return f"{delta.days} day{'' if delta.days == 1 else 's'}"
    hours = delta.seconds // 3600
    return f"{hours} hour{'' if hours == 1 else 's'}" if hours else "less than an hour"
