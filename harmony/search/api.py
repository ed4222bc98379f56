"""GET /api/v1/datasets: search through the API, with the page's parameters.

Anonymous callers search the public catalog; a bearer token is read when sent (an invalid one
is refused, as everywhere under /api/). The answer holds `total`, `items`, `facets` and
`feasibility`, plus how the query was understood.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from harmony.accounts.current import principal
from harmony.error_pages import problem
from harmony.search.labels import Entry
from harmony.search.params import SearchParams
from harmony.search.services import Hit, SearchPage, search

search_api = Blueprint("search_api", __name__, url_prefix="/api/v1")


def _entry(entry: Entry) -> dict[str, Any]:
    found: dict[str, Any] = {"value": entry.value, "label": entry.label, "count": entry.count,
                             "selected": entry.selected}
    if entry.children:
        found["children"] = [_entry(child) for child in entry.children]
    return found


def _item(hit: Hit) -> dict[str, Any]:
    content = hit.content
    return {
        "id": hit.dataset.id,
        "pid": hit.dataset.pid,
        "url": f"{current_app.config['BASE_URL']}/datasets/{hit.dataset.pid}",
        "title": content.get("title"),
        "acronym": content.get("acronym"),
        "group": hit.group.acronym,
        "diseases": content.get("diseases", []),
        "population": content.get("population"),
        "age_min": content.get("age_min"),
        "age_max": content.get("age_max"),
        "n_patients": content.get("n_patients"),
        "countries": content.get("countries", []),
        "phases": content.get("phases", []),
        "recruitment_start": content.get("recruitment_start"),
        "recruitment_end": content.get("recruitment_end"),
        "data_types": content.get("data_types", []),
        "data_use": content.get("data_use", []),
        "version": hit.dataset.published_version,
        "highlights": {"title": str(hit.title), "description": str(hit.snippet)},
    }


def _body(page: SearchPage) -> dict[str, Any]:
    feasibility = page.feasibility

    def shares(items: list[Any]) -> list[dict[str, Any]]:
        return [{"key": s.key, "label": s.label, "datasets": s.datasets, "patients": s.patients} for s in items]

    return {
        "total": page.total,
        "page": page.params.page,
        "per_page": page.params.per_page,
        "pages": page.pages,
        "items": [_item(hit) for hit in page.hits],
        "facets": {name: [_entry(e) for e in entries] for name, entries in page.facets.items()},
        "feasibility": {"datasets": feasibility.datasets, "patients": feasibility.patients,
                        "datasets_without_patients": feasibility.without_patients,
                        "by_population": shares(feasibility.by_population),
                        "by_disease_group": shares(feasibility.by_category),
                        "by_disease": shares(feasibility.by_disease)},
        "understood": [{"typed": u.typed, "disease": u.term_id, "label": u.label, "codes": u.codes,
                        "narrower_diseases": u.narrower, "also_searched": u.also} for u in page.understood],
        "notes": page.notes,
        "interpreted": page.interpreted,
        "suggestion": page.suggestion,
    }


@search_api.get("/datasets")
def search_datasets():
    """Search the catalog (same parameters as the page /datasets)."""
    if g.get("auth_error"):
        response = problem(401, "Authentication failed", "The bearer token is unknown, expired or revoked.",
                           "unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="harmony", error="invalid_token"'
        return response
    return jsonify(_body(search(principal(), SearchParams.from_args(request.args))))
