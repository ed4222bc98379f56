"""`harmony demo load`: two fictional groups, their curators and published datasets; loading twice changes nothing."""

from sqlalchemy import func, select

from harmony import db
from harmony.accounts import services as accounts
from harmony.accounts.models import RoleGrant
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent, publication_problems
from harmony.catalog.models import Dataset, DatasetVersion
from harmony.demo import catalog as demo_catalog

LIMIT = 6


def counts() -> tuple[int, ...]:
    session = db.session()
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Dataset, DatasetVersion, RoleGrant))


def load(app):
    """`harmony demo load` (a plain click group: the `harmony` command, not the test runner, gives it the app)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["demo", "load"])


def test_demo_load_twice_gives_the_same_catalog(app):
    app.config["DEMO_RECORD_LIMIT"] = LIMIT
    first = load(app)
    assert first.exit_code == 0, first.output
    assert f"Demo datasets: {LIMIT} published (EPLN 3, NHTG 3): {LIMIT} created" in first.output
    with app.app_context():
        after_first = counts()
        epln, nhtg = catalog.group_by_acronym("EPLN"), catalog.group_by_acronym("NHTG")
        assert (nhtg.name, nhtg.country, epln.country) == ("Northern Haematology Trials Group", "NL", "DE")
        kai = accounts.principal_for(accounts.find_user("kai"))
        assert kai.scopes("curator", "group") == {epln.id}
        datasets = db.session().scalars(select(Dataset)).all()
        assert {d.state for d in datasets} == {"published"} and all(d.pid for d in datasets)
        for dataset in datasets:
            assert publication_problems(dataset.content) == {}
            DatasetContent.model_validate(dataset.content)
        paediatric = [d for d in datasets if d.group_id == epln.id]
        assert all(d.content["population"] in ("paediatric", "both") for d in paediatric)
    second = load(app)
    assert f"0 created, 0 updated, {LIMIT} unchanged, 0 rejected" in second.output
    with app.app_context():
        assert counts() == after_first


def test_made_up_fields_are_valid_varied_and_stable():
    made = [demo_catalog.variations(f"NCT{n:08d}", ["DOID:9119"]) for n in range(60)]
    assert made == [demo_catalog.variations(f"NCT{n:08d}", ["DOID:9119"]) for n in range(60)]
    for fields in made:
        DatasetContent.model_validate(fields)
        assert fields["data_types"][:2] == ["clinical", "outcome"]
        assert (fields["data_use"][0] == "DS") == bool(fields["data_use_diseases"])
    assert {f["data_use"][0] for f in made} == {"GRU", "HMB", "DS"}
    assert len({tuple(f["standards"]) for f in made}) > 10
