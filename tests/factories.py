"""Test data made through the services, never by writing rows behind their back."""

from __future__ import annotations

from typing import Any

from harmony.accounts import services as accounts
from harmony.accounts.permissions import Principal
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent
from harmony.catalog.models import Dataset, StudyGroup

ISSUER = "http://idp.test"


def user(subject: str, name: str | None = None):
    return accounts.provision_user(ISSUER, subject, {"name": name or subject.title(), "email": f"{subject}@example.org"})


def principal(subject: str) -> Principal:
    return accounts.principal_for(accounts.find_user(subject, ISSUER))


def admin(subject: str = "admin") -> Principal:
    person = user(subject)
    accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=person.id, role="admin"))
    return accounts.principal_for(person)


def group(acronym: str = "HOVON", name: str | None = None, country: str = "NL") -> StudyGroup:
    return catalog.create_group(COMMAND_LINE, catalog.GroupInput(name=name or f"{acronym} study group",
                                                                 acronym=acronym, country=country))


def curator(subject: str, study_group: StudyGroup) -> Principal:
    person = user(subject)
    accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=person.id, role="curator", scope_id=study_group.id))
    return accounts.principal_for(person)


def content(**overrides: Any) -> DatasetContent:
    data: dict[str, Any] = {
        "title": "HOVON 132 AML: lenalidomide added to standard induction in newly diagnosed AML",
        "acronym": "HOVON-132",
        "description": "Randomised phase 3 trial of lenalidomide added to standard intensive induction "
                       "chemotherapy in adults aged 18 to 65 with newly diagnosed acute myeloid leukaemia.",
        "keywords": ["AML", "lenalidomide", "induction"],
        "contact_point": {"name": "HOVON Data Center", "email": "data@hovon.example"},
        "creators": [{"name": "Gert Ossenkoppele", "orcid": "0000-0002-1825-0097"}],
        "registrations": ["NCT01234567"],
        "diseases": ["DOID:9119"],
        "population": "adult",
        "age_min": 18,
        "age_max": 65,
        "n_patients": 800,
        "countries": ["NL", "BE"],
        "study_type": "interventional",
        "phases": ["phase-3"],
        "recruitment_start": "2014-01-01",
        "recruitment_end": "2019-06-30",
        "data_types": ["clinical", "outcome", "cytogenetics"],
        "standards": ["cdisc-sdtm"],
        "data_use": ["DUO:0000042"],
        "legal_basis": ["A9-2-j"],
        "purpose": ["AcademicResearch"],
        "provenance": "Collected in the HOVON 132 trial case report forms; cleaned by the HOVON Data Center.",
    }
    data.update(overrides)
    return DatasetContent.model_validate(data)


def dataset(actor: Principal, study_group: StudyGroup, publish: bool = True, **overrides: Any) -> Dataset:
    created = catalog.create_dataset(actor, study_group.id, content(**overrides))
    if publish:
        catalog.publish(actor, created.id)
    return catalog.get_dataset(actor, created.id)


def signed_in(client, app, subject: str, role: str | None = None, scope_id: int | None = None) -> Principal:
    """Sign `client` in as `subject` through the development provider, optionally with a role."""
    from tests.identity import sign_in

    sign_in(client, subject)
    with app.app_context():
        person = accounts.find_user(subject)
        if role:
            accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=person.id, role=role, scope_id=scope_id))
        return accounts.principal_for(person)


def csrf_token(client, path: str = "/account") -> str:
    """The CSRF token of the signed-in session, read from a page that carries a form."""
    text = client.get(path).get_data(as_text=True)
    for marker in ('name="csrf_token" type="hidden" value="', 'name="csrf_token" value="'):
        if marker in text:
            return text.split(marker, 1)[1].split('"', 1)[0]
    raise AssertionError(f"no CSRF token on {path}")
