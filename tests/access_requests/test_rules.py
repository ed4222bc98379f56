"""The committee's decision rules: worked examples of each rule and quorum form, then properties over random committees."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harmony.access_requests.rules import APPROVED, REJECTED, RULES, VOTES, Tally, describe, quorum_needed, tally

ROSTER = (1, 2, 3, 4, 5)


def majority(votes, roster=ROSTER, recused=(), quorum=1):
    return tally("majority", votes, roster, recused, quorum).outcome


# --- quorum ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quorum", "eligible", "needed"),
    [
        (3, 5, 3),  # a whole number of votes
        (3.0, 5, 3),
        (2.9, 5, 2),  # >= 1 means a number of votes: int()
        (7, 5, 7),  # more than the eligible members: never met
        (0.5, 5, 3),  # a fraction of the eligible members, rounded up
        (0.5, 4, 2),
        (0.3, 10, 3),  # not 4: 0.3 * 10 is 3.0000000000000004 in floats
        (0.1, 10, 1),
        (2 / 3, 3, 2),
        (0.01, 5, 1),  # at least one vote
        (0.5, 0, 1),  # no eligible members: at least one vote, so never met
    ],
)
def test_quorum_needed(quorum, eligible, needed):
    assert quorum_needed(quorum, eligible) == needed


@pytest.mark.parametrize("quorum", [0, 0.0, -1, -0.5, float("nan"), float("inf")])
def test_quorum_must_be_a_positive_number(quorum):
    with pytest.raises(ValueError, match="quorum"):
        quorum_needed(quorum, 5)
    with pytest.raises(ValueError, match="quorum"):
        tally("majority", {}, ROSTER, (), quorum)


def test_quorum_counts_abstentions_and_only_eligible_votes():
    votes = {1: "abstain", 2: "abstain", 3: "approve", 4: "reject", 99: "approve"}  # 99 is not on the roster
    t = tally("majority", votes, ROSTER, recused={4}, quorum=0.5)
    assert (t.eligible, t.cast, t.quorum_needed, t.quorum_met) == (4, 3, 2, True)
    assert (t.approve, t.reject, t.abstain) == (1, 0, 2)


def test_no_eligible_members_never_meets_quorum():
    t = tally("majority", {1: "approve"}, roster=[1], recused=[1], quorum=0.5)
    assert (t.eligible, t.cast, t.quorum_met, t.outcome) == (0, 0, False, None)


def test_invalid_rule_or_vote():
    with pytest.raises(ValueError, match="rule"):
        tally("plurality", {}, ROSTER, (), 1)
    with pytest.raises(ValueError, match="vote"):
        tally("majority", {1: "yes"}, ROSTER, (), 1)


# --- each rule ------------------------------------------------------------------------------------------------


def test_majority():
    assert majority({1: "approve", 2: "approve-with-conditions", 3: "reject"}) == APPROVED
    assert majority({1: "approve", 2: "reject"}) == REJECTED  # a tie rejects
    assert majority({1: "approve", 2: "reject", 3: "reject"}) == REJECTED
    assert majority({1: "approve", 2: "abstain", 3: "abstain"}) == APPROVED  # abstentions are not against
    assert majority({1: "abstain", 2: "abstain"}) is None  # nobody approved or rejected
    assert majority({}) is None
    assert majority({1: "approve"}, quorum=2) is None  # before quorum


def test_unanimity():
    rule = "unanimity"
    assert tally(rule, {1: "approve", 2: "approve-with-conditions", 3: "abstain"}, ROSTER, (), 2).outcome == APPROVED
    assert tally(rule, {1: "approve", 2: "approve", 3: "reject"}, ROSTER, (), 2).outcome == REJECTED
    assert tally(rule, {1: "abstain", 2: "abstain"}, ROSTER, (), 2).outcome is None
    assert tally(rule, {1: "reject"}, ROSTER, (), 2).outcome is None  # before quorum


def test_any_reject_blocks():
    rule = "any-reject-blocks"
    assert tally(rule, {1: "approve", 2: "approve", 3: "approve", 4: "reject"}, ROSTER, (), 2).outcome == REJECTED
    assert tally(rule, {1: "approve", 2: "approve-with-conditions"}, ROSTER, (), 2).outcome == APPROVED
    assert tally(rule, {1: "abstain", 2: "abstain"}, ROSTER, (), 2).outcome is None
    assert tally(rule, {1: "approve", 2: "reject"}, ROSTER, recused={2}, quorum=1).outcome == APPROVED  # recused


def test_chair_decides():
    def chair_decides(votes, recused=(), chair_id=1, quorum=3):
        return tally("chair-decides", votes, ROSTER, recused, quorum, chair_id=chair_id)

    t = chair_decides({1: "approve", 2: "reject", 3: "reject"})
    assert (t.outcome, t.advice) == (APPROVED, REJECTED)
    assert chair_decides({1: "approve-with-conditions"}).outcome == APPROVED  # quorum (3) does not apply
    assert not chair_decides({1: "approve-with-conditions"}).quorum_met  # but is still shown
    assert chair_decides({1: "reject", 2: "approve", 3: "approve"}).outcome == REJECTED
    t = chair_decides({1: "abstain", 2: "approve"})
    assert (t.outcome, t.advice) == (None, APPROVED)
    assert chair_decides({2: "approve", 3: "approve"}).outcome is None  # the chair has not voted
    assert chair_decides({1: "approve"}, recused={1}).outcome is None  # a recused chair cannot decide
    assert chair_decides({1: "approve"}, chair_id=None).outcome is None
    assert tally("majority", {1: "approve"}, ROSTER, (), 1).advice is None  # advice only under chair-decides


def test_describe():
    t = tally("majority", {1: "approve", 2: "approve", 3: "reject", 9: "reject"}, [1, 2, 3, 4], (), 2)
    assert describe(t) == "3 of 4 members voted (quorum 2 reached): 2 approve, 1 reject. Majority: approved."
    t = tally("unanimity", {1: "approve-with-conditions", 2: "abstain"}, [1, 2, 3], (), 3)
    assert describe(t) == (
        "2 of 3 members voted (quorum 3 not reached): 1 approve (1 with conditions), 0 reject, 1 abstain. "
        "Unanimity: no outcome yet."
    )
    t = tally("chair-decides", {2: "approve"}, [1, 2], (), 1, chair_id=1)
    assert describe(t) == (
        "1 of 2 members voted (quorum 1 reached): 1 approve, 0 reject. "
        "Chair decides: awaiting the chair's vote (the members' votes by majority: approved)."
    )


# --- properties over random committees -----------------------------------------------------------------------

OUTSIDERS = range(100, 104)  # user ids never on a roster


@dataclass(frozen=True)
class Committee:
    rule: str
    roster: frozenset[int]
    recused: frozenset[int]
    votes: dict[int, str]  # from members, recused members and outsiders alike
    quorum: float
    chair_id: int | None

    @property
    def eligible(self) -> frozenset[int]:
        return self.roster - self.recused

    def eligible_votes(self) -> dict[int, str]:
        return {user_id: vote for user_id, vote in self.votes.items() if user_id in self.eligible}

    def tally(self, votes: dict[int, str] | None = None, rule: str | None = None) -> Tally:
        votes = self.votes if votes is None else votes
        return tally(rule or self.rule, votes, self.roster, self.recused, self.quorum, self.chair_id)


# Strategies built once: building them inside every draw makes the tests several times slower.
ANY_RULE = st.sampled_from(RULES)
USER_IDS = st.permutations(range(1, 21))
ROSTER_SIZES = st.integers(1, 9)
QUORUMS = st.integers(1, 9) | st.floats(0, 1, exclude_min=True, exclude_max=True)
RECUSED = st.sampled_from([False, False, False, True])  # about one member in four
VOTE_OR_NONE = st.sampled_from((*VOTES, None))  # most members have voted
OUTSIDER_VOTES = st.dictionaries(st.sampled_from(OUTSIDERS), st.sampled_from(VOTES))


def draw_votes(draw, user_ids) -> dict[int, str]:
    """Maybe a vote from each of these users, and some from outsiders."""
    votes = {user_id: vote for user_id in user_ids if (vote := draw(VOTE_OR_NONE)) is not None}
    return votes | draw(OUTSIDER_VOTES)


@st.composite
def committees(draw, rules=ANY_RULE):
    roster = draw(USER_IDS)[: draw(ROSTER_SIZES)]  # in random order, so roster[0] is any member
    recused = frozenset(user_id for user_id in roster if draw(RECUSED))
    chair_id = roster[0] if draw(st.booleans()) else None
    return Committee(draw(rules), frozenset(roster), recused, draw_votes(draw, roster), draw(QUORUMS), chair_id)


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


@PROPERTY_SETTINGS
@given(committees(), st.data())
def test_recused_members_and_outsiders_never_change_the_tally(committee, data):
    other_ignored = draw_votes(data.draw, committee.recused)
    expected = committee.tally(committee.eligible_votes())
    assert committee.tally() == expected  # their votes removed
    assert committee.tally(other_ignored | committee.eligible_votes()) == expected  # different ones added
    assert expected.eligible == len(committee.eligible)


@PROPERTY_SETTINGS
@given(committees(st.sampled_from([rule for rule in RULES if rule != "chair-decides"])))
def test_no_outcome_before_quorum(committee):
    t = committee.tally()
    assert t.quorum_met == (t.eligible > 0 and t.cast >= t.quorum_needed)
    if not t.quorum_met:
        assert t.outcome is None


@PROPERTY_SETTINGS
@given(committees())
def test_unanimous_approval_is_a_majority_approval(committee):
    if committee.tally(rule="unanimity").outcome == APPROVED:
        assert committee.tally(rule="majority").outcome == APPROVED


@PROPERTY_SETTINGS
@given(committees(st.just("any-reject-blocks")))
def test_any_eligible_reject_blocks(committee):
    t = committee.tally()
    if "reject" in committee.eligible_votes().values():
        assert t.outcome != APPROVED
        if t.quorum_met:
            assert t.outcome == REJECTED


@PROPERTY_SETTINGS
@given(committees(st.just("majority")), st.data())
def test_an_abstention_counts_for_quorum_but_not_for_majority(committee, data):
    not_voted = sorted(committee.eligible - committee.votes.keys())
    assume(not_voted)
    abstainer = not_voted[data.draw(st.integers(0, len(not_voted) - 1))]
    before, after = committee.tally(), committee.tally(committee.votes | {abstainer: "abstain"})
    assert (after.cast, after.abstain) == (before.cast + 1, before.abstain + 1)
    assert (after.approve, after.reject) == (before.approve, before.reject)
    assert after.quorum_met >= before.quorum_met  # it can only turn quorum on
    if before.outcome is not None:
        assert after.outcome == before.outcome  # never flips approved/rejected
    elif after.outcome is not None:
        assert not before.quorum_met and after.quorum_met  # a new outcome only because quorum was reached


@PROPERTY_SETTINGS
@given(committees(st.just("chair-decides")), st.data())
def test_chair_decides_ignores_the_other_votes(committee, data):
    other_votes = draw_votes(data.draw, committee.roster - {committee.chair_id})
    chair_vote = {user_id: vote for user_id, vote in committee.votes.items() if user_id == committee.chair_id}
    assert committee.tally(other_votes | chair_vote).outcome == committee.tally().outcome
    expected = {"approve": APPROVED, "approve-with-conditions": APPROVED, "reject": REJECTED}
    assert committee.tally().outcome == expected.get(committee.eligible_votes().get(committee.chair_id))


@PROPERTY_SETTINGS
@given(committees())
def test_outcome_is_known_and_counts_add_up(committee):
    t = committee.tally()
    assert t.outcome in {APPROVED, REJECTED, None}
    assert t.approve + t.reject + t.abstain == t.cast <= t.eligible
    assert 0 <= t.with_conditions <= t.approve
    assert t.cast == len(committee.eligible_votes())
    if t.rule == "chair-decides":  # advice: majority over the eligible votes, whatever the quorum
        assert t.advice == replace(committee, quorum=1).tally(rule="majority").outcome
    else:
        assert t.advice is None
