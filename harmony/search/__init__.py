"""Search: a whoosh index kept in step with the database's change log.

How the pieces fit:

- `schema` and `analysis`: what the index holds for a published dataset (identifiers only, text
  analysed by an English stemming analyser, facets as keyword fields, numbers as columns);
- `store`, `sync`, `index`: the index folder (generations, writer lock, applied change-log
  position), catching up from the change log after every commit and before searches, rebuilds;
- `codec`: whoosh's file format with faster writing and reading paths;
- `view`, `bits`: a generation of the index as bitsets (facet values, number slices, terms),
  the basis of fast counts, filters, sums and ranking;
- `query`, `matching`, `engine`: the query language and the disease vocabulary, matching and
  ranking, facet counts, feasibility;
- `data_use`: the one rule for "compatible with my research purpose";
- `params`, `services`, `labels`, `highlight`: what the page /datasets and GET /api/v1/datasets
  share; `views`, `api`, `cli`: the page, the API and `harmony search reindex|sync`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Give the app its search index and hook it to the change log."""
    from harmony.search import index

    index.init_app(app)
