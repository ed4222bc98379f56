"""The search page /datasets: the query string carries the whole state."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from harmony.accounts.current import principal
from harmony.catalog import data_use, page_cache, terms
from harmony.errors import ValidationError
from harmony.search import labels
from harmony.search.index import search_index
from harmony.search.params import SearchParams
from harmony.search.services import search as run_search

search = Blueprint("search", __name__)


def _page_context() -> dict:
    return {
        "facet_titles": labels.TITLES,
        "purposes": data_use.PURPOSES,
        "sorts": {"relevance": "Relevance", "newest": "Newest", "patients": "Most patients"},
        "populations": terms.POPULATIONS,
        "can_add_to_basket": "access_requests.basket_add" in current_app.view_functions,
    }


def _index_state() -> int:
    """Which view of the index searches use now (a new one after every sync or reindex)."""
    index = search_index()
    index.view()
    return index.opened


@search.get("/datasets", endpoint="search")
@page_cache.anonymous_pages(extra_key=_index_state)
def search_page():
    """Search: parse the query string, run the search, render (errors go next to their fields,
    with what was typed kept)."""
    data = SearchParams.from_args(request.args)
    try:
        page = run_search(principal(), data)
    except ValidationError as error:
        return render_template("search/search.html", page=None, errors=error.fields, raw=data,
                               **_page_context()), 422
    return render_template("search/search.html", page=page, errors={}, raw=data, **_page_context())
