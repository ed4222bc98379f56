"""How a data access committee's votes become a decision.

The rules are pure functions of the votes, the roster, the recusals and the quorum (no database, no Flask), so
they can be tested exhaustively and shown to chairs exactly as they are applied.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fractions import Fraction

VOTES = ("approve", "approve-with-conditions", "reject", "abstain")
RULES = ("majority", "unanimity", "any-reject-blocks", "chair-decides")
APPROVED, REJECTED = "approved", "rejected"

APPROVING_VOTES = ("approve", "approve-with-conditions")
RULE_NAMES = {
    "majority": "Majority",
    "unanimity": "Unanimity",
    "any-reject-blocks": "Any reject blocks",
    "chair-decides": "Chair decides",
}


@dataclass(frozen=True)
class Tally:
    rule: str
    eligible: int  # roster members not recused
    cast: int  # votes cast by eligible members (abstentions included)
    approve: int  # approve + approve-with-conditions, eligible voters only
    with_conditions: int  # of which approve-with-conditions
    reject: int
    abstain: int
    quorum_needed: int
    quorum_met: bool
    outcome: str | None  # APPROVED, REJECTED or None (no outcome yet)
    advice: str | None  # chair-decides: what the members' votes would give by majority, else None


def quorum_needed(quorum: float, eligible: int) -> int:
    """Votes needed: a quorum >= 1 is a number of votes, 0 < quorum < 1 a fraction of the eligible members (at least 1)."""
    if not (isinstance(quorum, int | float) and math.isfinite(quorum) and quorum > 0):
        raise ValueError(f"quorum must be a positive number, not {quorum!r}")
    if quorum >= 1:
        return int(quorum)
    # Exact decimal arithmetic: 0.3 * 10 is 3.0000000000000004 in floats, which would need 4 votes, not 3.
    return max(1, math.ceil(Fraction(str(quorum)) * eligible))


def majority_outcome(approve: int, reject: int) -> str | None:
    """Approve beats reject; a tie rejects; with neither, no outcome. Abstentions are not counted here."""
    if approve > reject:
        return APPROVED
    if reject > 0:
        return REJECTED
    return None


def no_reject_outcome(approve: int, reject: int) -> str | None:
    """Unanimity and any-reject-blocks: a single reject rejects; otherwise any approve approves."""
    if reject > 0:
        return REJECTED
    if approve > 0:
        return APPROVED
    return None


def tally(
    rule: str,
    votes: Mapping[int, str],
    roster: Collection[int],
    recused: Collection[int],
    quorum: float,
    chair_id: int | None = None,
) -> Tally:
    """Count the votes of the roster members who are not recused and apply the committee's rule."""
    if rule not in RULES:
        raise ValueError(f"unknown decision rule {rule!r}; expected one of {', '.join(RULES)}")
    invalid = sorted({vote for vote in votes.values() if vote not in VOTES})
    if invalid:
        raise ValueError(f"unknown vote {invalid[0]!r}; expected one of {', '.join(VOTES)}")
    eligible_ids = set(roster) - set(recused)
    counted = {user_id: vote for user_id, vote in votes.items() if user_id in eligible_ids}
    values = list(counted.values())
    approve = sum(vote in APPROVING_VOTES for vote in values)
    reject = values.count("reject")
    needed = quorum_needed(quorum, len(eligible_ids))
    quorum_met = bool(eligible_ids) and len(counted) >= needed

    advice = None
    if rule == "chair-decides":
        chair_vote = counted.get(chair_id)  # None when the chair is absent, recused or has not voted
        outcome = {"approve": APPROVED, "approve-with-conditions": APPROVED, "reject": REJECTED}.get(chair_vote)
        advice = majority_outcome(approve, reject)
    elif not quorum_met:
        outcome = None
    elif rule == "majority":
        outcome = majority_outcome(approve, reject)
    else:  # unanimity and any-reject-blocks
        outcome = no_reject_outcome(approve, reject)

    return Tally(
        rule=rule,
        eligible=len(eligible_ids),
        cast=len(counted),
        approve=approve,
        with_conditions=values.count("approve-with-conditions"),
        reject=reject,
        abstain=values.count("abstain"),
        quorum_needed=needed,
        quorum_met=quorum_met,
        outcome=outcome,
        advice=advice,
    )


def describe(t: Tally) -> str:
    """One sentence for the review page, e.g.
    "3 of 4 members voted (quorum 2 reached): 2 approve, 1 reject. Majority: approved."
    """
    members = "member" if t.eligible == 1 else "members"
    quorum = f"quorum {t.quorum_needed} {'reached' if t.quorum_met else 'not reached'}"
    approve = f"{t.approve} approve" + (f" ({t.with_conditions} with conditions)" if t.with_conditions else "")
    counts = [approve, f"{t.reject} reject"] + ([f"{t.abstain} abstain"] if t.abstain else [])
    if t.rule == "chair-decides":
        decision = t.outcome or "awaiting the chair's vote"
        decision += f" (the members' votes by majority: {t.advice or 'no outcome'})"
    else:
        decision = t.outcome or "no outcome yet"
    return f"{t.cast} of {t.eligible} {members} voted ({quorum}): {', '.join(counts)}. {RULE_NAMES[t.rule]}: {decision}."
