"""The proposal workflow as data: every action with the states it starts from, the state it leads to,
and who may run it. Services, buttons, the API's `actions` list, the permission document
(docs/permissions.md) and the permission tests are all read from this one table.

A proposal action moves the proposal; a review action moves one committee's review. Who may act
is a set of relations between the person and the proposal or review (see `permissions.relations`).
"""

from __future__ import annotations

from dataclasses import dataclass

from harmony.access_requests.models import (
    ACTIVE,
    AGREEMENT,
    CANCELLED,
    CLOSED,
    DECIDED,
    DELETED,
    DRAFT,
    EXPIRED,
    FINISHED,
    QUESTION,
    RETURNED,
    REVIEW_DECIDED,
    REVOKED,
    SUBMITTED,
    UNDER_REVIEW,
    VOTING,
    WITHDRAWN,
)

# Relations a person can have to a proposal or a review.
APPLICANT = "applicant"
CO_APPLICANT = "co-applicant"
COORDINATOR = "coordinator"
ADMIN = "admin"
MEMBER = "member"  # of the reviewing committee, not recused
CHAIR = "chair"  # of the reviewing committee, not recused (of a proposal: of one of its reviewing committees)
SYSTEM = "system"  # `harmony requests tick` (deadlines, the end of grants)
RELATIONS = (APPLICANT, CO_APPLICANT, COORDINATOR, ADMIN, MEMBER, CHAIR)
EDITABLE_STATES = frozenset({DRAFT, RETURNED})  # the form, datasets and attachments can change


@dataclass(frozen=True)
class Action:
    name: str
    target: str  # "proposal" or "review"
    from_states: frozenset[str]
    to_state: str | None  # None: the state stays (a vote, an answer)
    who: frozenset[str]
    label: str  # the button
    done: str  # the timeline: "<actor> <done>"
    needs_comment: bool = False
    style: str = "primary"  # the button's look: primary, secondary, danger
    # where the action may lead instead, depending on what it finds (the last acceptance makes the
    # proposal active; the last revocation revokes it)
    or_to: frozenset[str] = frozenset()
    # body fields besides the comment the action cannot run without (the API's description marks them
    # required for the action; the handler refuses their absence with 422)
    needs: frozenset[str] = frozenset()

    def leads_to(self, state: str) -> str:
        return self.to_state or state

    def may_lead_to(self, state: str) -> set[str]:
        return {self.leads_to(state), *self.or_to}


def _action(name: str, target: str, from_states: set[str], to_state: str | None, who: set[str], label: str,
            done: str, needs_comment: bool = False, style: str = "primary", or_to: set[str] = frozenset(),
            needs: set[str] = frozenset()) -> Action:
    return Action(name, target, frozenset(from_states), to_state, frozenset(who), label, done, needs_comment, style,
                  frozenset(or_to), frozenset(needs))


PROPOSAL_ACTIONS = {action.name: action for action in (
    _action("submit", "proposal", {DRAFT}, SUBMITTED, {APPLICANT}, "Submit", "submitted the proposal"),
    _action("delete", "proposal", {DRAFT}, DELETED, {APPLICANT}, "Delete draft", "deleted the draft", style="danger"),
    _action("return", "proposal", {SUBMITTED}, RETURNED, {COORDINATOR}, "Return for revision",
            "returned the proposal for revision", needs_comment=True, style="secondary"),
    _action("resubmit", "proposal", {RETURNED}, SUBMITTED, {APPLICANT}, "Resubmit", "resubmitted the proposal"),
    _action("send-to-review", "proposal", {SUBMITTED}, UNDER_REVIEW, {COORDINATOR}, "Send to the committees",
            "sent the proposal to the committees"),
    _action("answer", "proposal", {UNDER_REVIEW}, None, {APPLICANT, CO_APPLICANT}, "Send answer",
            "answered the committee's question", needs_comment=True),
    _action("withdraw", "proposal", {SUBMITTED, RETURNED, UNDER_REVIEW, AGREEMENT}, WITHDRAWN, {APPLICANT},
            "Withdraw", "withdrew the proposal", style="danger"),
    # after an approval (the handlers move to ACTIVE or REVOKED when the last one accepts or the last grant goes)
    _action("accept-agreement", "proposal", {AGREEMENT}, None, {APPLICANT, CO_APPLICANT},
            "Accept the agreement", "accepted the data access agreement", or_to={ACTIVE}),
    _action("file-report", "proposal", {ACTIVE, EXPIRED, REVOKED, FINISHED}, None, {APPLICANT}, "File the final report",
            "filed the final report", needs={"data_deleted"}),
    _action("renew", "proposal", {ACTIVE, EXPIRED}, None, {APPLICANT}, "Ask for a renewal",
            "started a renewal", style="secondary"),
    _action("amend", "proposal", {ACTIVE}, None, {APPLICANT}, "Ask for an amendment",
            "started an amendment (more datasets or co-applicants)", style="secondary"),
    _action("remove-co-applicant", "proposal", {DRAFT, RETURNED, AGREEMENT, ACTIVE}, None, {APPLICANT},
            "Remove a co-applicant", "removed a co-applicant", style="danger", or_to={ACTIVE}, needs={"co_applicant"}),
    _action("revoke", "proposal", {ACTIVE}, None, {CHAIR, ADMIN}, "Revoke access", "revoked access",
            needs_comment=True, style="danger", or_to={REVOKED}),
    _action("close", "proposal", {ACTIVE}, FINISHED, {APPLICANT, ADMIN}, "Close the project",
            "closed the project; its access ended", style="danger"),
    _action("expire", "proposal", {ACTIVE}, None, {SYSTEM}, "Expire", "ended the access at its end date",
            or_to={EXPIRED}),
)}

