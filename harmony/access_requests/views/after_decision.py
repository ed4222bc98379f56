"""What follows a decision, on the proposal's page and on "My access" (/access).

The proposal page (views/applicant.py) shows these sections through `section(...)`: the agreements to
accept, the grants, the final report, renewals and amendments linked to the proposal, and the forms of
the actions after an approval. Which forms appear comes from `ProposalDetail.actions` (the workflow
table), never from a rule of their own. Each form posts to a route below, which parses the input, calls
`actions.act_on_proposal` and redirects, or shows the page again with the messages next to the fields
and the input kept. Closing a project, removing a co-applicant and revoking access ask "Yes, I am sure"
first, as withdrawing and deleting do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import actions, after_forms, permissions, queries, workflow
from harmony.access_requests.committee_forms import format_value
from harmony.access_requests.content import FIELD_LABELS
from harmony.access_requests.grants import GrantView
from harmony.access_requests.models import ACTIVE, AGREEMENT, Grant, Proposal
from harmony.access_requests.proposals import published_content
from harmony.access_requests.views import access_requests
from harmony.accounts.current import login_required, principal
from harmony.catalog.models import Dataset
from harmony.errors import Conflict, InvalidTransition, ValidationError
from harmony.validation import parse

# The actions with forms of their own here; the proposal page's generic buttons leave them out.
AFTER_ACTIONS = frozenset({"accept-agreement", "file-report", "renew", "amend", "remove-co-applicant", "revoke",
                           "close"})
WARNINGS = {
    "close": "Closing ends everyone's access through this proposal now; it cannot be undone.",
    "revoke": "Revoking ends this access at once for everyone on the proposal; it cannot be undone.",
    "remove-co-applicant": "They can no longer see the proposal, and any access through it ends at once.",
}
END_REASONS = {"expired": "reached its end date", "closed": "the project was closed",
               "replaced": "replaced by a renewal or amendment", "removed": "removed from the proposal",
               "revoked": "revoked"}
KIND_WORDS = {"renewal": "Renewal", "amendment": "Amendment"}
LABEL_KEYS = {label: key for key, label in FIELD_LABELS.items()}


# --- what the proposal page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class GrantRow:
    view: GrantView
    status: str  # live, ended, revoked
    words: str  # "Live", "Ended (reached its end date)", "Revoked: <reason>"
    days_left: int | None = None


@dataclass
class Section:
    """The after-decision parts of one proposal's page."""

    offered: dict[str, workflow.Action]  # the after-decision actions the viewer may take now
    grants: list[GrantRow]
    due: datetime | None  # the agreements are to be accepted by then
    changes: list[tuple[str, str, str]]  # against the original, in words
    agreement: FlaskForm | None = None
    report: after_forms.ReportForm | None = None
    revoke: after_forms.RevokeForm | None = None
    failed: str | None = None  # the form that failed ("close", "remove-<id>", …): its confirm box shows the error
    confirm_errors: list[str] = field(default_factory=list)
    warnings: dict[str, str] = field(default_factory=lambda: WARNINGS)
    kinds: dict[str, str] = field(default_factory=lambda: KIND_WORDS)


def grant_row(view: GrantView, now: datetime) -> GrantRow:
    grant = view.grant
    if grant.revoked_at is not None:
        return GrantRow(view, "revoked", f"Revoked: {grant.revoke_reason}" if grant.revoke_reason else "Revoked")
    if grant.ended_at is not None:
        return GrantRow(view, "ended", f"Ended ({END_REASONS.get(grant.end_reason or '', grant.end_reason)})")
    if grant.end <= now:
        return GrantRow(view, "ended", f"Ended ({END_REASONS['expired']})")
    return GrantRow(view, "live", "Live", (grant.end.date() - now.date()).days)  # calendar days, as the dates read


def _revocable(detail: queries.ProposalDetail, rows: list[GrantRow]) -> list[tuple[str, str]]:
    """The datasets with live grants the viewer may revoke (an admin all; a chair their committees')."""
    chaired = permissions.chaired_committees(detail.standing)
    found = {row.view.dataset_pid: row.view.dataset_title for row in rows if row.status == "live"
             and (detail.standing.principal.is_admin or row.view.grant.committee_id in chaired)}
    return sorted(found.items())


