"""Applicant pages: the basket, my proposals, the proposal form, a proposal and its decision letter.

Views parse the input, call one service and render; the services decide who may see and do what
(a proposal the viewer may not see is a 404). Every form posts with its CSRF token and works
without JavaScript; the form's script only adds the autosave.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, send_file, url_for

from harmony.access_requests import actions, attachments, co_applicants, forms, proposals, queries, workflow
from harmony.access_requests.content import ATTACHMENT_KINDS, FIELD_LABELS, ProposalContent, describe_purpose
from harmony.access_requests.views import access_requests, after_decision, editing, summaries, timeline
from harmony.accounts.current import login_required, principal, safe_next
from harmony.catalog import services as catalog
from harmony.catalog import terms
from harmony.errors import Conflict, HarmonyError, InvalidTransition, NotFound, ValidationError
from harmony.validation import parse

PER_PAGE = 20
CONFIRMED = ("withdraw", "delete")  # actions that ask "are you sure?" first


@access_requests.app_template_global()
def request_state_label(state: str) -> str:
    return workflow.state_label("proposal", state)


@access_requests.app_template_global()
def request_outcome_label(outcome: str | None) -> str:
    return timeline.outcome_words(outcome)


# --- the basket ---------------------------------------------------------------------------


def _back() -> str | None:
    """The form's `next`, if it is a path on this site."""
    target = request.values.get("next")
    return target if target and safe_next(target) == target else None


@access_requests.route("/basket/add", methods=["GET", "POST"])
def basket_add():
    """POST adds a dataset (form field `dataset` or query `pid`). A visitor signs in first and then
    comes back to a GET of this address, which asks to confirm (a GET never changes the basket)."""
    pid = (request.form.get("dataset") or request.args.get("pid") or "").strip()
    if not principal().is_authenticated:
        return redirect(url_for("accounts.login", next=url_for(".basket_add", pid=pid or None, next=_back())))
    if request.method == "GET":
        return _basket_page(confirm=summaries.basket_rows([catalog.get_dataset(principal(), pid)])[0], back=_back())
    if not pid:
        raise ValidationError(fields={"dataset": ["Say which dataset to add."]})
    dataset = proposals.add_to_basket(principal(), pid)
    title = (proposals.published_content(dataset) or {}).get("title") or dataset.pid
    flash(f"“{title}” ({dataset.pid}) is in your basket.", "success")
    return redirect(_back() or url_for(".basket"))


@access_requests.post("/basket/remove")
@login_required
def basket_remove():
    pid = (request.form.get("dataset") or "").strip()
    proposals.remove_from_basket(principal(), pid)
    flash(f"{pid} is no longer in your basket.", "success")
    return redirect(_back() or url_for(".basket"))


@access_requests.get("/basket")
@login_required
def basket():
    return _basket_page()


def _basket_page(confirm=None, back: str | None = None, form: forms.StartForm | None = None, status: int = 200):
    rows = summaries.basket_rows(proposals.basket(principal()))
    return render_template("access_requests/basket.html", rows=rows, figures=summaries.pooled([r.content for r in rows]),
                           confirm=confirm, back=back, form=form or forms.StartForm(), populations=terms.POPULATIONS,
                           starting=request.endpoint == "access_requests.new_request"), status


# --- my proposals, and a new one ----------------------------------------------------------


@access_requests.get("/requests")
@login_required
def my_requests():
    return _requests_page()


def _requests_page(invitation: str | None = None):
    number = max(1, request.args.get("page", 1, type=int))
    found = proposals.list_proposals(principal(), mine=True, page=number, per_page=PER_PAGE)
    if number > found.pages:
        raise NotFound(f"There is no page {number}.")
    return render_template("access_requests/requests.html", page=found, waiting=summaries.waiting_on(found.items),
                           invitation=invitation)


