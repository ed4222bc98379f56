"""Who may run which workflow action in which state: the whole table, read from `workflow.ACTIONS`.

Every proposal state × every relation a person can have to it × every proposal action, and the same
for reviews. A cell is decided by `workflow.allowed` alone, so the table, the buttons, the API's
`actions` lists and the services cannot disagree; tests/access_requests/test_permission_table.py drives
every cell through the JSON API, and docs/permissions.md is this module's rendering:

    python -m harmony.access_requests.permission_table > docs/permissions.md
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harmony.access_requests import workflow
from harmony.access_requests.models import PROPOSAL_STATES, REVIEW_STATES

# People with no workflow relation, who must be refused all the same.
OUTSIDER = "outsider"
OTHER_COMMITTEE_MEMBER = "other-committee member"
PEOPLE = (*workflow.RELATIONS, OUTSIDER, OTHER_COMMITTEE_MEMBER)
DESCRIPTIONS = {
    workflow.APPLICANT: "wrote the proposal",
    workflow.CO_APPLICANT: "invited by the applicant, and accepted",
    workflow.COORDINATOR: "the platform's coordinator (screens submitted proposals)",
    workflow.ADMIN: "a platform admin",
    workflow.MEMBER: "a member of the reviewing committee, not recused",
    workflow.CHAIR: "the chair of the reviewing committee, not recused",
    OUTSIDER: "a signed-in researcher with no relation to the proposal",
    OTHER_COMMITTEE_MEMBER: "a member of a committee that does not review the proposal",
}
TARGETS = {"proposal": PROPOSAL_STATES, "review": REVIEW_STATES}
NO_RELATION, WRONG_STATE = 403, 409  # what the API answers when a cell is not allowed


def relations_of(person: str) -> set[str]:
    """The workflow relations a person in this column stands in (none for the last two columns)."""
    return {person} if person in workflow.RELATIONS else set()


@dataclass(frozen=True)
class Cell:
    target: str  # "proposal" or "review"
    state: str
    person: str  # one of PEOPLE
    action: str
    allowed: bool
    refusal: int | None  # None when allowed; 403: no relation the action names; 409: the state is wrong

    @property
    def id(self) -> str:
        return f"{self.target}-{self.state}-{self.person.replace(' member', '')}-{self.action}"


def actions_of(target: str) -> dict[str, workflow.Action]:
    return {name: action for name, action in workflow.ACTIONS.items() if action.target == target}


def rows() -> list[Cell]:
    """Every cell: target, state, person, action, allowed, and the refusal's status code."""
    cells = []
    for target, states in TARGETS.items():
        for state in states:
            for person in PEOPLE:
                relations = relations_of(person)
                for name, action in actions_of(target).items():
                    allowed = workflow.allowed(action, state, relations)
                    refusal = None if allowed else WRONG_STATE if action.who & relations else NO_RELATION
                    cells.append(Cell(target, state, person, name, allowed, refusal))
    return cells


def _table(header: list[str], lines: Iterable[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(line) + " |" for line in lines)
    return out


MARKS = {None: "**yes**", WRONG_STATE: "not now", NO_RELATION: "—"}


def _mark(cell: Cell) -> str:
    return MARKS[cell.refusal]


def render() -> str:
    """docs/permissions.md."""
    cells = rows()
    out = [
        "# Who may do what: the access-request permission table",
        "",
        "<!-- Generated from harmony/access_requests/workflow.py; do not edit by hand. Regenerate with",
        "     python -m harmony.access_requests.permission_table > docs/permissions.md",
        "     tests/access_requests/test_permission_table.py fails when this file and the table differ. -->",
        "",
        "This document is generated from the workflow table (`workflow.ACTIONS`): a person may run an action",
        "when the proposal or review is in a state the action starts from and the person stands in a relation",
        "the action names. Every cell below is also a test that drives a real proposal or review into the",
        "state over the JSON API and posts the action as such a person",
        "(tests/access_requests/test_permission_table.py).",
        "",
        "How the API answers `POST /api/v1/requests/{id}/actions/{action}` and",
        "`POST /api/v1/reviews/{id}/actions/{action}`:",
        "",
        f"- {MARKS[None]}: 200, and the action is one event in the proposal's audit trail.",
        f"- {MARKS[WRONG_STATE]}: {WRONG_STATE}; the person stands in a relation the action names, but the action",
        "  does not start from this state.",
        f"- {MARKS[NO_RELATION]}: {NO_RELATION}; the person stands in no relation the action names.",
        "- Before either, someone who may not see the proposal or review at all gets 404, so drafts stay secret:",
        "  drafts are seen by their applicants only; coordinators and admins see proposals once submitted;",
        "  committee members and chairs see a proposal once their committee reviews it, and only their own",
        "  committee's review; a deleted draft only its applicant.",
        "- A refused action changes nothing.",
        "- Beyond the table, some actions check their input (422: input wrong in itself) or the data (409:",
        "  well-formed input the current state refuses; problem type `state-conflict` when it names fields).",
        "  422: a comment where the action needs one, a vote from the list, an outcome from the list;",
        "  `file-report` needs whether the data were deleted; `remove-co-applicant` names a co-applicant.",
        "  409: `submit` and `resubmit` need a complete proposal; `send-to-review` needs every dataset still",
        "  published and governed by a committee, and an amendment that changes something; `decide` needs an",
        "  outcome when the votes give none, and a reason when it overrides the computed one; `close` by the",
        "  applicant needs the final report; `remove-co-applicant` refuses someone who is not (or no longer)",
        "  a co-applicant of the proposal; `answer` needs a committee's question waiting; `revoke` needs live",
        "  access the person may revoke; `accept-agreement` is refused to someone who has accepted already.",
        "",
        "## People",
        "",
        *_table(["column", "who"], ([person, DESCRIPTIONS[person]] for person in PEOPLE)),
        "",
        "Member and chair count for the review's own committee only, and not once recused (a declared",
        "conflict of interest); on a proposal, a chair is the chair of one of its reviewing committees and",
        "revokes that committee's datasets. `close-voting` is also run by the system when the voting deadline",
        "passes, and `expire` only by the system when grants reach their end (`harmony requests tick`).",
        "",
        "## Actions",
        "",
    ]
    action_lines = []
    for action in workflow.ACTIONS.values():
        action_lines.append([f"`{action.name}`", action.target, ", ".join(sorted(action.from_states)),
                             " or ".join([action.to_state or "(stays)", *sorted(action.or_to)]),
                             ", ".join(sorted(action.who)),
                             "yes" if action.needs_comment else ""])
    out += _table(["action", "on", "from", "to", "who", "needs a comment"], action_lines)
    for target, states in TARGETS.items():
        names = list(actions_of(target))
        out += ["", f"## {target.title()} states", ""]
        for state in states:
            out += [f"### {target.title()}: {state} ({workflow.state_label(target, state)})", ""]
            by_person = {person: [c for c in cells if c.target == target and c.state == state and c.person == person]
                         for person in PEOPLE}
            out += _table(["", *[f"`{name}`" for name in names]],
                          ([person, *[_mark(cell) for cell in by_person[person]]] for person in PEOPLE))
            out.append("")
    allowed = sum(cell.allowed for cell in cells)
    out += [f"{len(cells)} cells, {allowed} allowed.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
