"""What a scoped role can be scoped to. Packages that own groups and committees register here,
so accounts can list and resolve them without importing those packages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeKind:
    kind: str  # "group" or "committee"
    label: str
    choices: Callable[[], list[tuple[int, str]]]  # (id, label) of every scope of this kind
    resolve: Callable[[str], int | None]  # a name or acronym to an id


_kinds: dict[str, ScopeKind] = {}


def register(kind: ScopeKind) -> None:
    _kinds[kind.kind] = kind


def get(kind: str) -> ScopeKind | None:
    return _kinds.get(kind)


def label_of(kind: str, scope_id: int) -> str:
    if kind == "platform":
        return "platform"
    scope = _kinds.get(kind)
    if scope is None:
        return f"{kind} #{scope_id}"
    return dict(scope.choices()).get(scope_id, f"{kind} #{scope_id}")
