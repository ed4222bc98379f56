"""Proposals, reviews and committees in the JSON API (a contract: clients rely on these names).

Every endpoint needs a bearer token; the services decide what the token's user may see and do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, send_file

from harmony.access_requests import actions, attachments, co_applicants, committees, proposals, queries, register, rules
from harmony.access_requests.content import ProposalContent
from harmony.access_requests.workflow import PROPOSAL_STATE_LABELS
from harmony.accounts.current import principal, token_required
from harmony.api import json_body, unauthorised
from harmony.errors import MalformedBody, NotFound, ValidationError
from harmony.pagination import LAST_PAGE_NUMBER
from harmony.validation import parse

requests_api = Blueprint("requests_api", __name__, url_prefix="/api/v1")


@requests_api.before_request
def _refuse_bad_tokens():
    return unauthorised() if g.get("auth_error") else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _url(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def _page_args() -> tuple[int, int]:
    try:
        page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 25))
    except ValueError:
        raise ValidationError(fields={"page": ["page and per_page are whole numbers"]}) from None
    if not 1 <= page <= LAST_PAGE_NUMBER or not 1 <= per_page <= 100:
        raise ValidationError(fields={"per_page": [f"page is 1 to {LAST_PAGE_NUMBER}; per_page is 1 to 100"]})
    return page, per_page


# --- output ---------------------------------------------------------------------------------


def proposal_summary(proposal) -> dict[str, Any]:
    return {"id": proposal.id, "title": proposal.content.get("title"), "state": proposal.state,
            "outcome": proposal.outcome, "kind": proposal.kind, "url": _url(f"/requests/{proposal.id}"),
            "created_at": _iso(proposal.created_at), "updated_at": _iso(proposal.updated_at),
            "submitted_at": _iso(proposal.submitted_at), "decided_at": _iso(proposal.decided_at)}


def proposal_json(detail: queries.ProposalDetail) -> dict[str, Any]:
    proposal = detail.proposal
    who, what = detail.waiting_on
    body = {
        **proposal_summary(proposal),
        "applicant": {"id": detail.applicant.id, "display_name": detail.applicant.display_name,
                      "affiliation": detail.applicant.affiliation},
        "content": {**ProposalContent().model_dump(mode="json"), **proposal.content},
        "datasets": [{"pid": r.dataset.pid, "title": r.content.get("title"), "url": _url(f"/datasets/{r.dataset.pid}"),
                      "group": r.group.acronym, "committee": r.committee.name if r.committee else None,
                      "outcome": r.outcome, "data_use": r.content.get("data_use", []), "objections": r.objections}
                     for r in detail.datasets],
        "reviews": [{"id": s.review.id, "committee": s.committee.name, "state": s.review.state,
                     "deadline": _iso(s.review.deadline), "outcome": s.review.outcome} for s in detail.reviews],
        "requirements": [{"code": r.code, "shorthand": r.shorthand, "asks": r.asks, "field": r.field,
                          "datasets": r.datasets} for r in detail.requirements],
        "attachments": [attachment_json(a) for a in detail.attachments],
        "co_applicants": [{"id": c.id, "email": c.email, "joined": c.accepted_at is not None,
                           "removed": c.removed_at is not None} for c in detail.co_applicants],
        "waiting_on": {"who": who, "for": what, "state_label": PROPOSAL_STATE_LABELS[proposal.state]},
        "actions": [action.name for action in detail.actions],
    }
    if detail.editable:
        body["problems"] = detail.problems
    body.update(_after_decision_json(detail.after))
    return body


def _after_decision_json(after) -> dict[str, Any]:
    return {
        "parent": after.parent.id if after.parent else None,
        "linked": [{"id": p.id, "kind": p.kind, "state": p.state, "url": _url(f"/api/v1/requests/{p.id}")}
                   for p in after.linked],
        "changes": [{"field": label, "before": old, "after": new} for label, old, new in after.changes],
        "agreements": [{"committee": a.committee.name, "committee_id": a.committee.id, "version": a.version,
                        "text": a.text, "accepted": a.accepted_by_me} for a in after.agreements],
        "waiting_for_agreement": [user.display_name for user, _committees in after.waiting_for],
        "grants": [{"user": g.user_name, "dataset": g.dataset_pid, "start": _iso(g.grant.start),
                    "end": _iso(g.grant.end), "ended_at": _iso(g.grant.ended_at), "end_reason": g.grant.end_reason,
                    "revoked_at": _iso(g.grant.revoked_at), "live": g.live} for g in after.grants],
        "final_report": None if after.report is None else {
            "publications": after.report.publications, "data_deleted": after.report.data_deleted,
            "summary": after.report.summary, "filed_at": _iso(after.report.filed_at)},
    }


def attachment_json(attachment) -> dict[str, Any]:
    return {"id": attachment.id, "kind": attachment.kind, "filename": attachment.filename, "size": attachment.size,
            "sha256": attachment.sha256, "uploaded_at": _iso(attachment.uploaded_at),
            "url": f"/api/v1/requests/{attachment.proposal_id}/attachments/{attachment.id}"}


def tally_json(tally: rules.Tally) -> dict[str, Any]:
    return {"rule": tally.rule, "eligible": tally.eligible, "cast": tally.cast, "approve": tally.approve,
            "with_conditions": tally.with_conditions, "reject": tally.reject, "abstain": tally.abstain,
            "quorum_needed": tally.quorum_needed, "quorum_met": tally.quorum_met, "advice": tally.advice,
            "summary": rules.describe(tally)}


def review_json(detail: queries.ReviewDetail) -> dict[str, Any]:
    review = detail.review
    body = {
        "id": review.id, "state": review.state, "deadline": _iso(review.deadline), "opened_at": _iso(review.opened_at),
        "closed_at": _iso(review.closed_at), "outcome": review.outcome, "overridden": review.overridden,
        "decision_reason": review.decision_reason, "decided_at": _iso(review.decided_at),
        "committee": {"id": detail.committee.id, "name": detail.committee.name, "rule": detail.committee.rule,
                      "quorum": detail.committee.quorum},
        "proposal": proposal_summary(detail.proposal.proposal),
        "datasets": [r.dataset.pid for r in detail.datasets],
        "my_vote": {"vote": detail.my_vote.vote, "comment": detail.my_vote.comment} if detail.my_vote else None,
        "recused": detail.recused,
        "recusals": [user.display_name for user, _recusal in detail.recusals],
        "questions": [{"text": q.text, "asked_at": _iso(q.asked_at), "answer": q.answer,
                       "answered_at": _iso(q.answered_at)}
                      for q, committee in detail.proposal.questions if committee.id == detail.committee.id],
        "actions": [action.name for action in detail.actions],
    }
    if detail.votes is not None:
        body["votes"] = [{"voter": v.voter.display_name, "vote": v.vote, "comment": v.comment, "cast_at": _iso(v.cast_at)}
                         for v in detail.votes]
    if detail.tally is not None:
        body["tally"] = tally_json(detail.tally)
        body["computed_outcome"] = detail.tally.outcome if review.outcome is None else review.computed_outcome
    return body


def event_json(event) -> dict[str, Any]:
    return {"seq": event.seq, "actor": event.actor_name, "actor_id": event.actor_id, "action": event.action,
            "at": _iso(event.at), "from_state": event.from_state, "to_state": event.to_state, "comment": event.comment,
            "review": event.review_id, "payload": event.payload, "hash": event.hash, "prev_hash": event.prev_hash}


def committee_json(committee, with_members: bool) -> dict[str, Any]:
    body = {"id": committee.id, "name": committee.name, "rule": committee.rule, "quorum": committee.quorum,
            "voting_days": committee.voting_days, "answer_days": committee.answer_days,
            "agreement_days": committee.agreement_days, "agreement_version": committee.agreement_version or None,
            "groups": [group.acronym for group in committees.governed_groups(committee.id)]}
    if with_members:
        body["members"] = [{"id": m.user.id, "display_name": m.user.display_name, "email": m.user.email,
                            "role": "chair" if m.chair else "member"} for m in committees.members(committee.id)]
        body["agreement"] = committees.agreement_text(committee)
    return body


def _proposal_response(proposal_id: int, status: int = 200):
    response = jsonify(proposal_json(queries.proposal_detail(principal(), proposal_id)))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = f"/api/v1/requests/{proposal_id}"
    return response


# --- proposals ------------------------------------------------------------------------------


@requests_api.get("/requests")
@token_required
def list_requests():
    page, per_page = _page_args()
    states = request.args.getlist("state") or None
    found = proposals.list_proposals(principal(), states=states, page=page, per_page=per_page)
    return jsonify({"total": found.total, "page": page, "per_page": per_page, "pages": found.pages,
                    "items": [proposal_summary(p) for p in found.items]})


def _split(body: dict[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    if "datasets" not in body:
        return body, None
    pids = body.pop("datasets")
    if not isinstance(pids, list) or not all(isinstance(p, str) for p in pids):
        raise ValidationError(fields={"datasets": ["a list of dataset PIDs, e.g. [\"HM-000123\"]"]})
    return body, pids


@requests_api.post("/requests")
@token_required
def create_request():
    fields, pids = _split(json_body())
    content = parse(ProposalContent, fields)
    if not content.title:
        raise ValidationError(fields={"title": ["Give the proposal a title."]})
    created = proposals.create_draft(principal(), content, pids or [])
    return _proposal_response(created.id, 201)


@requests_api.get("/requests/<int:proposal_id>")
@token_required
def get_request(proposal_id: int):
    return _proposal_response(proposal_id)


@requests_api.patch("/requests/<int:proposal_id>")
@token_required
def patch_request(proposal_id: int):
    proposals.get_proposal(principal(), proposal_id)  # 404 before the body is read
    fields, pids = _split(json_body())
    parse(ProposalContent, fields)  # every problem at once, by field name
    proposals.update_draft(principal(), proposal_id, fields, pids)
    return _proposal_response(proposal_id)


@requests_api.post("/requests/<int:proposal_id>/actions/<action>")
@token_required
def request_action(proposal_id: int, action: str):
    proposals.get_proposal(principal(), proposal_id)
    data = parse(actions.ActionInput, json_body(optional=True))
    actions.act_on_proposal(principal(), proposal_id, action, data)
    return _proposal_response(proposal_id)


@requests_api.get("/requests/<int:proposal_id>/events")
@token_required
def request_events(proposal_id: int):
    return jsonify({"items": [event_json(e) for e in queries.events_for(principal(), proposal_id)]})


@requests_api.post("/requests/<int:proposal_id>/co-applicants")
@token_required
def invite_co_applicant(proposal_id: int):
    proposals.get_proposal(principal(), proposal_id)
    invited = co_applicants.invite_co_applicant(principal(), proposal_id,
                                                parse(co_applicants.InvitationInput, json_body()))
    response = jsonify({"email": invited.email, "joined": False})
    response.status_code = 201
    return response


@requests_api.get("/requests/<int:proposal_id>/attachments")
@token_required
def list_attachments(proposal_id: int):
    return jsonify({"items": [attachment_json(a) for a in attachments.attachments_of(principal(), proposal_id)]})


@requests_api.post("/requests/<int:proposal_id>/attachments")
@token_required
def upload_attachment(proposal_id: int):
    proposals.get_proposal(principal(), proposal_id)
    upload = request.files.get("file")
    if upload is None:
        raise MalformedBody("Send the PDF as multipart/form-data in the field 'file', with 'kind' (e.g. ethics-approval).")
    stored = attachments.upload(principal(), proposal_id, request.form.get("kind", ""), upload.stream, upload.filename)
    response = jsonify(attachment_json(stored))
    response.status_code = 201
    response.headers["Location"] = attachment_json(stored)["url"]
    return response


@requests_api.get("/requests/<int:proposal_id>/attachments/<int:attachment_id>")
@token_required
def download_attachment(proposal_id: int, attachment_id: int):
    found, path = attachments.open_attachment(principal(), proposal_id, attachment_id)
    if not path.exists():
        raise NotFound("The attachment's file is missing; ask the data office.")
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=found.filename)


# --- reviews --------------------------------------------------------------------------------


def queue_item_json(item: queries.QueueItem) -> dict[str, Any]:
    return {"id": item.review.id, "state": item.review.state, "deadline": _iso(item.review.deadline),
            "committee": item.committee.name, "proposal": proposal_summary(item.proposal), "my_vote": item.my_vote,
            "recused": item.recused, "votes_cast": item.votes_cast, "outcome": item.review.outcome}


@requests_api.get("/reviews")
@token_required
def list_reviews():
    """The open reviews of the caller's committees; with `all=1` also a page of the decided ones."""
    body: dict[str, Any] = {"items": [queue_item_json(item) for item in queries.review_queue(principal())]}
    if request.args.get("all") in ("1", "true"):
        page, per_page = _page_args()
        done = queries.reviews_done(principal(), page, per_page)
        body["items"] += [queue_item_json(item) for item in done.items]
        body.update(done_total=done.total, page=done.page, per_page=done.per_page, pages=done.pages)
    return jsonify(body)


