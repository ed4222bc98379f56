"""Migrations: from empty to head and back on both databases, and they match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from harmony import migrate
from harmony.config import normalise_database_url
from harmony.db import create_engine
from harmony.models import metadata
from tests.conftest import BACKENDS, fresh_database_url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path_factory):
    return normalise_database_url(fresh_database_url(request.param, tmp_path_factory, "migrations", request))


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_and_downgrade_to_base(empty_database_url):
    migrate.upgrade(empty_database_url)
    tables = table_names(empty_database_url)
    assert {table.name for table in metadata.sorted_tables} <= tables
    migrate.downgrade(empty_database_url, "base")
    assert table_names(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)  # and up again: downgrades left nothing behind
    assert {table.name for table in metadata.sorted_tables} <= table_names(empty_database_url)


def test_models_and_newest_migration_agree(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert migrate.current_revision(connection) == migrate.head_revision()
    finally:
        engine.dispose()
