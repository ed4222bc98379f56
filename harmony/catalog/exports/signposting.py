"""FAIR Signposting (level 1) for a landing page: the typed links a machine follows from it.

cite-as names the PID to cite, describedby the RDF descriptions (one per format, with its media
type), type what the page is about, license the licence of this description, author the creators'
ORCID iDs. The landing page sends it as one `Link` header (RFC 8288).
"""

from __future__ import annotations

from harmony.catalog import terms
from harmony.catalog.exports.builder import landing_url
from harmony.catalog.models import Dataset, DatasetVersion

RDF_TYPES = (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("rdf", "application/rdf+xml"))


def links(dataset: Dataset, version: DatasetVersion, base_url: str) -> list[tuple[str, str, str | None]]:
    """(target, relation, media type or None), in the order they are sent."""
    url = landing_url(base_url, dataset.pid)
    content = version.content
    found: list[tuple[str, str, str | None]] = [(url, "cite-as", None)]
    found += [(f"{url}.{suffix}", "describedby", media_type) for suffix, media_type in RDF_TYPES]
    found += [("https://schema.org/Dataset", "type", None), ("https://schema.org/AboutPage", "type", None)]
    found.append((content.get("licence", terms.CC0), "license", None))
    found += [(f"https://orcid.org/{person['orcid']}", "author", None)
              for person in content.get("creators", []) if person.get("orcid")]
    return found


def link_header(dataset: Dataset, version: DatasetVersion, base_url: str) -> str:
    """The value of the landing page's `Link` header."""
    return ", ".join(f'<{target}>; rel="{relation}"' + (f'; type="{media_type}"' if media_type else "")
                     for target, relation, media_type in links(dataset, version, base_url))
