"""The demo personas: who to sign in as at the development provider, and what each one can do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    subject: str
    name: str
    role: str  # platform role, or "" for a researcher
    scope: str  # "", "group:1", "group:2", "committee:1", "committee:2"
    does: str

    @property
    def email(self) -> str:
        return f"{self.subject}@demo.harmony.example"

    @property
    def affiliation(self) -> str:
        return "Harmony demo consortium"


PERSONAS = [
    Persona("alice", "Alice Martin", "", "", "researcher: searches, fills a basket, writes proposals"),
    Persona("bruno", "Bruno Rossi", "", "", "researcher, co-applicant"),
    Persona("cora", "Cora Jansen", "curator", "group:1", "curator of the first demo study group"),
    Persona("kai", "Kai Lindqvist", "curator", "group:2", "curator of the second demo study group"),
    Persona("dave", "Dave Novak", "member", "committee:1", "member of the first committee"),
    Persona("erin", "Erin Walsh", "member", "committee:1", "member of the first committee"),
    Persona("fay", "Fay Dubois", "member", "committee:1", "member of the first committee"),
    Persona("gus", "Gus Moreau", "member", "committee:2", "member of the second committee"),
    Persona("hana", "Hana Sato", "member", "committee:2", "member of the second committee"),
    Persona("chris", "Chris Keller", "chair", "committee:1", "chair of the first committee"),
    Persona("ivy", "Ivy Costa", "chair", "committee:2", "chair of the second committee"),
    Persona("olga", "Olga Petrova", "coordinator", "", "coordinator: screens submitted proposals"),
    Persona("adam", "Adam Smith", "admin", "", "admin: groups, committees, roles"),
]
