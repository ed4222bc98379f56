"""The catalog in the JSON API: datasets, study groups, vocabularies.

Anyone may read what is public; every write needs a bearer token, and the catalog services
decide what the token's user may do, so the API, the pages and search share one rule.
Bodies are parsed here into the same pydantic models the HTML forms feed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import datetime
from functools import cache
from typing import Annotated, Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from harmony import db
from harmony.accounts import services as accounts
from harmony.accounts.current import principal, token_required
from harmony.accounts.permissions import Principal
from harmony.api import json_body, unauthorised
from harmony.catalog import permissions, services
from harmony.catalog.content import DatasetContent, completeness
from harmony.catalog.models import WITHDRAWN, Dataset, StudyGroup
from harmony.catalog.vocabularies import diseases, duo
from harmony.error_pages import problem
from harmony.errors import Conflict, NotFound, PermissionDenied, PreconditionFailed, StateConflict
from harmony.validation import parse

catalog_api = Blueprint("catalog_api", __name__, url_prefix="/api/v1")

VOCABULARY_MAX_AGE = 86400  # vocabularies change only with a release


# --- input ----------------------------------------------------------------------------------


def _whole(value: Any) -> Any:
    """JSON's 7.0 is the integer 7 (as JSON Schema reads it); true stays a boolean, which is refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: (Annotated[StrictInt, BeforeValidator(_whole), Field(ge=1, le=2**31 - 1)]
            | Annotated[str, Field(min_length=1, max_length=40)])
    content: DatasetContent


class DatasetReplace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: DatasetContent


class PublishInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str | None = Field(default=None, max_length=2000)


class WithdrawInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = ""  # the service says what a good reason needs


class SuggestQuery(BaseModel):
    q: str = Field(max_length=200)
    limit: int = Field(default=10, ge=1, le=50)


def _dataset_key(key: str) -> int | str:
    """A numeric id or a PID; anything else cannot name a dataset."""
    if re.fullmatch(r"[0-9]{1,15}", key):
        return int(key)
    if re.fullmatch(r"HM-[0-9]{6}", key):
        return key
    raise NotFound("No such dataset.")


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


@catalog_api.before_request
def _refuse_bad_tokens() -> Response | None:
    """A request that sent a bad token gets a 401, even where a visitor may read: else a
    script with an expired token would silently see only public data."""
    return unauthorised() if g.get("auth_error") else None


def _for_curation(key: str) -> tuple[Principal, Dataset]:
    """The dataset a write names: 404 if the user may not see it, 403 if they may not change it,
    both before the body is read, so that outsiders learn nothing from validation errors."""
    viewer = principal()
    found = services.get_dataset(viewer, _dataset_key(key))
    if not permissions.can_curate(viewer, found.group_id):
        raise PermissionDenied("Only the study group's curators can change this dataset.")
    return viewer, found


# --- output ---------------------------------------------------------------------------------


