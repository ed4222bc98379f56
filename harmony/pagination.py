"""One page of a list read from the database: the rows, how many there are in all, and where we are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from harmony import db

Row = TypeVar("Row")
LARGEST_PAGE = 100
LAST_PAGE_NUMBER = 10**6  # beyond any list here; larger numbers would overflow the database's integers


@dataclass(frozen=True)
class Page(Generic[Row]):
    items: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(query: Select[Any], page: int, per_page: int) -> Page[Any]:
    """Page `page` (from 1) of an ordered query; a page past the end is empty, not an error. The items are
    the rows' single entity, or tuples where the query selects several."""
    page, per_page = min(max(1, page), LAST_PAGE_NUMBER), max(1, min(per_page, LARGEST_PAGE))
    total = db.session().scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    window = query.offset((page - 1) * per_page).limit(per_page)
    if len(query.column_descriptions) > 1:
        items = [tuple(row) for row in db.session().execute(window).all()]
    else:
        items = list(db.session().scalars(window).all())
    return Page(items, total, page, per_page)