REVIEW_ACTIONS = {action.name: action for action in (
    _action("declare-conflict", "review", {VOTING, QUESTION}, None, {MEMBER, CHAIR}, "Declare a conflict of interest",
            "declared a conflict of interest and is recused", style="secondary"),
    _action("vote", "review", {VOTING}, None, {MEMBER, CHAIR}, "Vote", "voted", needs={"vote"}),
    _action("ask-question", "review", {VOTING}, QUESTION, {MEMBER, CHAIR}, "Ask the applicant",
            "asked the applicant a question", needs_comment=True, style="secondary"),
    _action("close-voting", "review", {VOTING, QUESTION}, CLOSED, {CHAIR, SYSTEM}, "Close voting", "closed the voting",
            style="secondary"),
    _action("decide", "review", {VOTING, CLOSED}, REVIEW_DECIDED, {CHAIR}, "Record the decision",
            "recorded the committee's decision"),
)}

ACTIONS = {**PROPOSAL_ACTIONS, **REVIEW_ACTIONS}

# What the proposal page says each state waits for, and on whom.
WAITING_ON = {
    DRAFT: ("the applicant", "to finish and submit the proposal"),
    SUBMITTED: ("the coordinator", "to screen the proposal"),
    RETURNED: ("the applicant", "to revise and resubmit the proposal"),
    UNDER_REVIEW: ("the committees", "to review and decide"),
    DECIDED: ("nobody", "the decision is made"),
    AGREEMENT: ("the applicants", "to accept the data access agreement"),
    ACTIVE: ("nobody", "access is granted until its end date"),
    FINISHED: ("nobody", "the project is closed"),
    EXPIRED: ("nobody", "the access has expired"),
    REVOKED: ("nobody", "the access was revoked"),
    WITHDRAWN: ("nobody", "the proposal was withdrawn"),
    DELETED: ("nobody", "the draft was deleted"),
}

# Proposals and reviews share a few state names ("closed", "decided"): each has its own labels.
PROPOSAL_STATE_LABELS = {
    DRAFT: "Draft", SUBMITTED: "Submitted", RETURNED: "Returned for revision", UNDER_REVIEW: "Under review",
    DECIDED: "Decided", AGREEMENT: "Waiting for the agreement", ACTIVE: "Active", FINISHED: "Closed",
    EXPIRED: "Expired", REVOKED: "Revoked", WITHDRAWN: "Withdrawn", DELETED: "Deleted",
}
REVIEW_STATE_LABELS = {
    VOTING: "Voting", QUESTION: "Waiting for the applicant's answer", CLOSED: "Voting closed",
    REVIEW_DECIDED: "Decided", CANCELLED: "Cancelled",
}
STATE_LABELS = {"proposal": PROPOSAL_STATE_LABELS, "review": REVIEW_STATE_LABELS}


def state_label(target: str, state: str) -> str:
    return STATE_LABELS[target].get(state, state.replace("_", " ").capitalize())


def allowed(action: Action, state: str, relations: set[str]) -> bool:
    """The one rule: the action starts from this state and the person stands in a relation it names."""
    return state in action.from_states and bool(action.who & relations)


def available(actions: dict[str, Action], state: str, relations: set[str]) -> list[Action]:
    return [action for action in actions.values() if allowed(action, state, relations)]