@access_requests.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    form = forms.StartForm()
    if request.method == "GET":
        return _basket_page(form=form)
    title = (form.title.data or "").strip()
    try:
        if not title:
            raise ValidationError(fields={"title": ["Give the proposal a title."]})
        created = proposals.create_draft(principal(), parse(ProposalContent, {"title": title}), from_basket=True)
    except ValidationError as error:
        form.title.errors = [m for messages in error.fields.values() for m in messages] or [error.detail]
        return _basket_page(form=form, status=422)
    flash("Your draft is saved. Fill in the sections; it is saved as you type.", "success")
    return redirect(url_for(".edit_request", proposal_id=created.id))


# --- the proposal form --------------------------------------------------------------------


@access_requests.route("/requests/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_request(proposal_id: int):
    detail = editing.editable_detail(principal(), proposal_id)
    if not detail.editable:
        flash(f"A proposal that is {request_state_label(detail.proposal.state).lower()} cannot be changed.", "info")
        return redirect(url_for(".request_page", proposal_id=proposal_id))
    if request.method == "GET":
        return editing.render_editor(detail, forms.ProposalForm(data=forms.form_data(detail.proposal.content)))
    form = forms.ProposalForm()
    try:
        saved = editing.save(principal(), detail, form)
    except ValidationError as error:
        dataset_errors = forms.show_errors(form, error, editing.shown_fields(detail))
        return editing.render_editor(queries.proposal_detail(principal(), proposal_id), form, 422, dataset_errors)
    if saved.submitted:
        flash("Your proposal is submitted. The coordinator screens it next.", "success")
        return redirect(url_for(".request_page", proposal_id=proposal_id))
    flash(f"{saved.removed} is removed from the proposal." if saved.removed else "Your draft is saved.", "success")
    return redirect(url_for(".edit_request", proposal_id=proposal_id))


@access_requests.post("/requests/<int:proposal_id>/autosave")
@login_required
def autosave_request(proposal_id: int):
    """The form's script posts here while the applicant types; the answer is JSON."""
    try:
        return jsonify(editing.autosave(principal(), proposal_id, forms.ProposalForm()))
    except HarmonyError as error:
        return jsonify({"saved_at": None, "problems": {"__form__": [error.detail]}}), error.status


# --- one proposal -------------------------------------------------------------------------


@access_requests.get("/requests/<int:proposal_id>")
@login_required
def request_page(proposal_id: int):
    return _request_page(proposal_id)


def _request_page(proposal_id: int, status: int = 200, error: ValidationError | None = None, failed: str | None = None,
                  comment: str | None = None, upload: forms.AttachmentForm | None = None,
                  invite: forms.InviteForm | None = None, after_forms: dict | None = None):
    viewer = principal()
    detail = queries.proposal_detail(viewer, proposal_id)
    after_page = after_decision.section(detail, after_forms, failed, error)  # agreement, grants, report, …
    reviews = {s.review.id: s.committee.name for s in detail.reviews}
    return render_template(
        "access_requests/request.html", detail=detail, failed=failed, comment=comment,
        errors=[m for found in error.fields.values() for m in found] or [error.detail] if error else [],
        heading=error.detail if error and error.fields else None,
        waiting=detail.waiting_on, purpose=describe_purpose(detail.proposal.content.get("purpose")),
        entries=timeline.entries(queries.events_for(viewer, proposal_id), reviews), checks=summaries.checklist(detail),
        upload=upload or forms.AttachmentForm(formdata=None), invite=invite or forms.InviteForm(formdata=None),
        kinds=ATTACHMENT_KINDS, field_labels=FIELD_LABELS, confirmed=CONFIRMED, after_page=after_page), status


@access_requests.post("/requests/<int:proposal_id>/actions/<action>")
@login_required
def request_action(proposal_id: int, action: str):
    chosen = workflow.PROPOSAL_ACTIONS.get(action)
    if chosen is None or action in after_decision.AFTER_ACTIONS:  # those have forms of their own, with their questions
        raise NotFound(f"A proposal has no action {action!r} here; use its form on the proposal's page.")
    form = forms.ActionForm()
    comment = form.comment.data
    try:
        if action in CONFIRMED and not form.confirm.data:
            raise ValidationError("Please confirm first.",
                                  {"confirm": [f"Tick “Yes, I am sure” to {chosen.label.lower()}."]})
        actions.act_on_proposal(principal(), proposal_id, action, parse(actions.ActionInput, {"comment": comment}))
    except ValidationError as error:
        return _request_page(proposal_id, 422, error, action, comment)
    except (InvalidTransition, Conflict) as error:  # someone acted meanwhile: say so, keep what was typed
        kept = ValidationError(f"{error.detail} Nothing was changed; the page shows the proposal as it is now"
                               + ("; your text is kept below." if comment else "."))
        return _request_page(proposal_id, 409, kept, action, comment)
    flash(f"You {chosen.done}.", "success")
    if action == "delete":
        return redirect(url_for(".my_requests"))
    return redirect(url_for(".request_page", proposal_id=proposal_id))


@access_requests.get("/requests/<int:proposal_id>/decision")
@login_required
def decision_letter(proposal_id: int):
    detail = queries.proposal_detail(principal(), proposal_id)
    if detail.proposal.decided_at is None:
        raise NotFound("There is no decision on this proposal yet.")
    sections = summaries.letter(detail, queries.events_for(principal(), proposal_id))
    return render_template("access_requests/decision.html", detail=detail, sections=sections)


# --- attachments --------------------------------------------------------------------------


@access_requests.get("/requests/<int:proposal_id>/attachments/<int:attachment_id>")
@login_required
def download_attachment(proposal_id: int, attachment_id: int):
    found, path = attachments.open_attachment(principal(), proposal_id, attachment_id)
    if not path.exists():
        raise NotFound("The attachment's file is missing; ask the data office.")
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=attachments.safe_filename(found.filename))


