"""The proposal workflow as data: every action with the states it starts from, the state it leads to,
and who may run it. Services, buttons, the API's `actions` list, the permission document
(docs/permissions.md) and the permission tests are all read from this one table.

A proposal action moves the proposal; a review action moves one committee's review. Who may act
is a set of relations between the person and the proposal or review (see `permissions.relations`).
"""

from __future__ import annotations

from dataclasses import dataclass

from harmony.access_requests.models import (
    CLOSED,
    DECIDED,
    DELETED,
    DRAFT,
    QUESTION,
    RETURNED,
    REVIEW_DECIDED,
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
CHAIR = "chair"  # of the reviewing committee, not recused
SYSTEM = "system"  # `harmony requests tick` (deadlines)
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

    def leads_to(self, state: str) -> str:
        return self.to_state or state


def _action(name: str, target: str, from_states: set[str], to_state: str | None, who: set[str], label: str,
            done: str, needs_comment: bool = False, style: str = "primary") -> Action:
    return Action(name, target, frozenset(from_states), to_state, frozenset(who), label, done, needs_comment, style)


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
    _action("withdraw", "proposal", {SUBMITTED, RETURNED, UNDER_REVIEW}, WITHDRAWN, {APPLICANT}, "Withdraw",
            "withdrew the proposal", style="danger"),
)}

REVIEW_ACTIONS = {action.name: action for action in (
    _action("declare-conflict", "review", {VOTING, QUESTION}, None, {MEMBER, CHAIR}, "Declare a conflict of interest",
            "declared a conflict of interest and is recused", style="secondary"),
    _action("vote", "review", {VOTING}, None, {MEMBER, CHAIR}, "Vote", "voted"),
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
    WITHDRAWN: ("nobody", "the proposal was withdrawn"),
    DELETED: ("nobody", "the draft was deleted"),
}

STATE_LABELS = {
    DRAFT: "Draft", SUBMITTED: "Submitted", RETURNED: "Returned for revision", UNDER_REVIEW: "Under review",
    DECIDED: "Decided", WITHDRAWN: "Withdrawn", DELETED: "Deleted",
    VOTING: "Voting", QUESTION: "Waiting for the applicant's answer", CLOSED: "Voting closed",
    REVIEW_DECIDED: "Decided", "cancelled": "Cancelled",
}


def allowed(action: Action, state: str, relations: set[str]) -> bool:
    """The one rule: the action starts from this state and the person stands in a relation it names."""
    return state in action.from_states and bool(action.who & relations)


def available(actions: dict[str, Action], state: str, relations: set[str]) -> list[Action]:
    return [action for action in actions.values() if allowed(action, state, relations)]
