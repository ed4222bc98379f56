"""Committee and coordinator pages: the review queue, a review, screening, and the admins' committees.

Who may see and do what is decided by the services (queries, actions, committees) and the predicates
in `permissions`; a page shows the forms of the actions the service lists for the caller. Each form
posts to the action's route, which calls the same service as the API and redirects back, or shows the
page again with the messages and the input kept (422, 409).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from harmony import clock
from harmony.access_requests import actions, committees, permissions, queries, rules
from harmony.access_requests import committee_forms as forms
from harmony.access_requests.content import describe_purpose
from harmony.access_requests.models import CANCELLED, REVIEW_DECIDED
from harmony.access_requests.proposals import datasets_of, published_content
from harmony.access_requests.views import access_requests
from harmony.access_requests.workflow import REVIEW_STATE_LABELS
from harmony.accounts.current import login_required, principal
from harmony.catalog import services as catalog
from harmony.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from harmony.validation import apply_errors, parse

DONE_STATES = (REVIEW_DECIDED, CANCELLED)


def _render(template: str, status: int = 200, **context: Any):
    """A page of this module, with the words its templates put stored codes into."""
    words = {"vote_labels": forms.VOTE_LABELS, "outcome_labels": forms.OUTCOME_LABELS, "state_labels": REVIEW_STATE_LABELS,
             "rule_names": rules.RULE_NAMES, "describe_purpose": describe_purpose, "conditions": forms.conditions,
             "attachment_kind": forms.attachment_kind, "attachment_url": _attachment_url}
    return render_template(f"access_requests/{template}", **words, **context), status


def _attachment_url(attachment) -> str | None:
    """The applicant pages serve attachments; until they exist the name is shown without a link."""
    if "access_requests.download_attachment" not in current_app.view_functions:
        return None
    return url_for("access_requests.download_attachment", proposal_id=attachment.proposal_id,
                   attachment_id=attachment.id)


def _failed(form, error: Exception) -> int:
    """Put a service's refusal on the form that was posted; the page's status."""
    if isinstance(error, ValidationError):
        apply_errors(form, error)
        if not error.fields:
            form.form_errors.append(error.detail)
        return 422
    form.form_errors.append(f"{error.detail} Nothing was changed; the page now shows the current state.")
    return 409


# --- reviews ----------------------------------------------------------------------------------


@access_requests.get("/reviews")
@login_required
def reviews():
    viewer = principal()
    everything = request.args.get("all") in ("1", "true")
    done = queries.reviews_done(viewer, request.args.get("page", 1, type=int)) if everything else None
    return _render("reviews.html", everything=everything, now=clock.now(), open_items=queries.review_queue(viewer),
                   done_items=done.items if done else [], done_page=done,
                   member=bool(permissions.committees_of(viewer)))


@access_requests.get("/reviews/<int:review_id>")
@login_required
def review_page(review_id: int):
    return _review(queries.review_detail(principal(), review_id))


@access_requests.post("/reviews/<int:review_id>/actions/<action>")
@login_required
def review_action(review_id: int, action: str):
    viewer = principal()
    detail = queries.review_detail(viewer, review_id)  # 404 for whoever may not see the review
    form = forms.review_form(action, _computed(detail), posted=True)
    offered = any(listed.name == action for listed in detail.actions)
    if offered and not form.validate():  # the page's own check (the confirmation); the rules are the service's
        return _review(detail, (action, form), 422)
    try:
        actions.act_on_review(viewer, review_id, action, parse(actions.ActionInput, form.action_input()))
    except (ValidationError, InvalidTransition, Conflict) as error:
        status = _failed(form, error)
        return _review(queries.review_detail(viewer, review_id), (action, form), status)
    flash(forms.DONE[action], "success")
    return redirect(url_for(".review_page", review_id=review_id))


def _computed(detail: queries.ReviewDetail) -> str | None:
    """The outcome the votes give (as computed at closing, once decided); None while hidden or none."""
    if detail.tally is None:
        return None
    return detail.review.computed_outcome if detail.review.outcome else detail.tally.outcome


def _review(detail: queries.ReviewDetail, posted: tuple[str, Any] | None = None, status: int = 200):
    computed = _computed(detail)
    action_forms = {action.name: forms.review_form(action.name, computed) for action in detail.actions}
    if detail.my_vote is not None and "vote" in action_forms:  # the current vote, to be changed
        action_forms["vote"].vote.data, action_forms["vote"].comment.data = detail.my_vote.vote, detail.my_vote.comment
    if posted and posted[0] in action_forms:  # after a 409 the action may be gone: its messages go on top
        action_forms[posted[0]] = posted[1]
    proposal = detail.proposal
    kinds = {attachment.kind for attachment in proposal.attachments}
    pids = {requested.dataset.pid for requested in detail.datasets}
    requirements = [(requirement, forms.answer(requirement, proposal.proposal.content, kinds))
                    for requirement in proposal.requirements if pids & set(requirement.datasets)]
    names = {member.user.id: member.user.display_name for member in detail.roster}
    questions = [question for question, committee in proposal.questions if committee.id == detail.committee.id]
    return _render("review.html", status, detail=detail, review=detail.review,
                   content=proposal.proposal.content, forms=action_forms,
                   posted=posted[1] if posted else None, computed=computed, requirements=requirements,
                   questions=questions, names=names, recused_ids={user.id for user, _ in detail.recusals},
                   summary=rules.describe(detail.tally) if detail.tally else None, now=clock.now())


# --- screening --------------------------------------------------------------------------------


@access_requests.get("/screening")
@login_required
def screening():
    queue = queries.screening_queue(principal())  # 403 for everyone but coordinators and admins
    governs = {group.id: group.committee_id for group in catalog.groups()}
    names = {committee.id: committee.name for committee in committees.committees()}
    rows = []
    for proposal, applicant in queue:
        requested = [(dataset, published_content(dataset) or dataset.content) for _link, dataset in datasets_of(proposal.id)]
        snapshot = {**proposal.content, "datasets": [dataset.pid for dataset, _ in requested]}
        rows.append({"proposal": proposal, "applicant": applicant, "datasets": requested,
                     "committees": sorted({names.get(governs.get(d.group_id), "no committee yet") for d, _ in requested}),
                     "waited": forms.waited(proposal.submitted_at, clock.now()),
                     "changes": forms.changes(proposal.returned_content, snapshot) if proposal.returned_content else None})
    return _render("screening.html", rows=rows, detail=None)


@access_requests.get("/screening/<int:proposal_id>")
@login_required
def screening_proposal(proposal_id: int):
    if not permissions.can_screen(principal()):
        raise PermissionDenied("Screening is for coordinators.")
    return _screening_page(queries.proposal_detail(principal(), proposal_id))


@access_requests.post("/screening/<int:proposal_id>/actions/<action>")
@login_required
def screening_action(proposal_id: int, action: str):
    viewer = principal()
    form = forms.screening_form(action, posted=True)  # 404 for actions that are not the coordinator's
    try:
        actions.act_on_proposal(viewer, proposal_id, action, parse(actions.ActionInput, form.action_input()))
    except (ValidationError, InvalidTransition, Conflict) as error:
        status = _failed(form, error)
        return _screening_page(queries.proposal_detail(viewer, proposal_id), (action, form), status)
    flash(forms.DONE[action], "success")
    return redirect(url_for(".screening"))


def _screening_page(detail: queries.ProposalDetail, posted: tuple[str, Any] | None = None, status: int = 200):
    proposal = detail.proposal
    offered = [action for action in detail.actions if action.name in forms.SCREENING_ACTIONS]
    action_forms = {action.name: forms.screening_form(action.name) for action in offered}
    if posted and posted[0] in action_forms:
        action_forms[posted[0]] = posted[1]
    snapshot = {**proposal.content, "datasets": [requested.dataset.pid for requested in detail.datasets]}
    changes = forms.changes(proposal.returned_content, snapshot) if proposal.returned_content is not None else None
    kinds = {attachment.kind for attachment in detail.attachments}
    requirements = [(requirement, forms.answer(requirement, proposal.content, kinds)) for requirement in detail.requirements]
    return _render("screening.html", status, detail=detail, proposal=proposal, requirements=requirements,
                   content=proposal.content, offered=offered, forms=action_forms,
                   posted=posted[1] if posted else None, changes=changes, waited=forms.waited(proposal.submitted_at, clock.now()))


# --- committees (admins) ----------------------------------------------------------------------


def _require_admin() -> None:
    if not permissions.can_manage_committees(principal()):
        raise PermissionDenied("Only admins can manage committees.")


@access_requests.route("/admin/committees", methods=["GET", "POST"])
@login_required
def admin_committees():
    _require_admin()
    status = 200
    if request.method == "GET":
        form = forms.CommitteeForm(data=forms.committee_data(None))
    else:
        form = forms.CommitteeForm()
        try:
            created = committees.create_committee(principal(), parse(committees.CommitteeInput, forms.committee_input(form)))
        except ValidationError as error:
            status = _failed(form, error)
        else:
            flash(f"{created.name} is created. Choose the study groups it governs, then add its members and chair.",
                  "success")
            return redirect(url_for(".admin_committee", committee_id=created.id))
    rows = [(committee, committees.members(committee.id), committees.governed_groups(committee.id))
            for committee in committees.committees()]
    return _render("committees.html", status, rows=rows, form=form, quorum_label=committees.quorum_label)


@access_requests.route("/admin/committees/<int:committee_id>", methods=["GET", "POST"])
@login_required
def admin_committee(committee_id: int):
    _require_admin()
    committee = committees.get_committee(committee_id)
    groups = catalog.groups()
    governed = {group.id for group in groups if group.committee_id == committee_id}
    status = 200
    if request.method == "GET":
        form = forms.EditCommitteeForm(data=forms.committee_data(committee, committees.agreement_text(committee),
                                                                  sorted(governed)))
    else:
        form = forms.EditCommitteeForm()
        try:
            committees.update_committee(principal(), committee_id, parse(committees.CommitteeInput,
                                                                           forms.committee_input(form)),
                                        governed=set(form.groups.data or []))
        except ValidationError as error:
            status = _failed(form, error)
        else:
            flash("The committee is saved.", "success")
            return redirect(url_for(".admin_committee", committee_id=committee_id))
    names = {other.id: other.name for other in committees.committees()}
    form.groups.choices = [forms.SelectChoice(group.id, f"{group.acronym} — {group.name}"
                                              + (f" (now governed by {names[group.committee_id]})"
                                                 if group.committee_id not in (None, committee_id) else ""))
                           for group in groups]
    return _render("committee_edit.html", status, committee=committee, form=form,
                   members=committees.members(committee_id), quorum_label=committees.quorum_label)

