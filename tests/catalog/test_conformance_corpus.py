"""0 SHACL violations on every demo dataset and on every imported registry record.

One SQLite catalog for each corpus (validating hundreds of datasets is the slow part; the
database does not change what the RDF says, and the export tests run on both databases).
"""

from pathlib import Path

import pytest

from harmony import migrate
from harmony.accounts.services import COMMAND_LINE
from harmony.app import create_app
from harmony.catalog import services
from harmony.catalog.importers.runner import import_paths
from harmony.demo import load_demo
from tests import factories

REGISTRY_ARCHIVE = Path(__file__).parents[1] / "data" / "ctgov" / "hematology-750-ctgov-xml.tar.gz"


def _catalog_app(folder):
    url = f"sqlite:///{folder / 'harmony.db'}"
    migrate.upgrade(url)
    return create_app({"TESTING": True, "SECRET_KEY": "conformance-test-key", "DATABASE_URL": url,
                       "BASE_URL": "http://harmony.test", "SEARCH_INDEX_DIR": str(folder / "index"),
                       "LOG_LEVEL": "WARNING"})


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    app = _catalog_app(tmp_path_factory.mktemp("demo-conformance"))
    with app.app_context():
        list(load_demo())
    return app


@pytest.fixture(scope="module")
def registry_app(tmp_path_factory):
    app = _catalog_app(tmp_path_factory.mktemp("registry-conformance"))
    with app.app_context():
        group = factories.group("REG", name="Registry import test group")
        report = import_paths(COMMAND_LINE, [REGISTRY_ARCHIVE], fmt="ctgov", group_id=group.id, publish=True)
        assert len(report.created) == 750 and not report.rejected, report.summary()
    return app


def _validate_all(app) -> int:
    result = app.test_cli_runner().invoke(args=["catalog", "validate"])
    with app.app_context():
        count = len(services.published_datasets())
    assert result.exit_code == 0, result.output
    assert f"{count} published datasets: 0 violations" in result.output
    return count


def test_every_demo_dataset_conforms(demo_app):
    assert _validate_all(demo_app) == 200


def test_every_published_registry_record_conforms(registry_app):
    # the records that lack a patient count or a disease stay drafts, which are never exported
    assert _validate_all(registry_app) >= 500


def test_validate_reports_a_broken_description(demo_app):
    from rdflib import URIRef
    from rdflib.namespace import DCTERMS

    from harmony.catalog.exports.conformance import check
    from harmony.catalog.exports.rdf import dataset_graph

    with demo_app.app_context():
        dataset, version = services.published_datasets()[0]
        graph = dataset_graph(dataset, version, services.group_by_id(dataset.group_id), "http://harmony.test")
        graph.remove((URIRef(f"http://harmony.test/datasets/{dataset.pid}"), DCTERMS.title, None))
        assert check(graph).violations
