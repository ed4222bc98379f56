"""GET /api/v1/entitlements: the grants, for the person themself, admins and data platforms.

JSON pages like the other lists (`page`, `per_page`, `total`, `pages`, `items`). With `Accept: text/csv`
the answer is every matching entitlement as one CSV download (page and per_page do not apply), streamed
a batch at a time; its rows are the JSON items flattened (harmony.access_requests.entitlements).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, stream_with_context

from harmony.access_requests import entitlements
from harmony.accounts.current import principal, reader_required
from harmony.validation import parse

platforms_api = Blueprint("platforms_api", __name__, url_prefix="/api/v1")
CSV = "text/csv"


def wants_csv() -> bool:
    """`Accept: text/csv` (preferred over JSON, or alone); anything else, or none, gets JSON."""
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


@platforms_api.get("/entitlements")
@reader_required
def list_entitlements():
    wanted = parse(entitlements.EntitlementQuery, request.args.to_dict())
    query = entitlements.query_for(principal(), wanted)
    if wants_csv():
        response = Response(stream_with_context(entitlements.csv_lines(entitlements.each(query))),
                            mimetype=CSV)
        response.headers["Content-Disposition"] = 'attachment; filename="entitlements.csv"'
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Accept"
        return response
    found = entitlements.page_of(query, wanted.page, wanted.per_page)
    response = jsonify({"total": found.total, "page": found.page, "per_page": found.per_page, "pages": found.pages,
                        "items": found.items})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept"
    return response
