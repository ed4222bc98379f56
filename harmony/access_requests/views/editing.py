"""The proposal form's page: rendering it, saving what was posted (and, on "Save and submit",
submitting), and the autosave that the form's script calls while the applicant types.

Nothing typed is lost: invalid input comes back with the messages next to the fields; a save that
worked stays saved even when the submission then lists what is still missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template, request, url_for

from harmony import clock
from harmony.access_requests import actions, attachments, forms, proposals, queries
from harmony.access_requests.content import ETHICS_APPROVAL, FIELD_LABELS, ProposalContent
from harmony.access_requests.models import RETURNED
from harmony.access_requests.views.summaries import checklist
from harmony.accounts.permissions import Principal
from harmony.errors import PermissionDenied, ValidationError
from harmony.validation import parse

SECTIONS = [("about", "About the research"), ("purpose", "Research purpose"), ("datasets", "Requested datasets"),
            ("conditions", "What the datasets' conditions ask"), ("duration", "Duration, institution and funding"),
            ("security", "Data security and publication")]


def shown_fields(detail: queries.ProposalDetail) -> list[str]:
    """The condition-driven fields the requested datasets ask for."""
    return forms.shown_conditions({r.field for r in detail.requirements}, {r.code for r in detail.requirements})


def editable_detail(viewer: Principal, proposal_id: int) -> queries.ProposalDetail:
    detail = queries.proposal_detail(viewer, proposal_id)  # 404 for those who may not see it
    if not (detail.standing.applicant or detail.standing.co_applicant):
        raise PermissionDenied("Only the applicants can change the proposal.")
    return detail


def render_editor(detail: queries.ProposalDetail, form: forms.ProposalForm, status: int = 200,
                  dataset_errors: list[str] | None = None):
    shown = shown_fields(detail)
    codes = {r.code for r in detail.requirements}
    section_list = [(anchor, label) for anchor, label in SECTIONS if anchor != "conditions" or shown]
    submit = next((a for a in detail.actions if a.name in ("submit", "resubmit")), None)
    return render_template(
        "access_requests/request_edit.html", detail=detail, form=form, shown=shown, sections=section_list,
        duration_help=forms.duration_help(codes), dataset_errors=dataset_errors or [], checks=checklist(detail),
        submit=submit, field_labels=FIELD_LABELS, suggest_url="/api/v1/vocabularies/diseases",
        autosave_url=url_for("access_requests.autosave_request", proposal_id=detail.proposal.id)), status


@dataclass
class Saved:
    submitted: str | None = None  # the action's name, when the proposal was submitted
    removed: str | None = None  # the PID taken out of the proposal


def save(viewer: Principal, detail: queries.ProposalDetail, form: forms.ProposalForm) -> Saved:
    """Save the posted form (and its datasets and ethics approval); then submit if asked.

    Raises ValidationError with every problem; what was saved before the problem stays saved."""
    proposal_id = detail.proposal.id
    data = forms.content_input(form, set(request.form.getlist("shown")))
    parse(ProposalContent, data)  # every problem of the input at once, before anything is saved
    current = [r.dataset.pid for r in detail.datasets]
    removed = (request.form.get("remove_dataset") or "").strip() or None
    added = (form.add_dataset.data or "").strip()
    pids = [pid for pid in current if pid != removed] + ([added] if added else [])
    proposals.update_draft(viewer, proposal_id, data, pids if pids != current else None)
    form.add_dataset.data = ""
    upload = form.ethics_approval.data
    if upload is not None and getattr(upload, "filename", ""):
        attachments.upload(viewer, proposal_id, ETHICS_APPROVAL, upload.stream, upload.filename)
    if request.form.get("action") != "submit" or removed:
        return Saved(removed=removed)
    name = "resubmit" if detail.proposal.state == RETURNED else "submit"
    actions.act_on_proposal(viewer, proposal_id, name, actions.ActionInput())
    return Saved(submitted=name)


def autosave(viewer: Principal, proposal_id: int, form: forms.ProposalForm) -> dict[str, Any]:
    """Save every field that is valid now; say which are not (they are saved once they are)."""
    editable_detail(viewer, proposal_id)
    data = forms.content_input(form, set(request.form.getlist("shown")))
    problems: dict[str, list[str]] = {}
    while data:
        try:
            parse(ProposalContent, data)
            break
        except ValidationError as error:
            problems.update(error.fields)
            named = {name.split(".")[0] for name in error.fields} & set(data)
            if not named:
                data = {}
            for key in named:
                data.pop(key)
    saved_at = None
    if data:
        saved_at = proposals.update_draft(viewer, proposal_id, data).updated_at
    after = queries.proposal_detail(viewer, proposal_id)
    return {"saved_at": (saved_at or clock.now()).isoformat().replace("+00:00", "Z") if data else None,
            "problems": forms.field_problems(problems),
            "submission": forms.field_problems(after.problems)}