def section(detail: queries.ProposalDetail, posted: dict[str, FlaskForm] | None = None,
            failed: str | None = None, error: ValidationError | None = None) -> Section:
    """The after-decision parts of the page; `posted` holds a form that failed, to show it again as typed."""
    posted = posted or {}
    after, proposal, now = detail.after, detail.proposal, clock.now()
    offered = {action.name: action for action in detail.actions if action.name in AFTER_ACTIONS}
    due = None
    if proposal.state == AGREEMENT and proposal.decided_at is not None and after.agreements:
        # the shortest time of the approving committees counts (as for the reminders)
        due = proposal.decided_at + timedelta(days=min(a.committee.agreement_days for a in after.agreements))
    rows = [grant_row(view, now) for view in after.grants]
    rows.sort(key=lambda row: row.status != "live")  # live first; otherwise as the service orders them
    found = Section(offered=offered, grants=rows, due=due, failed=failed,
                    changes=[(label, format_value(LABEL_KEYS.get(label, label), old),
                              format_value(LABEL_KEYS.get(label, label), new)) for label, old, new in after.changes])
    if error is not None and failed and (failed == "close" or failed.startswith("remove-")):
        found.confirm_errors = error.fields.get("confirm", [])
    if "accept-agreement" in offered:
        found.agreement = posted.get("agreement") or after_forms.agreement_form(
            [a for a in after.agreements if not a.accepted_by_me], formdata=None)
    if "file-report" in offered:
        found.report = posted.get("report") or after_forms.ReportForm(
            formdata=None, data=after_forms.report_data(after.report) if after.report else None)
    if "revoke" in offered:
        found.revoke = posted.get("revoke") or after_forms.RevokeForm(formdata=None)
        found.revoke.dataset.choices = after_forms.revoke_choices(_revocable(detail, rows))
    return found


# --- the forms' routes ----------------------------------------------------------------------------


def _page(proposal_id: int, status: int, error: ValidationError, failed: str, **posted: FlaskForm):
    from harmony.access_requests.views import applicant  # the proposal page; it imports this module

    return applicant._request_page(proposal_id, status, error, failed, after_forms=posted)


def _act(proposal_id: int, name: str, body: dict[str, Any]) -> Proposal:
    return actions.act_on_proposal(principal(), proposal_id, name, parse(actions.ActionInput, body))


def _confirm(name: str, form: FlaskForm) -> None:
    """The same question withdraw and delete ask."""
    if not form.confirm.data:
        label = workflow.PROPOSAL_ACTIONS[name].label
        raise ValidationError("Please confirm first.", {"confirm": [f"Tick “Yes, I am sure” to {label.lower()}."]})


def _moved(error: InvalidTransition | Conflict, kept: bool = False) -> ValidationError:
    return ValidationError(f"{error.detail} Nothing was changed; the page shows the proposal as it is now"
                           + ("; what you typed is kept below." if kept else "."))


def _back(proposal_id: int, anchor: str = "") -> Any:
    return redirect(url_for(".request_page", proposal_id=proposal_id) + anchor)


@access_requests.post("/requests/<int:proposal_id>/agreement")
@login_required
def accept_agreement(proposal_id: int):
    detail = queries.proposal_detail(principal(), proposal_id)
    shown = [agreement for agreement in detail.after.agreements if not agreement.accepted_by_me]
    form = after_forms.agreement_form(shown, request.form)
    try:
        accepted = _act(proposal_id, "accept-agreement", {"agreements": after_forms.shown_versions(form, shown)})
    except ValidationError as error:
        after_forms.show_errors(form, "agreement", error)
        return _page(proposal_id, 422, error, "accept-agreement", agreement=form)
    except Conflict as error:  # an agreement changed since the page was shown: read the new one
        flash(f"{error.detail} Nothing was accepted yet.", "warning")
        return _back(proposal_id, "#agreement")
    except InvalidTransition as error:
        return _page(proposal_id, 409, _moved(error), "accept-agreement")
    if accepted.state == ACTIVE:
        flash("You accepted the data access agreement. Access begins now; the end dates are below.", "success")
    else:
        flash("You accepted the data access agreement. Access begins when everyone on the proposal has "
              "accepted it.", "success")
    return _back(proposal_id, "#agreement" if accepted.state == AGREEMENT else "#grants")


@access_requests.post("/requests/<int:proposal_id>/report")
@login_required
def file_report(proposal_id: int):
    form = after_forms.ReportForm()
    try:
        _act(proposal_id, "file-report", after_forms.report_input(form))
    except ValidationError as error:
        after_forms.show_errors(form, "report", error)
        return _page(proposal_id, 422, error, "file-report", report=form)
    except (InvalidTransition, Conflict) as error:
        return _page(proposal_id, 409, _moved(error, kept=True), "file-report", report=form)
    flash("Your final report is filed. The register lists its publications.", "success")
    return _back(proposal_id, "#final-report")


