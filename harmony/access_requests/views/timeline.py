"""A proposal's audit trail in plain words: "Olga returned the proposal for revision: <comment>".

The verbs come from the workflow table (`Action.done`), the details from each event's payload, so
the timeline says what the audit trail holds and nothing else. Templates escape every part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harmony.access_requests import workflow
from harmony.access_requests.models import ProposalEvent

# Events that are not workflow actions.
OTHER_EVENTS = {"create": "created the draft", "invite": "invited a co-applicant",
                "join": "joined the proposal as co-applicant",
                "replaced": "started access through a linked proposal, which replaces this one"}
KINDS = {"renewal": "a renewal", "amendment": "an amendment"}
OUTCOMES = {"approved": "approved", "rejected": "rejected", "partially_approved": "partially approved"}


@dataclass
class Entry:
    """One line of the timeline: "<actor> <did>[: <detail>]", with the committee and what changed."""

    at: datetime
    actor: str
    did: str
    detail: str | None = None
    committee: str | None = None
    changed: list[str] = field(default_factory=list)
    action: str = ""
    result: str | None = None  # the proposal's combined outcome, when this event decided it


def outcome_words(outcome: str | None) -> str:
    return OUTCOMES.get(outcome or "", (outcome or "none").replace("_", " "))


def _did(event: ProposalEvent) -> tuple[str, str | None]:
    """The verb phrase and the detail that follows a colon."""
    payload: dict[str, Any] = event.payload or {}
    action = workflow.ACTIONS.get(event.action)
    done = action.done if action else OTHER_EVENTS.get(event.action, event.action.replace("-", " "))
    comment = event.comment
    if event.action == "vote":
        return f"{done} {(payload.get('vote') or '').replace('-', ' ')}".strip(), comment
    if event.action == "decide":
        outcome, computed = payload.get("outcome"), payload.get("computed_outcome")
        if payload.get("overridden"):
            return (f"overrode the computed outcome ({outcome_words(computed)} → {outcome_words(outcome)})",
                    payload.get("reason") or comment)
        return f"{done}: {outcome_words(outcome)} (computed outcome confirmed)", None
    if event.action == "close-voting":
        return done, payload.get("tally")
    if event.action in ("invite", "join"):
        return done, payload.get("email")
    if event.action == "send-to-review" and payload.get("reviews"):
        names = ", ".join(review.get("committee", "") for review in payload["reviews"])
        return f"{done} ({names})", comment
    if event.action == "create" and (payload.get("renewal_of") or payload.get("amendment_of")):
        kind = "renewal" if payload.get("renewal_of") else "amendment"
        return f"created the draft as {KINDS[kind]} of proposal {payload[kind + '_of']}", comment
    if event.action == "replaced":
        return f"made {KINDS.get(payload.get('kind'), 'a linked proposal')} (proposal {payload.get('by')}) active, " \
               "which replaces this one; its access ended", comment
    if event.action in ("renew", "amend") and payload.get("linked"):
        return f"{done}: proposal {payload['linked']}", comment
    named = _named(event.action, payload)
    if named:
        return f"{done} ({', '.join(named)})", comment
    return done, comment


def _named(action: str, payload: dict[str, Any]) -> list[str]:
    """What a step after the decision was about: the datasets revoked, the co-applicant removed, the
    agreements accepted with their versions."""
    if action == "revoke":
        return list(payload.get("datasets") or [])
    if action == "remove-co-applicant" and payload.get("email"):
        return [payload["email"]]
    if action == "accept-agreement":
        return [f"{name}, version {version}" for name, version in (payload.get("agreements") or {}).items()]
    return []


def entries(events: list[ProposalEvent], committees_by_review: dict[int, str]) -> list[Entry]:
    out = []
    for event in events:
        did, detail = _did(event)
        payload = event.payload or {}
        decided = payload.get("proposal") or {}
        out.append(Entry(at=event.at, actor=event.actor_name, did=did, detail=detail,
                         committee=committees_by_review.get(event.review_id) if event.review_id else None,
                         changed=list(payload.get("changed") or []), action=event.action,
                         result=outcome_words(decided["outcome"]) if decided.get("outcome") else None))
    return out
