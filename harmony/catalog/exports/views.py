"""Routes serving the machine-readable forms of the catalog: RDF by suffix, the paged DCAT
catalog, and sitemap.xml. Each parses its input, reads once, and serialises."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, request, url_for
from werkzeug.exceptions import BadRequest

from harmony.accounts.current import principal
from harmony.catalog import services
from harmony.catalog.exports import catalog_pages, listing, rdf
from harmony.catalog.exports.sitemap import sitemap_xml

exports = Blueprint("exports", __name__)
RDF_SUFFIXES = "any(ttl,jsonld,rdf)"


@exports.get(f"/datasets/<pid:pid>.<{RDF_SUFFIXES}:ext>")
def dataset_rdf(pid: str, ext: str) -> Response:
    """One dataset as RDF: 404 for drafts the viewer may not curate, 410 once withdrawn."""
    return rdf.rdf_response(services.get_dataset(principal(), pid), rdf.BY_SUFFIX[ext])


@exports.get(f"/catalog.<{RDF_SUFFIXES}:ext>")
def catalog_rdf(ext: str) -> Response:
    """A page of the DCAT catalog, from the cache while the catalog is unchanged; 304 for a copy still current."""
    page, per_page = _paging()
    found = catalog_pages.catalog_page(page, per_page, rdf.BY_SUFFIX[ext], current_app.config["BASE_URL"])
    response = Response(found.body, mimetype=found.media_type)
    response.headers["Link"] = found.links
    response.headers["Cache-Control"] = "public, max-age=300"
    response.set_etag(found.etag)
    if found.last_modified is not None:
        response.last_modified = found.last_modified
    return response.make_conditional(request)


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
