"""The curation desk (/curate): one page of the datasets a curator looks after, filtered and sorted.

The query string carries the whole state (`DeskQuery`), so every view of the desk can be bookmarked.
Completeness is computed from each working copy, so filtering and sorting happen here rather than in SQL;
a curator's datasets are the few hundred of their study groups, read once per request as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harmony.accounts.permissions import Principal
from harmony.catalog import services
from harmony.catalog.content import completeness
from harmony.catalog.models import DRAFT, PUBLISHED, WITHDRAWN, Dataset, StudyGroup
from harmony.pagination import Page

PER_PAGE = 25
STATES = {"": "Any state", "draft": "Draft", "changed": "Unpublished changes", "published": "Published",
          "withdrawn": "Withdrawn"}
SORTS = {"attention": "Drafts and unpublished changes first", "updated": "Last saved", "title": "Title",
         "completeness": "Completeness, lowest first"}


class DeskQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    q: str = Field(default="", max_length=200)  # words of the title, or the PID
    state: Literal["", "draft", "changed", "published", "withdrawn"] = ""
    group: str = Field(default="", max_length=50)  # a study group's acronym
    sort: Literal["attention", "updated", "title", "completeness"] = "attention"
    page: int = Field(default=1, ge=1, le=10**6)

    def args(self, **changes: Any) -> dict[str, Any]:
        """This state as query-string arguments (defaults left out), with `changes` applied."""
        data = {**self.model_dump(), **changes}
        defaults = DeskQuery().model_dump()
        return {key: value for key, value in data.items() if value != defaults[key]}

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.state or self.group)


@dataclass(frozen=True)
class DeskRow:
    dataset: Dataset
    group: StudyGroup
    score: int


def _in_state(dataset: Dataset, state: str) -> bool:
    if state == "changed":
        return dataset.state != WITHDRAWN and bool(dataset.published_version) and dataset.has_unpublished_changes
    return dataset.state == {"draft": DRAFT, "published": PUBLISHED, "withdrawn": WITHDRAWN}.get(state, dataset.state)


def _title(dataset: Dataset) -> str:
    return (dataset.content or {}).get("title") or ""


def desk_page(viewer: Principal, query: DeskQuery) -> Page[DeskRow]:
    """The page of the viewer's datasets that `query` asks for (an empty page past the end)."""
    by_id = {group.id: group for group in services.groups()}
    words = query.q.casefold().split()
    rows = []
    for dataset in services.curation_queue(viewer):  # drafts and unpublished changes first, newest first
        group = by_id[dataset.group_id]
        if query.group and group.acronym.casefold() != query.group.casefold():
            continue
        if query.state and not _in_state(dataset, query.state):
            continue
        text = f"{_title(dataset)} {dataset.pid}".casefold()
        if any(word not in text for word in words):
            continue
        rows.append(DeskRow(dataset, group, completeness(dataset.content)[0]))
    if query.sort == "updated":
        rows.sort(key=lambda row: row.dataset.updated_at, reverse=True)
    elif query.sort == "title":
        rows.sort(key=lambda row: (_title(row.dataset).casefold() or "\uffff", row.dataset.pid))
    elif query.sort == "completeness":
        rows.sort(key=lambda row: (row.score, row.dataset.pid))
    start = (query.page - 1) * PER_PAGE
    return Page(rows[start:start + PER_PAGE], len(rows), query.page, PER_PAGE)
