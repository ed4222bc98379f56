"""Data access committees: their rules, agreements and the study groups they govern.

Members and chairs are role grants scoped to the committee (accounts), so one grant table serves
sign-in, the admin's role page and the review queue alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select

from harmony import db
from harmony.access_requests import permissions
from harmony.access_requests.models import RULES, Committee, CommitteeAgreement
from harmony.accounts.models import RoleGrant, User
from harmony.accounts.permissions import Principal
from harmony.catalog import services as catalog
from harmony.catalog.models import StudyGroup
from harmony.errors import NotFound, PermissionDenied, StateConflict


class CommitteeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=200, json_schema_extra={"pattern": r"^\s*\S[\s\S]*\S\s*$"})
    rule: str = "majority"
    quorum: float = Field(default=0.5, gt=0, le=100, json_schema_extra=lambda schema: schema.update(
        anyOf=[{"type": "integer", "minimum": 1, "maximum": 100},
               {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}]))
    voting_days: int = Field(default=14, ge=1, le=365)
    answer_days: int = Field(default=14, ge=1, le=365)  # for the applicant to answer a question
    agreement_days: int = Field(default=30, ge=1, le=365)  # for the applicants to accept the agreement
    agreement: str | None = Field(default=None, max_length=50000)

    @field_validator("name", "agreement", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("rule")
    @classmethod
    def _rule(cls, value: str) -> str:
        if value not in RULES:
            raise ValueError(f"choose one of {', '.join(RULES)}")
        return value

    @field_validator("quorum")
    @classmethod
    def _quorum(cls, value: float) -> float:
        if value >= 1 and value != int(value):
            raise ValueError("a quorum is a whole number of votes (2) or a fraction of the members (0.5)")
        return value


def quorum_label(quorum: float) -> str:
    return f"{int(quorum)} votes" if quorum >= 1 else f"{quorum:.0%} of the members who are not recused"


def _require_admin(actor: Principal) -> None:
    if not permissions.can_manage_committees(actor):
        raise PermissionDenied("Only admins can manage committees.")


def create_committee(actor: Principal, data: CommitteeInput) -> Committee:
    _require_admin(actor)
    with db.unit_of_work() as uow:
        if uow.session.scalar(select(Committee).where(func.lower(Committee.name) == data.name.lower())):
            raise StateConflict(fields={"name": [f"a committee named {data.name} exists already"]})
        committee = Committee(name=data.name, rule=data.rule, quorum=data.quorum, voting_days=data.voting_days,
                              answer_days=data.answer_days, agreement_days=data.agreement_days)
        uow.session.add(committee)
        uow.session.flush()
        _set_agreement(uow.session, committee, data.agreement)
    return committee


def update_committee(actor: Principal, committee_id: int, data: CommitteeInput,
                     governed: set[int] | None = None) -> Committee:
    """Change the committee and, given `governed`, make it govern exactly those study groups (the groups
    it lets go have no committee until another takes them) — all in one transaction."""
    _require_admin(actor)
    with db.unit_of_work() as uow:
        committee = uow.session.get(Committee, committee_id)
        if committee is None:
            raise NotFound("No such committee.")
        clash = uow.session.scalar(select(Committee).where(func.lower(Committee.name) == data.name.lower(),
                                                           Committee.id != committee_id))
        if clash is not None:
            raise StateConflict(fields={"name": [f"a committee named {data.name} exists already"]})
        committee.name, committee.rule, committee.quorum = data.name, data.rule, data.quorum
        committee.voting_days = data.voting_days
        committee.answer_days, committee.agreement_days = data.answer_days, data.agreement_days
        _set_agreement(uow.session, committee, data.agreement)
        for group in catalog.groups() if governed is not None else []:
            if (group.id in governed) != (group.committee_id == committee_id):
                catalog.set_group_committee(actor, group.id, committee_id if group.id in governed else None)
    return committee


def _set_agreement(session, committee: Committee, text: str | None) -> None:
    """A changed agreement text becomes a new version; earlier versions stay, as accepted."""
    if not text or text == agreement_text(committee, session):
        return
    committee.agreement_version += 1
    session.add(CommitteeAgreement(committee_id=committee.id, version=committee.agreement_version, text=text))


def agreement_text(committee: Committee, session=None) -> str | None:
    session = session or db.session()
    return session.scalar(select(CommitteeAgreement.text).where(
        CommitteeAgreement.committee_id == committee.id, CommitteeAgreement.version == committee.agreement_version))


def govern(actor: Principal, committee_id: int, group_id: int) -> None:
    """Say that the committee decides on the study group's datasets (one committee per group)."""
    get_committee(committee_id)
    catalog.set_group_committee(actor, group_id, committee_id)


def committees() -> list[Committee]:
    return list(db.session().scalars(select(Committee).order_by(Committee.name)))


def get_committee(committee_id: int) -> Committee:
    committee = db.session().get(Committee, committee_id)
    if committee is None:
        raise NotFound("No such committee.")
    return committee


def committee_by_name(name: str) -> Committee:
    committee = db.session().scalar(select(Committee).where(func.lower(Committee.name) == name.strip().lower()))
    if committee is None:
        raise NotFound(f"No committee named {name!r}.")
    return committee


@dataclass(frozen=True)
class Member:
    user: User
    chair: bool


def members(committee_id: int) -> list[Member]:
    """The roster: everyone with a member or chair grant for the committee, chairs first."""
    rows = db.session().execute(
        select(User, RoleGrant.role).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.scope_kind == "committee", RoleGrant.scope_id == committee_id,
               RoleGrant.role.in_(("member", "chair")))).all()
    chairs = {user.id for user, role in rows if role == "chair"}
    roster = {user.id: Member(user, user.id in chairs) for user, _role in rows}
    return sorted(roster.values(), key=lambda m: (not m.chair, m.user.display_name))


def governed_groups(committee_id: int) -> list[StudyGroup]:
    return [group for group in catalog.groups() if group.committee_id == committee_id]


def register_committee_scope() -> None:
    """Let accounts scope member and chair grants to committees."""
    from harmony.accounts import scopes

    def choices() -> list[tuple[int, str]]:
        return [(committee.id, committee.name) for committee in committees()]

    def resolve(name: str) -> int | None:
        try:
            return committee_by_name(name).id
        except NotFound:
            return None

    scopes.register(scopes.ScopeKind("committee", "Committee", choices, resolve))
