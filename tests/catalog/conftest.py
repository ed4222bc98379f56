"""Fixtures shared by the catalog's cache tests."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def one_published(app):
    """A study group, its curator and one published dataset."""
    with app.app_context():
        group = factories.group("HOVON")
        cora = factories.curator("hovon-office", group)
        published = factories.dataset(cora, group)
    return {"group": group, "cora": cora, "published": published}
