"""The paged catalog in RDF, built once per change-log position and format.

Harvesters fetch the same pages again and again, and building one page of 100 datasets takes a
second; the serialised page is kept under the change log's position (`position_cache`), so an
unchanged catalog is answered from memory and any change is visible on the next request.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import NamedTuple

from harmony.catalog import position_cache
from harmony.catalog.exports import listing, rdf
from harmony.errors import NotFound


class CatalogPage(NamedTuple):
    body: bytes
    media_type: str
    links: str  # the Link header: neighbouring pages in the same format
    etag: str  # from the position and the page asked for: the same in every worker and across restarts
    last_modified: datetime | None  # the catalog's latest change


def _build(page: int, per_page: int, fmt: str, base_url: str, etag: str,
           changed_at: datetime | None) -> CatalogPage | None:
    total = listing.count_published()
    if page > rdf.last_page(total, per_page):
        return None
    graph = rdf.catalog_graph(listing.published_page(page, per_page), page, per_page, total, base_url)
    body = rdf.serialise(graph, fmt)
    return CatalogPage(body, rdf.FORMATS[fmt].media_type, rdf.page_links(base_url, fmt, page, per_page, total),
                       etag, changed_at)


def catalog_page(page: int, per_page: int, fmt: str, base_url: str) -> CatalogPage:
    """Page `page` of the live published datasets in `fmt`; NotFound past the last page."""
    position = position_cache.current_position()
    key = ("catalog", fmt, page, per_page, base_url)
    # rdflib names blank nodes afresh on each build, so a digest of the body would differ between workers
    etag = hashlib.sha256(repr((position.key, key)).encode()).hexdigest()[:32]
    found = position_cache.at_position(
        key, lambda: _build(page, per_page, fmt, base_url, etag, position.changed_at),
        size=lambda built: len(built.body) + 1024 if built else 1024, position=position)
    if found is None:
        total = listing.count_published()
        raise NotFound(f"The catalog has {rdf.last_page(total, per_page)} pages of {per_page} datasets.")
    return found