@cache
def _empty_content() -> dict[str, Any]:
    return DatasetContent().model_dump(mode="json")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _landing_page(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


def _dataset_json(dataset: Dataset, viewer: Principal, working_copy: bool) -> dict[str, Any]:
    shown = None if working_copy else services.latest_version(dataset)
    content = dataset.content if shown is None else shown.content
    first = services.version(dataset.id, 1) if dataset.published_version else None
    group = db.session().get(StudyGroup, dataset.group_id)
    body: dict[str, Any] = {
        "id": dataset.id,
        "pid": dataset.pid,
        "url": _landing_page(f"/datasets/{dataset.pid}"),
        "group": {"id": group.id, "acronym": group.acronym, "name": group.name},
        "state": dataset.state,
        "version": shown.version if shown else None,
        "issued": _iso(first.issued_at) if first else None,
        "modified": _iso(shown.issued_at if shown else dataset.updated_at),
        "working_copy": shown is None,
        "content": {**_empty_content(), **content},
    }
    if permissions.can_see_working_copy(viewer, dataset):
        score, missing = completeness(content)
        body["completeness"] = {"score": score, "missing": [
            {"key": c.key, "label": c.label, "kind": c.kind, "advice": c.advice} for c in missing]}
        body.update(lock_version=dataset.lock_version, published_version=dataset.published_version or None,
                    has_unpublished_changes=dataset.has_unpublished_changes)
    return body


def _dataset_response(dataset: Dataset, viewer: Principal, working_copy: bool, status: int = 200) -> Response:
    response = jsonify(_dataset_json(dataset, viewer, working_copy))
    response.status_code = status
    if permissions.can_see_working_copy(viewer, dataset):
        response.set_etag(str(dataset.lock_version))  # what If-Match on PUT compares with
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Authorization")
    return response


def _tombstone(dataset: Dataset) -> Response:
    """410 with what a citation needs and why the dataset was withdrawn."""
    last = services.latest_version(dataset)
    return problem(410, "Gone", f"This dataset was withdrawn: {dataset.withdrawn_reason}", "gone",
                   pid=dataset.pid, url=_landing_page(f"/datasets/{dataset.pid}"),
                   dataset_title=(last.content.get("title") if last else None), reason=dataset.withdrawn_reason,
                   withdrawn_at=_iso(dataset.withdrawn_at))


# --- datasets -------------------------------------------------------------------------------


@catalog_api.post("/datasets")
@token_required
def create_dataset():
    viewer = principal()
    if not permissions.can_curate_anything(viewer):
        raise PermissionDenied("Only curators of a study group can add datasets.")
    data = parse(DatasetCreate, json_body())
    try:
        group = (db.session().get(StudyGroup, data.group) if isinstance(data.group, int)
                 else services.group_by_acronym(data.group))
    except NotFound:
        group = None
    if group is None:
        raise StateConflict(fields={"group": [f"no study group {data.group}"]})
    created = services.create_dataset(viewer, group.id, data.content)
    response = _dataset_response(created, viewer, working_copy=True, status=201)
    response.headers["Location"] = url_for("catalog_api.dataset", key=created.pid)
    return response


@catalog_api.get("/datasets/<key>")
def dataset(key: str):
    viewer = principal()
    found = services.get_dataset(viewer, _dataset_key(key))
    if found.state == WITHDRAWN:
        return _tombstone(found)
    if _flag("working_copy") and not permissions.can_see_working_copy(viewer, found):
        if not viewer.is_authenticated:
            return unauthorised()
        raise PermissionDenied("Only the study group's curators can read the working copy.")
    return _dataset_response(found, viewer, working_copy=_flag("working_copy") or not found.published_version)


@catalog_api.put("/datasets/<key>")
@token_required
def replace_dataset(key: str):
    viewer, found = _for_curation(key)
    data = parse(DatasetReplace, json_body())
    expected = None
    if request.if_match and not request.if_match.star_tag:
        if not request.if_match.contains(str(found.lock_version)):
            raise PreconditionFailed("The dataset changed since that ETag was read; GET it again.")
        expected = found.lock_version
    try:
        updated = services.update_dataset(viewer, found.id, data.content, expected)
    except Conflict:
        if expected is None:
            raise
        raise PreconditionFailed("The dataset changed since that ETag was read; GET it again.") from None
    return _dataset_response(updated, viewer, working_copy=True)


@catalog_api.post("/datasets/<key>/publish")
@token_required
def publish_dataset(key: str):
    viewer, found = _for_curation(key)
    data = parse(PublishInput, json_body(optional=True))
    services.publish(viewer, found.id, data.notes)
    return _dataset_response(services.get_dataset(viewer, found.id), viewer, working_copy=False)


@catalog_api.post("/datasets/<key>/withdraw")
@token_required
def withdraw_dataset(key: str):
    viewer, found = _for_curation(key)
    data = parse(WithdrawInput, json_body())
    withdrawn = services.withdraw(viewer, found.id, data.reason)
    return jsonify({"id": withdrawn.id, "pid": withdrawn.pid, "state": withdrawn.state,
                    "reason": withdrawn.withdrawn_reason, "withdrawn_at": _iso(withdrawn.withdrawn_at),
                    "url": _landing_page(f"/datasets/{withdrawn.pid}")})


# --- study groups ---------------------------------------------------------------------------


def _group_json(group: StudyGroup, published: int, curators: dict[int, list] | None) -> dict:
    body = {"id": group.id, "acronym": group.acronym, "name": group.name, "country": group.country,
            "ror": group.ror, "website": group.website, "description": group.description,
            "url": _landing_page(f"/groups/{group.acronym}"), "dataset_count": published}
    if curators is not None:
        body["curators"] = curators.get(group.id, [])
    return body


def _curators_by_group(viewer: Principal) -> dict[int, list] | None:
    """Admins see who curates each group; others get None (no such key in the JSON)."""
    if not viewer.is_admin:
        return None
    found: dict[int, list] = {}
    for grant, user in accounts.role_grants(viewer):
        if grant.role == "curator" and grant.scope_kind == "group":
            found.setdefault(grant.scope_id, []).append({"id": user.id, "display_name": user.display_name})
    return found


def _published_counts() -> Counter[int]:
    return Counter(dataset.group_id for dataset, _version in services.published_datasets())


def _group_datasets(viewer: Principal, group: StudyGroup) -> list[dict[str, Any]]:
    """Curators see every dataset of their group with its working title; others the published ones."""
    if permissions.can_curate(viewer, group.id):
        rows = [(d, d.content) for d in services.datasets_of_group(viewer, group.id)]
    else:
        rows = [(d, v.content) for d, v in services.published_datasets() if d.group_id == group.id]
    return [{"id": d.id, "pid": d.pid, "state": d.state, "title": content.get("title"),
             "url": _landing_page(f"/datasets/{d.pid}"), "api": url_for("catalog_api.dataset", key=d.pid)}
            for d, content in rows]


def _group_response(group: StudyGroup, viewer: Principal, status: int = 200) -> Response:
    body = _group_json(group, _published_counts()[group.id], _curators_by_group(viewer))
    body["datasets"] = _group_datasets(viewer, group)
    response = jsonify(body)
    response.status_code = status
    return response


@catalog_api.get("/groups")
def groups():
    viewer = principal()
    counts, curators = _published_counts(), _curators_by_group(viewer)
    return jsonify({"items": [_group_json(group, counts[group.id], curators) for group in services.groups()]})


@catalog_api.post("/groups")
@token_required
def create_group():
    viewer = principal()
    if not permissions.can_manage_groups(viewer):
        raise PermissionDenied("Only admins can create study groups.")
    created = services.create_group(viewer, parse(services.GroupInput, json_body()))
    response = _group_response(created, viewer, status=201)
    response.headers["Location"] = url_for("catalog_api.group", acronym=created.acronym)
    return response


@catalog_api.get("/groups/<acronym>")
def group(acronym: str):
    return _group_response(services.group_by_acronym(acronym), principal())


@catalog_api.put("/groups/<acronym>")
@token_required
def replace_group(acronym: str):
    viewer = principal()
    found = services.group_by_acronym(acronym)
    if not permissions.can_manage_groups(viewer):
        raise PermissionDenied("Only admins can change study groups.")
    data = parse(services.GroupInput, json_body())
    return _group_response(services.update_group(viewer, found.id, data), viewer)


# --- vocabularies ---------------------------------------------------------------------------


def _disease_terms() -> list[dict[str, Any]]:
    vocabulary = diseases()
    items = []
    for term in vocabulary.all():
        category = vocabulary.category(term.id)
        items.append({
            "id": term.id, "label": term.label, "definition": term.definition or None,
            "synonyms": list(term.synonyms), "abbreviations": list(term.abbreviations), "parents": list(term.parents),
            "icd10": [{"code": code, "title": vocabulary.icd10_title(code)} for code in term.icd10],
            "icdo3": [{"code": code, "title": vocabulary.icdo3_title(code)} for code in term.icdo3],
            "category": {"key": category.key, "label": category.label} if category else None,
        })
    return items


def _duo_terms() -> list[dict[str, Any]]:
    return [{"id": t.id, "shorthand": t.shorthand, "label": t.label, "definition": t.definition, "kind": t.kind,
             "uri": t.uri} for t in duo().all()]


VOCABULARIES = {"diseases": _disease_terms, "duo": _duo_terms}


@cache
def _vocabulary_document(name: str) -> tuple[bytes, str]:
    """The whole list as JSON and its ETag, made once per process (vocabularies are immutable)."""
    items = VOCABULARIES[name]()
    data = json.dumps({"vocabulary": name, "count": len(items), "items": items}, ensure_ascii=False)
    encoded = data.encode("utf-8")
    return encoded, hashlib.sha256(encoded).hexdigest()[:32]


def _cacheable(data: bytes, etag: str) -> Response:
    response = current_app.response_class(data, mimetype="application/json")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = VOCABULARY_MAX_AGE
    return response.make_conditional(request)


@catalog_api.get("/vocabularies/<name>")
def vocabulary(name: str):
    if name not in VOCABULARIES:
        raise NotFound(f"There is no vocabulary {name!r}; there are: {', '.join(VOCABULARIES)}.")
    if name == "diseases" and "q" in request.args:
        query = parse(SuggestQuery, request.args.to_dict())
        items = [{"id": s.id, "label": s.label, "matched": s.matched}
                 for s in diseases().suggest(query.q, limit=query.limit)]
        data = json.dumps({"vocabulary": name, "q": query.q, "items": items}, ensure_ascii=False).encode("utf-8")
        return _cacheable(data, hashlib.sha256(data).hexdigest()[:32])
    return _cacheable(*_vocabulary_document(name))
