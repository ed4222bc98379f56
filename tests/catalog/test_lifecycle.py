"""Dataset descriptions: create, edit, publish versions, withdraw; who may do and see what."""

import pytest
from sqlalchemy import select

from harmony import db
from harmony.accounts.permissions import ANONYMOUS
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent, completeness
from harmony.catalog.models import PUBLISHED, WITHDRAWN
from harmony.db import ChangeLog
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from harmony.validation import parse
from tests import factories


@pytest.fixture
def world(app):
    with app.app_context():
        group = factories.group("HOVON")
        other = factories.group("GMALL", country="DE")
        cora = factories.curator("cora", group)
        kai = factories.curator("kai", other)
    return {"group": group, "other": other, "cora": cora, "kai": kai}


def test_create_assigns_a_pid_and_keeps_it_private(app, world):
    with app.app_context():
        created = catalog.create_dataset(world["cora"], world["group"].id, factories.content())
        assert created.pid == f"HM-{created.id:06d}"
        with pytest.raises(NotFound):
            catalog.get_dataset(ANONYMOUS, created.pid)
        with pytest.raises(NotFound):
            catalog.get_dataset(world["kai"], created.id)  # another group's curator
        assert catalog.get_dataset(world["cora"], created.pid).state == "draft"


def test_only_curators_of_the_group_create_and_edit(app, world):
    with app.app_context():
        with pytest.raises(PermissionDenied):
            catalog.create_dataset(world["kai"], world["group"].id, factories.content())
        with pytest.raises(PermissionDenied):
            catalog.create_dataset(ANONYMOUS, world["group"].id, factories.content())
        published = factories.dataset(world["cora"], world["group"])
        with pytest.raises(PermissionDenied):
            catalog.update_dataset(world["kai"], published.id, factories.content(title="Hijacked"))


def test_publish_needs_the_mandatory_fields(app, world):
    with app.app_context():
        created = catalog.create_dataset(world["cora"], world["group"].id, DatasetContent(title="Only a title"))
        with pytest.raises(ValidationError) as error:
            catalog.publish(world["cora"], created.id)
        assert {"description", "diseases", "n_patients", "population"} <= set(error.value.fields)


def test_versions_are_immutable_and_diffable(app, world):
    with app.app_context():
        dataset = factories.dataset(world["cora"], world["group"])
        assert dataset.state == PUBLISHED and dataset.published_version == 1
        catalog.update_dataset(world["cora"], dataset.id, factories.content(n_patients=812, version_notes="Final count"))
        assert catalog.latest_version(catalog.get_dataset(ANONYMOUS, dataset.id)).content["n_patients"] == 800
        catalog.publish(world["cora"], dataset.id)
        first, second = catalog.versions(dataset.id)
        assert (first.version, second.version) == (1, 2)
        assert first.content["n_patients"] == 800
        changes = dict((field, (old, new)) for field, old, new in catalog.diff(first.content, second.content))
        assert changes["n_patients"] == (800, 812)
        assert "title" not in changes
        with pytest.raises(InvalidTransition):
            catalog.publish(world["cora"], dataset.id)  # nothing changed since


def test_withdraw_needs_a_reason_and_keeps_a_tombstone(app, world):
    with app.app_context():
        dataset = factories.dataset(world["cora"], world["group"])
        with pytest.raises(ValidationError):
            catalog.withdraw(world["cora"], dataset.id, "")
        catalog.withdraw(world["cora"], dataset.id, "Consent withdrawn by the participating centres.")
        tombstone = catalog.get_dataset(ANONYMOUS, dataset.pid)
        assert tombstone.state == WITHDRAWN and "Consent" in tombstone.withdrawn_reason
        with pytest.raises(InvalidTransition):
            catalog.withdraw(world["cora"], dataset.id, "Twice is once too many.")
        with pytest.raises(InvalidTransition):
            catalog.update_dataset(world["cora"], dataset.id, factories.content())


def test_concurrent_edit_is_refused(app, world):
    with app.app_context():
        dataset = factories.dataset(world["cora"], world["group"])
        opened_at = dataset.lock_version
        catalog.update_dataset(world["cora"], dataset.id, factories.content(n_patients=1), expected_lock_version=opened_at)
        with pytest.raises(Conflict):
            catalog.update_dataset(world["cora"], dataset.id, factories.content(n_patients=2), expected_lock_version=opened_at)


def test_changes_are_written_to_the_change_log(app, world):
    with app.app_context():
        dataset = factories.dataset(world["cora"], world["group"])
        actions = db.session().scalars(select(ChangeLog.action).where(ChangeLog.entity_kind == "dataset",
                                                                      ChangeLog.entity_id == str(dataset.id))).all()
        assert actions == ["created", "published"]


def test_content_validation_names_each_field():
    with pytest.raises(ValidationError) as error:
        parse(DatasetContent, {"registrations": ["NCT123"], "countries": ["Atlantis"], "diseases": ["flu"],
                               "age_min": 70, "age_max": 18, "data_use": ["XYZ"]})
    fields = error.value.fields
    assert {"registrations", "countries", "diseases", "data_use"} <= set(fields)


def test_content_resolves_vocabulary_terms():
    content = DatasetContent.model_validate({"diseases": ["AML", "C91.0"], "countries": ["Germany", "nl"],
                                             "data_use": ["GRU", "IRB"]})
    assert content.diseases[0] == "DOID:9119"
    assert content.countries == ["DE", "NL"]
    assert content.data_use == ["DUO:0000042", "DUO:0000021"]


def test_completeness_rises_as_fields_are_filled():
    empty, fix_it = completeness({})
    full, remaining = completeness(factories.content().stored())
    assert empty < 30 < full
    assert any(check.key == "title" for check in fix_it)
    assert not any(check.kind == "mandatory" for check in remaining)


def test_renaming_a_group_to_an_existing_acronym_is_refused(app, world):
    from harmony.accounts.services import COMMAND_LINE

    with app.app_context():
        with pytest.raises(ValidationError) as error:
            catalog.update_group(COMMAND_LINE, world["other"].id, catalog.GroupInput(name="x" * 3, acronym="hovon"))
        assert "acronym" in error.value.fields
        factories.dataset(world["cora"], world["group"])
        assert catalog.published_counts() == {world["group"].id: 1}
