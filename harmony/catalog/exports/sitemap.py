"""sitemap.xml (sitemaps.org 0.9): the home page, every published landing page, every group page."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote
from xml.sax.saxutils import escape

from harmony.catalog.exports.builder import landing_url
from harmony.catalog.exports.listing import SitemapEntry

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_xml(base_url: str, datasets: Iterable[SitemapEntry], group_acronyms: Iterable[str]) -> str:
    """The sitemap; `datasets` must hold published datasets only (drafts never appear)."""
    urls = [(f"{base_url}/", None)]
    urls += [(landing_url(base_url, entry.pid), entry.modified.date().isoformat()) for entry in datasets]
    urls += [(f"{base_url}/groups/{quote(acronym)}", None) for acronym in group_acronyms]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{NAMESPACE}">']
    for loc, lastmod in urls:
        modified = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        lines.append(f"  <url><loc>{escape(loc)}</loc>{modified}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