def _linked(proposal_id: int, name: str):
    """A renewal or amendment: a draft linked to this proposal, opened in the form."""
    try:
        _act(proposal_id, name, {})
    except (InvalidTransition, Conflict) as error:
        return _page(proposal_id, 409, _moved(error), name)
    started = max(queries.proposal_detail(principal(), proposal_id).after.linked, key=lambda linked: linked.id)
    words = "renewal" if name == "renew" else "amendment"
    flash(f"Your {words} of proposal {proposal_id} is a draft with the original's text, approved datasets and "
          f"co-applicants. Change what is needed and submit it; the committees concerned review it.", "success")
    return redirect(url_for(".edit_request", proposal_id=started.id))


@access_requests.post("/requests/<int:proposal_id>/renewal")
@login_required
def renew(proposal_id: int):
    return _linked(proposal_id, "renew")


@access_requests.post("/requests/<int:proposal_id>/amendment")
@login_required
def amend(proposal_id: int):
    return _linked(proposal_id, "amend")


@access_requests.post("/requests/<int:proposal_id>/close")
@login_required
def close_project(proposal_id: int):
    form = after_forms.ConfirmForm()
    try:
        _confirm("close", form)
        _act(proposal_id, "close", {})
    except ValidationError as error:
        return _page(proposal_id, 422, error, "close")
    except (InvalidTransition, Conflict) as error:
        return _page(proposal_id, 409, _moved(error), "close")
    flash("The project is closed; access through it has ended.", "success")
    return _back(proposal_id)


@access_requests.post("/requests/<int:proposal_id>/co-applicants/<int:co_applicant_id>/remove")
@login_required
def remove_co_applicant(proposal_id: int, co_applicant_id: int):
    form = after_forms.ConfirmForm()
    failed = f"remove-{co_applicant_id}"
    try:
        _confirm("remove-co-applicant", form)
        _act(proposal_id, "remove-co-applicant", {"co_applicant": co_applicant_id})
    except ValidationError as error:
        return _page(proposal_id, 422, error, failed)
    except (InvalidTransition, Conflict) as error:
        return _page(proposal_id, 409, _moved(error), failed)
    flash("The co-applicant is removed; their access through this proposal has ended.", "success")
    return _back(proposal_id, "#co-applicants")


@access_requests.post("/requests/<int:proposal_id>/revoke")
@login_required
def revoke_access(proposal_id: int):
    form = after_forms.RevokeForm()
    try:
        _confirm("revoke", form)
        _act(proposal_id, "revoke", {"comment": form.reason.data, "dataset": form.dataset.data or None})
    except ValidationError as error:
        after_forms.show_errors(form, "revoke", error)
        return _page(proposal_id, 422, error, "revoke", revoke=form)
    except (InvalidTransition, Conflict) as error:
        return _page(proposal_id, 409, _moved(error, kept=True), "revoke", revoke=form)
    flash("Access is revoked; the applicants and the coordinator are told why.", "success")
    return _back(proposal_id, "#grants")


# --- My access ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyGrant:
    row: GrantRow
    proposal_id: int
    proposal_title: str
    visible: bool  # the person may still open the proposal (not after being removed from it)


def my_grants(viewer) -> list[MyGrant]:
    """The person's own grants across proposals: live first (soonest end first), then the ended ones."""
    session, now = db.session(), clock.now()
    rows = session.execute(
        select(Grant, Dataset, Proposal).join(Dataset, Dataset.id == Grant.dataset_id)
        .join(Proposal, Proposal.id == Grant.proposal_id)
        .where(Grant.user_id == viewer.user_id).order_by(Grant.end, Dataset.pid, Grant.id)).all()
    ids = {proposal.id for _grant, _dataset, proposal in rows}
    visible = set(session.scalars(select(Proposal.id).where(Proposal.id.in_(ids),
                                                            permissions.visible_proposals(viewer)))) if ids else set()
    found = []
    for grant, dataset, proposal in rows:
        title = (published_content(dataset) or dataset.content).get("title") or dataset.pid
        row = grant_row(GrantView(grant, dataset.pid, title, viewer.display_name), now)
        found.append(MyGrant(row, proposal.id, (proposal.content or {}).get("title") or f"Proposal {proposal.id}",
                             proposal.id in visible))
    found.sort(key=lambda mine: mine.row.status != "live")  # stable: live first, each part by end date
    return found


@access_requests.get("/access")
@login_required
def my_access():
    found = my_grants(principal())
    return render_template("access_requests/access.html", grants=found,
                           live=sum(1 for mine in found if mine.row.status == "live"))
