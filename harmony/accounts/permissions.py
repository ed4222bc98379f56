"""Who may do what in accounts, and the Principal every package's permission rules read.

A Principal is the signed-in user with their role grants, built once per request. Predicates
here and in the other packages' permissions.py take it, so a button, an action and a list all
ask the same question.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user_id: int | None = None
    display_name: str = ""
    # (role, scope_kind, scope_id); platform roles use ("platform", 0)
    grants: frozenset[tuple[str, str, int]] = field(default_factory=frozenset)
    # a data platform's service token: no user, reads grants only (see harmony.platforms)
    platform_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_service(self) -> bool:
        return self.platform_id is not None

    def has_role(self, role: str, scope_kind: str = "platform", scope_id: int = 0) -> bool:
        return (role, scope_kind, scope_id) in self.grants

    def scopes(self, role: str, scope_kind: str) -> set[int]:
        """The ids of the groups or committees where the user holds `role`."""
        return {sid for r, kind, sid in self.grants if r == role and kind == scope_kind}

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def is_coordinator(self) -> bool:
        return self.has_role("coordinator")

    def role_names(self) -> list[str]:
        return sorted({role for role, _kind, _sid in self.grants})


ANONYMOUS = Principal()


def can_manage_roles(principal: Principal) -> bool:
    return principal.is_admin


def can_view_user(principal: Principal, user_id: int) -> bool:
    return principal.user_id == user_id or principal.is_admin


def can_manage_tokens_of(principal: Principal, user_id: int) -> bool:
    return principal.user_id == user_id
