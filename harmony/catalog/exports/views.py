"""Routes serving the machine-readable forms of the catalog: RDF by suffix, the paged DCAT
catalog, and sitemap.xml. Each parses its input, reads once, and serialises."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, request, url_for
from werkzeug.exceptions import BadRequest

from harmony.accounts.current import principal
from harmony.catalog import services
from harmony.catalog.exports import listing, rdf
from harmony.catalog.exports.sitemap import sitemap_xml
from harmony.errors import NotFound

exports = Blueprint("exports", __name__)
RDF_SUFFIXES = "any(ttl,jsonld,rdf)"


@exports.get(f"/datasets/<pid:pid>.<{RDF_SUFFIXES}:ext>")
def dataset_rdf(pid: str, ext: str) -> Response:
    """One dataset as RDF: 404 for drafts the viewer may not curate, 410 once withdrawn."""
    return rdf.rdf_response(services.get_dataset(principal(), pid), rdf.BY_SUFFIX[ext])


@exports.get(f"/catalog.<{RDF_SUFFIXES}:ext>")
def catalog_rdf(ext: str) -> Response:
    page, per_page = _paging()
    total = listing.count_published()
    if page > rdf.last_page(total, per_page):
        raise NotFound(f"The catalog has {rdf.last_page(total, per_page)} pages of {per_page} datasets.")
    base_url = current_app.config["BASE_URL"]
    fmt = rdf.BY_SUFFIX[ext]
    graph = rdf.catalog_graph(listing.published_page(page, per_page), page, per_page, total, base_url)
    response = Response(rdf.serialise(graph, fmt), mimetype=rdf.FORMATS[fmt].media_type)
    response.headers["Link"] = rdf.page_links(base_url, fmt, page, per_page, total)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@exports.get("/catalog")
def catalog() -> Response:
    """The catalog's own IRI: 303 to the RDF format asked for, or to the search page for people."""
    fmt = rdf.wanted_rdf_format(request.accept_mimetypes)
    if fmt is None:
        target = url_for("search.search") if "search.search" in current_app.view_functions else url_for("core.home")
    else:
        page, per_page = _paging()
        target = rdf.page_url("", page, per_page, rdf.FORMATS[fmt].suffix)
    response = redirect(target, code=303)
    response.vary.add("Accept")
    return response


@exports.get("/sitemap.xml")
def sitemap() -> Response:
    body = sitemap_xml(current_app.config["BASE_URL"], listing.sitemap_datasets(), listing.group_acronyms())
    return Response(body, mimetype="application/xml")


def _paging() -> tuple[int, int]:
    """`page` (from 1) and `per_page` (default 100, at most 500) from the query string."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", rdf.DEFAULT_PAGE_SIZE))
    except ValueError:
        raise BadRequest("page and per_page must be whole numbers.") from None
    if page < 1 or per_page < 1:
        raise BadRequest("page and per_page start at 1.")
    return page, min(per_page, rdf.MAX_PAGE_SIZE)