@requests_api.get("/reviews/<int:review_id>")
@token_required
def get_review(review_id: int):
    return jsonify(review_json(queries.review_detail(principal(), review_id)))


@requests_api.post("/reviews/<int:review_id>/actions/<action>")
@token_required
def review_action(review_id: int, action: str):
    queries.visible_review(principal(), review_id)  # 404 before the body is read
    data = parse(actions.ActionInput, json_body(optional=True))
    actions.act_on_review(principal(), review_id, action, data)
    return jsonify(review_json(queries.review_detail(principal(), review_id)))


# --- statistics -----------------------------------------------------------------------------


@requests_api.get("/stats/requests")
@token_required
def request_stats():
    """The coordinators' dashboard numbers (coordinators and admins; 422 on a bad `period`)."""
    from harmony.access_requests import stats

    period = stats.parse_period(request.args.get("period"))
    return jsonify(stats.as_json(stats.request_stats(principal(), period)))


# --- committees -----------------------------------------------------------------------------


@requests_api.get("/committees")
def list_committees():
    admin = principal().is_admin
    return jsonify({"items": [committee_json(c, admin) for c in committees.committees()]})


@requests_api.post("/committees")
@token_required
def create_committee():
    created = committees.create_committee(principal(), parse(committees.CommitteeInput, json_body()))
    response = jsonify(committee_json(created, True))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/committees/{created.id}"
    return response


@requests_api.put("/committees/<int:committee_id>")
@token_required
def replace_committee(committee_id: int):
    changed = committees.update_committee(principal(), committee_id, parse(committees.CommitteeInput, json_body()))
    return jsonify(committee_json(changed, True))


# --- the public register ------------------------------------------------------------------


@requests_api.get("/register")
def register_api():
    """The approved projects, newest decision first; no token needed (harmony.access_requests.register)."""
    page, per_page = _page_args()
    found = register.register(request.args.get("q", ""), page, per_page)
    return jsonify({"items": [{
        "id": e.id, "title": e.title, "lay_summary": e.lay_summary, "applicant": e.applicant,
        "institution": e.institution, "outcome": e.outcome, "decided_at": _iso(e.decided_at),
        "grant_period": e.grant_period, "committees": e.committees,
        "datasets": [{"pid": d.pid, "title": d.title, "url": _url(f"/datasets/{d.pid}")} for d in e.datasets],
        "publications": [{"title": p.title, "url": p.url} for p in e.publications],
        "url": _url(f"/register#project-{e.id}")} for e in found.items],
        "total": found.total, "page": found.page, "per_page": found.per_page, "pages": found.pages})