@access_requests.post("/requests/<int:proposal_id>/attachments")
@login_required
def upload_attachment(proposal_id: int):
    form = forms.AttachmentForm()
    chosen = form.file.data
    try:
        if chosen is None or not getattr(chosen, "filename", ""):
            raise ValidationError(fields={"file": ["Choose a PDF document to attach."]})
        stored = attachments.upload(principal(), proposal_id, form.kind.data or "", chosen.stream, chosen.filename)
    except ValidationError as error:
        for name, messages in error.fields.items():
            getattr(form, name if name in ("kind", "file") else "file").errors = list(messages)
        return _request_page(proposal_id, 422, error, upload=form)
    flash(f"{stored.filename} is attached.", "success")
    return redirect(_back() or url_for(".request_page", proposal_id=proposal_id) + "#attachments")


@access_requests.post("/requests/<int:proposal_id>/attachments/<int:attachment_id>/delete")
@login_required
def delete_attachment(proposal_id: int, attachment_id: int):
    attachments.remove(principal(), proposal_id, attachment_id)
    flash("The attachment is deleted.", "success")
    return redirect(url_for(".request_page", proposal_id=proposal_id) + "#attachments")


# --- co-applicants ------------------------------------------------------------------------


@access_requests.post("/requests/<int:proposal_id>/co-applicants")
@login_required
def invite_co_applicant(proposal_id: int):
    form = forms.InviteForm()
    try:
        data = parse(co_applicants.InvitationInput, {"email": (form.email.data or "").strip()})
        invited = co_applicants.invite_co_applicant(principal(), proposal_id, data)
    except ValidationError as error:
        form.email.errors = [m for found in error.fields.values() for m in found] or [error.detail]
        return _request_page(proposal_id, 422, error, invite=form)
    flash(f"An invitation is on its way to {invited.email}.", "success")
    return redirect(url_for(".request_page", proposal_id=proposal_id) + "#co-applicants")


@access_requests.route("/requests/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    if request.method == "GET":
        return _requests_page(invitation=token)
    joined = co_applicants.accept_invitation(principal(), token)
    flash("You joined the proposal as co-applicant.", "success")
    return redirect(url_for(".request_page", proposal_id=joined.id))
