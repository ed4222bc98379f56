"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Written by hand next to the code it describes, except the input models, whose schemas come
from the pydantic models the API validates with, so the document cannot drift from the rules.
A test checks that every route under /api/v1 is described here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from harmony.catalog.content import DatasetContent
from harmony.catalog.services import GroupInput
from harmony.db import ROW_ID_MAX
from harmony.pagination import LAST_PAGE_NUMBER
from harmony.passports.openapi import paths as passport_paths
from harmony.platforms.openapi import paths as platform_paths

JSON = "application/json"
PROBLEM = "application/problem+json"
BEARER = [{"bearer": []}]
BEARER_OPTIONAL = [{}, {"bearer": []}]
ROW_ID = {"type": "integer", "minimum": 1, "maximum": ROW_ID_MAX}  # a larger id in a path matches no route: 404

ERRORS = {
    400: "Malformed request: the body is not a JSON object, or not valid JSON.",
    401: "No bearer token, or an unknown, expired or revoked one.",
    403: "The token's user may not do this; a data platform's service token may only read entitlements and "
         "passports.",
    404: "No such thing, or one the token's user may not see (drafts stay secret).",
    409: "Not possible in the current state, or someone changed it meanwhile.",
    410: "Withdrawn: the body carries the reason and what a citation needs.",
    412: "If-Match did not match the current ETag: someone saved in between.",
    415: "The body is not sent as application/json.",
    422: "Invalid input: `errors` maps each field to its messages.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}, **extra}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _model_schemas(*models: type[BaseModel]) -> dict[str, Any]:
    """JSON Schemas of pydantic models, with their nested models hoisted into components."""
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


DATASET_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "The dataset's numeric id or its PID (e.g. HM-000001)."}
ACRONYM = {"name": "acronym", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "The study group's acronym (case-insensitive)."}
ETAG = {"ETag": {"description": "The dataset's lock version; send it back as If-Match on PUT.",
                 "schema": {"type": "string"}}}
LOCATION = {"Location": {"description": "Where the new resource lives in this API.", "schema": {"type": "string"}}}

_STRINGS = {"type": "array", "items": {"type": "string"}}
_NULLABLE_STRING = {"type": ["string", "null"]}
_CODE_TITLE = {"type": "array", "items": {"type": "object", "required": ["code"], "properties": {
    "code": {"type": "string"}, "title": _NULLABLE_STRING}}}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object", "required": ["type", "title", "status"],
        "description": "RFC 9457 problem details; `type` is stable for each kind of error.",
        "properties": {"type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"},
                       "errors": {"type": "object", "additionalProperties": _STRINGS,
                                  "description": "Validation errors: field name (dotted for nested fields) "
                                                 "to its messages."}},
        "additionalProperties": True,
    },
    "Tombstone": {"allOf": [_ref("Problem"), {"type": "object", "properties": {
        "pid": {"type": "string"}, "url": {"type": "string", "format": "uri"}, "dataset_title": _NULLABLE_STRING,
        "reason": {"type": "string"}, "withdrawn_at": {"type": "string", "format": "date-time"}}}]},
    "Dataset": {
        "type": "object",
        "required": ["id", "pid", "url", "group", "state", "version", "issued", "modified", "working_copy", "content"],
        "properties": {
            "id": {"type": "integer"}, "pid": {"type": "string", "pattern": "^HM-[0-9]{6}$"},
            "url": {"type": "string", "format": "uri", "description": "The landing page."},
            "group": {"type": "object", "required": ["id", "acronym", "name"], "properties": {
                "id": {"type": "integer"}, "acronym": {"type": "string"}, "name": {"type": "string"}}},
            "state": {"enum": ["draft", "published", "withdrawn"]},
            "version": {"type": ["integer", "null"], "description": "The version shown; null for the working copy."},
            "issued": {"type": ["string", "null"], "format": "date-time", "description": "First publication."},
            "modified": {"type": "string", "format": "date-time"},
            "working_copy": {"type": "boolean", "description": "True when `content` is the unpublished working copy."},
            "content": {"description": "Every field of the description, empty ones included.",
                        "allOf": [_ref("DatasetContent")]},
            "completeness": {"type": "object", "description": "Curators and admins only.", "properties": {
                "score": {"type": "integer", "minimum": 0, "maximum": 100},
                "missing": {"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "label": {"type": "string"},
                    "kind": {"enum": ["mandatory", "recommended", "fair"]}, "advice": {"type": "string"}}}}}},
            "lock_version": {"type": "integer", "description": "Curators and admins only."},
            "published_version": {"type": ["integer", "null"], "description": "Curators and admins only."},
            "has_unpublished_changes": {"type": "boolean", "description": "Curators and admins only."},
        },
    },
    "DatasetCreate": {"type": "object", "required": ["group", "content"], "additionalProperties": False,
                      "properties": {"group": {"oneOf": [ROW_ID,
                                                         {"type": "string", "minLength": 1, "maxLength": 40}],
                                               "description": "The study group's id or acronym."},
                                     "content": _ref("DatasetContent")}},
    "DatasetReplace": {"type": "object", "required": ["content"], "additionalProperties": False,
                       "properties": {"content": _ref("DatasetContent")}},
    "Withdrawn": {"type": "object", "properties": {
        "id": {"type": "integer"}, "pid": {"type": "string"}, "state": {"const": "withdrawn"},
        "reason": {"type": "string"}, "withdrawn_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri"}}},
    "Group": {
        "type": "object", "required": ["id", "acronym", "name", "dataset_count"],
        "properties": {
            "id": {"type": "integer"}, "acronym": {"type": "string"}, "name": {"type": "string"},
            "country": _NULLABLE_STRING, "ror": _NULLABLE_STRING, "website": _NULLABLE_STRING,
            "description": _NULLABLE_STRING, "url": {"type": "string", "format": "uri"},
            "dataset_count": {"type": "integer", "description": "Published datasets."},
            "curators": {"type": "array", "description": "Admins only.", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "display_name": {"type": "string"}}}},
            "datasets": {"type": "array", "description": "On a single group: its published datasets "
                         "(curators and admins: all of them).", "items": {"type": "object", "properties": {
                             "id": {"type": "integer"}, "pid": {"type": "string"}, "state": {"type": "string"},
                             "title": _NULLABLE_STRING, "url": {"type": "string"}, "api": {"type": "string"}}}},
        },
    },
    "DiseaseTerm": {"type": "object", "required": ["id", "label"], "properties": {
        "id": {"type": "string", "examples": ["DOID:9119"]}, "label": {"type": "string"},
        "definition": _NULLABLE_STRING, "synonyms": _STRINGS, "abbreviations": _STRINGS, "parents": _STRINGS,
        "icd10": _CODE_TITLE, "icdo3": _CODE_TITLE,
        "category": {"type": ["object", "null"], "properties": {"key": {"type": "string"},
                                                                "label": {"type": "string"}}}}},
    "DiseaseSuggestion": {"type": "object", "required": ["id", "label", "matched"], "properties": {
        "id": {"type": "string"}, "label": {"type": "string"},
        "matched": {"type": "string", "description": "The name or abbreviation that matched the prefix."}}},
    "DuoTerm": {"type": "object", "required": ["id", "shorthand", "label", "kind"], "properties": {
        "id": {"type": "string", "examples": ["DUO:0000042"]}, "shorthand": {"type": "string"},
        "label": {"type": "string"}, "definition": {"type": "string"}, "kind": {"enum": ["permission", "modifier"]},
        "uri": {"type": "string", "format": "uri"}}},
    "Vocabulary": {"type": "object", "required": ["vocabulary", "items"], "properties": {
        "vocabulary": {"enum": ["diseases", "duo"]}, "count": {"type": "integer"}, "q": {"type": "string"},
        "items": {"type": "array", "items": {"anyOf": [_ref("DiseaseTerm"), _ref("DiseaseSuggestion"),
                                                       _ref("DuoTerm")]}}}},
    "Me": {"type": "object", "required": ["id", "display_name", "roles"], "properties": {
        "id": {"type": "integer"}, "display_name": {"type": "string"}, "email": _NULLABLE_STRING,
        "affiliation": _NULLABLE_STRING, "orcid": _NULLABLE_STRING,
        "roles": {"type": "array", "items": {"type": "object", "properties": {
            "role": {"type": "string"}, "scope": {"type": "string"}, "scope_id": {"type": ["integer", "null"]},
            "scope_label": _NULLABLE_STRING}}}}},
    "SearchResults": {"type": "object", "required": ["total", "items", "facets", "feasibility"], "properties": {
        "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "pages": {"type": "integer"}, "items": {"type": "array", "items": {"type": "object"}},
        "facets": {"type": "object", "additionalProperties": True,
                   "description": "Per facet, each value with its count (computed without the facet's own selection)."},
        "feasibility": {"type": "object", "additionalProperties": True,
                        "description": "The patients of the matching datasets: total, by disease, by population."},
        "understood": {"description": "How the query was understood (the terms it was expanded with)."},
        "interpreted": {}, "notes": {}, "suggestion": {"description": "A 'did you mean' query, when one helps."}}},
}

def _search_parameters() -> list[dict[str, Any]]:
    """The search's query parameters, from the one model the page and the API both parse."""
    from harmony.search.params import SearchParams

    properties = SearchParams.model_json_schema()["properties"]
    return [{"name": name, "in": "query", "schema": schema, "style": "form", "explode": True}
            for name, schema in properties.items()]


PATHS: dict[str, Any] = {
    "/api/v1/": {"get": {
        "operationId": "index", "summary": "What this API is, and where its description lives", "security": [{}],
        "responses": {"200": _json({"type": "object", "properties": {
            "name": {"type": "string"}, "version": {"type": "string"}, "openapi": {"type": "string"}}}, "The index.")}}},
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [{}],
        "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 description of /api/v1.")}}},
    "/api/v1/me": {"get": {
        "operationId": "me", "summary": "The token's user with their roles", "tags": ["accounts"],
        "security": BEARER, "responses": {"200": _json(_ref("Me"), "The signed-in user."), **_errors(401)}}},
    "/api/v1/datasets": {
        "get": {
            "operationId": "searchDatasets", "tags": ["search"], "security": BEARER_OPTIONAL,
            "summary": "Search the catalog",
            "description": "The same parameters as the search page /datasets (repeat a list parameter for "
                           "several values: values of one facet combine with OR, facets with AND). Only "
                           "published datasets are searched.",
            "parameters": _search_parameters(),
            "responses": {"200": _json(_ref("SearchResults"), "Matching datasets, facet counts and the "
                                                                "feasibility sums."), **_errors(401, 422)}},
        "post": {
            "operationId": "createDataset", "tags": ["datasets"], "security": BEARER,
            "summary": "Create a draft in a study group the token's user curates",
            "requestBody": _body(_ref("DatasetCreate")),
            "responses": {"201": _json(_ref("Dataset"), "The new draft.", headers={**ETAG, **LOCATION}),
                          **_errors(400, 401, 403, 415, 422)}},
    },
    "/api/v1/datasets/{key}": {
        "parameters": [DATASET_KEY],
        "get": {
            "operationId": "getDataset", "tags": ["datasets"], "security": BEARER_OPTIONAL,
            "summary": "A dataset description",
            "description": "Visitors get the newest published version. The group's curators and admins also "
                           "get drafts (as their working copy), and the working copy of a published dataset "
                           "with `working_copy=1`, plus `completeness` and an ETag.",
            "parameters": [{"name": "working_copy", "in": "query", "schema": {"type": "boolean"},
                            "description": "Curators: the working copy instead of the published version."}],
            "responses": {"200": _json(_ref("Dataset"), "The description.", headers=ETAG),
                          "410": {"description": ERRORS[410], "content": {PROBLEM: {"schema": _ref("Tombstone")}}},
                          **_errors(401, 403, 404)}},
        "put": {
            "operationId": "replaceDataset", "tags": ["datasets"], "security": BEARER,
            "summary": "Replace the working copy",
            "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"},
                            "description": "The ETag last read; refuses with 412 if someone saved since."}],
            "requestBody": _body(_ref("DatasetReplace")),
            "responses": {"200": _json(_ref("Dataset"), "The saved working copy.", headers=ETAG),
                          **_errors(400, 401, 403, 404, 409, 412, 415, 422)}},
    },
    "/api/v1/datasets/{key}/publish": {"parameters": [DATASET_KEY], "post": {
        "operationId": "publishDataset", "tags": ["datasets"], "security": BEARER,
        "summary": "Publish the working copy as a new immutable version",
        "requestBody": _body({"type": "object", "properties": {"notes": {"type": "string", "maxLength": 2000}},
                              "additionalProperties": False}, required=False),
        "responses": {"200": _json(_ref("Dataset"), "The newly published version.", headers=ETAG),
                      **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    "/api/v1/datasets/{key}/withdraw": {"parameters": [DATASET_KEY], "post": {
        "operationId": "withdrawDataset", "tags": ["datasets"], "security": BEARER,
        "summary": "Withdraw a published dataset; its PID then answers 410 with the reason",
        "requestBody": _body({"type": "object", "required": ["reason"], "additionalProperties": False,
                              "properties": {"reason": {"type": "string", "minLength": 10}}}),
        "responses": {"200": _json(_ref("Withdrawn"), "The tombstone."), **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    "/api/v1/groups": {
        "get": {"operationId": "listGroups", "tags": ["groups"], "security": BEARER_OPTIONAL,
                "summary": "The study groups (with their curators, for admins)",
                "responses": {"200": _json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Group")}}}, "Every study group.")}},
        "post": {"operationId": "createGroup", "tags": ["groups"], "security": BEARER, "summary": "Admins: create",
                 "requestBody": _body(_ref("GroupInput")),
                 "responses": {"201": _json(_ref("Group"), "The new group.", headers=LOCATION),
                               **_errors(400, 401, 403, 415, 422)}},
    },
    "/api/v1/groups/{acronym}": {
        "parameters": [ACRONYM],
        "get": {"operationId": "getGroup", "tags": ["groups"], "security": BEARER_OPTIONAL,
                "summary": "A study group and its datasets",
                "responses": {"200": _json(_ref("Group"), "The group."), **_errors(404)}},
        "put": {"operationId": "replaceGroup", "tags": ["groups"], "security": BEARER, "summary": "Admins: replace",
                "requestBody": _body(_ref("GroupInput")),
                "responses": {"200": _json(_ref("Group"), "The changed group."),
                              **_errors(400, 401, 403, 404, 415, 422)}},
    },
    "/api/v1/vocabularies/{name}": {"get": {
        "operationId": "getVocabulary", "tags": ["vocabularies"], "security": BEARER_OPTIONAL,
        "summary": "A controlled vocabulary: diseases (Disease Ontology with ICD-10 and ICD-O-3) or DUO",
        "description": "Cacheable (ETag, Cache-Control: public): vocabularies change only with a release.",
        "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"enum": ["diseases", "duo"]}},
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200},
             "description": "diseases only: suggestions for a picker, by name, synonym or abbreviation prefix."},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
             "description": "With q: how many suggestions."}],
        "responses": {"200": _json(_ref("Vocabulary"), "The terms, or the suggestions for q."),
                      "304": {"description": "Not modified (If-None-Match matched)."}, **_errors(404, 422)}}},
}


# --- access requests: proposals, reviews, committees (harmony/access_requests/api.py) ----------

PROPOSAL_ID = {"name": "proposal_id", "in": "path", "required": True, "schema": ROW_ID,
               "description": "The proposal's id."}
REVIEW_ID = {"name": "review_id", "in": "path", "required": True, "schema": ROW_ID,
             "description": "The review's id (one committee's review of one proposal)."}
COMMITTEE_ID = {"name": "committee_id", "in": "path", "required": True, "schema": ROW_ID,
                "description": "The committee's id."}
ATTACHMENT_ID = {"name": "attachment_id", "in": "path", "required": True,
                 "schema": ROW_ID, "description": "The attachment's id."}
_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _nullable_enum(values: Any) -> dict[str, Any]:
    return {"enum": [*values, None]}


def _action_line(action: Any) -> str:
    to = f" → {action.to_state}" if action.to_state else " (the state stays)"
    return (f"{action.label}. From {', '.join(sorted(action.from_states))}{to}; "
            f"by {', '.join(sorted(action.who))}.")


def _action_parameter(table: dict[str, Any]) -> dict[str, Any]:
    """The `{action}` path parameter: the names, the states they start from and who may run them,
    all read from the workflow table (harmony/access_requests/workflow.py)."""
    lines = [f"- `{action.name}`: {_action_line(action)}" for action in table.values()]
    return {"name": "action", "in": "path", "required": True, "schema": {"enum": list(table)},
            "description": "The action (an unknown name answers 404). The actions that need fields of the body "
                           "have a path of their own. The full table of who may do what in which state is "
                           "docs/permissions.md.\n\n" + "\n".join(lines)}


def _needed_input() -> dict[str, Any]:
    """The fields an action may need (workflow `needs_comment` and `needs`), as the action requires them."""
    from harmony.access_requests.rules import VOTES

    return {
        "comment": {"type": "string", "pattern": r"\S", "maxLength": 10000, "description": "Not blank."},
        "vote": {"enum": list(VOTES)},
        "data_deleted": {"type": "boolean", "description": "Whether the data were deleted at the project's end."},
        "co_applicant": {**ROW_ID,
                         "description": "The co-applicant's id (`co_applicants[].id` of the proposal)."},
    }


def _action_paths(path: str, target: dict[str, Any], table: dict[str, Any],
                  operation: dict[str, Any]) -> dict[str, Any]:
    """One table's actions: each action that needs fields of the body on a path of its own (its name in
    place of `{action}`), with those fields required; the others on `{action}`, with an optional body."""
    needed = _needed_input()
    special = {name: action for name, action in table.items() if action.needs_comment or action.needs}
    plain = {name: action for name, action in table.items() if name not in special}
    paths = {f"{path}/{{action}}": {"parameters": [target, _action_parameter(plain)], "post": {
        **operation, "requestBody": _body(_ref("ActionInput"), required=False)}}}
    for name, action in special.items():
        required = sorted({*action.needs, *(["comment"] if action.needs_comment else [])})
        body = {"allOf": [_ref("ActionInput"), {"type": "object", "required": required,
                                                "properties": {field: needed[field] for field in required}}]}
        paths[f"{path}/{name}"] = {"parameters": [target], "post": {
            **operation, "operationId": f"{operation['operationId']}-{name}", "summary": action.label,
            "description": f"{_action_line(action)} Needs {', '.join(f'`{field}`' for field in required)}. "
                           + operation["description"], "requestBody": _body(body)}}
    return paths


def _access_request_schemas() -> dict[str, Any]:
    """Input schemas from the pydantic models the API validates with; output schemas by hand, with the
    enumerations (states, actions, votes, rules, attachment kinds) read from the code."""
    from harmony.access_requests import workflow
    from harmony.access_requests.actions import ActionInput
    from harmony.access_requests.committees import CommitteeInput
    from harmony.access_requests.content import ATTACHMENT_KINDS, ProposalContent
    from harmony.access_requests.models import (
        APPROVED,
        PARTIALLY_APPROVED,
        PROPOSAL_STATES,
        REJECTED,
        REVIEW_STATES,
        RULES,
        VOTES,
    )
    from harmony.access_requests.proposals import DATASET_ITEM, MAX_DATASETS

    models = _model_schemas(ProposalContent, ActionInput, CommitteeInput)
    # The validators narrow these strings; say so in the schema (the values come from the code).
    narrowed = {("ActionInput", "vote"): VOTES, ("ActionInput", "outcome"): (APPROVED, REJECTED)}
    for (model, name), values in narrowed.items():
        models[model]["properties"][name] = {**models[model]["properties"][name], "anyOf": [
            {"enum": list(values)}, {"type": "null"}]}
    models["ActionInput"]["properties"]["agreements"]["anyOf"][0]["propertyNames"] = {
        "pattern": "^[0-9]+$", "description": "A committee's id."}
    models["CommitteeInput"]["properties"]["rule"] = {**models["CommitteeInput"]["properties"]["rule"],
                                                      "enum": list(RULES)}
    content = models["ProposalContent"]
    datasets = {"type": "array", "items": {"type": "string", "pattern": DATASET_ITEM, "examples": ["HM-000123"]},
                "maxItems": MAX_DATASETS,
                "description": "The PIDs of the requested (published) datasets; on PATCH, the whole new list."}
    models["ProposalCreate"] = {**content, "title": "ProposalCreate", "required": ["title"],
                                "description": "A new draft: any fields of the form (a title at least) and the "
                                               "requested datasets.",
                                "properties": {**content["properties"], "datasets": datasets, "title": {
                                    "type": "string", "maxLength": 300, "pattern": r"\S",
                                    "description": "Not blank."}}}
    models["ProposalPatch"] = {**content, "title": "ProposalPatch",
                               "description": "The fields that changed (the others stay), and optionally the "
                                              "datasets. Only while the proposal is a draft or returned.",
                               "properties": {**content["properties"], "datasets": datasets}}
    outcome = _nullable_enum((APPROVED, REJECTED, PARTIALLY_APPROVED))
    review_outcome = _nullable_enum((APPROVED, REJECTED))
    summary = {
        "type": "object",
        "required": ["id", "title", "state", "outcome", "url", "created_at", "updated_at", "submitted_at",
                     "decided_at"],
        "properties": {
            "id": {"type": "integer"}, "title": _NULLABLE_STRING, "state": {"enum": list(PROPOSAL_STATES)},
            "outcome": outcome, "url": {"type": "string", "format": "uri", "description": "The proposal's page."},
            "created_at": _DATE_TIME, "updated_at": _DATE_TIME, "submitted_at": _NULLABLE_DATE_TIME,
            "decided_at": _NULLABLE_DATE_TIME}}
    proposal = {"allOf": [_ref("ProposalSummary"), {"type": "object", "required": [
        "applicant", "content", "datasets", "reviews", "requirements", "attachments", "co_applicants",
        "waiting_on", "actions"], "properties": {
        "applicant": {"type": "object", "required": ["id", "display_name"], "properties": {
            "id": {"type": "integer"}, "display_name": {"type": "string"}, "affiliation": _NULLABLE_STRING}},
        "content": {"description": "Every field of the form, empty ones included.",
                    "allOf": [_ref("ProposalContent")]},
        "datasets": {"type": "array", "items": {"type": "object", "required": ["pid", "group", "outcome"],
                                                "properties": {
            "pid": {"type": "string"}, "title": _NULLABLE_STRING, "url": {"type": "string", "format": "uri"},
            "group": {"type": "string"}, "committee": _NULLABLE_STRING, "outcome": review_outcome,
            "data_use": _STRINGS, "objections": {**_STRINGS, "description": "Why the proposal's purpose does "
                                                 "not fit the dataset's data-use conditions."}}}},
        "reviews": {"type": "array", "items": {"type": "object", "required": ["id", "committee", "state"],
                                               "properties": {
            "id": {"type": "integer"}, "committee": {"type": "string"}, "state": {"enum": list(REVIEW_STATES)},
            "deadline": _DATE_TIME, "outcome": review_outcome}}},
        "requirements": {"type": "array", "description": "What the requested datasets' data-use conditions ask "
                         "of the proposal.", "items": {"type": "object", "properties": {
            "code": {"type": "string", "examples": ["DUO:0000021"]}, "shorthand": {"type": "string"},
            "asks": {"type": "string"}, "field": {"type": "string"}, "datasets": _STRINGS}}},
        "attachments": {"type": "array", "items": _ref("Attachment")},
        "co_applicants": {"type": "array", "items": {"type": "object", "properties": {
            "email": {"type": "string"}, "joined": {"type": "boolean"}}}},
        "waiting_on": {"type": "object", "properties": {"who": {"type": "string"}, "for": {"type": "string"},
                                                         "state_label": {"type": "string"}}},
        "actions": {"type": "array", "items": {"enum": list(workflow.PROPOSAL_ACTIONS)},
                    "description": "What the token's user may do now (POST …/actions/{action})."},
        "problems": {"type": "object", "additionalProperties": _STRINGS,
                     "description": "Applicants, while the proposal can be edited: what stops a submission, "
                                    "by field (empty: ready to submit)."}}}]}
    tally = {"type": "object", "required": ["rule", "eligible", "cast", "quorum_needed", "quorum_met", "summary"],
             "properties": {
        "rule": {"enum": list(RULES)}, "eligible": {"type": "integer", "description": "Members not recused."},
        "cast": {"type": "integer"}, "approve": {"type": "integer", "description": "With conditions included."},
        "with_conditions": {"type": "integer"}, "reject": {"type": "integer"}, "abstain": {"type": "integer"},
        "quorum_needed": {"type": "integer"}, "quorum_met": {"type": "boolean"},
        "advice": {**_nullable_enum((APPROVED, REJECTED)),
                   "description": "chair-decides: what the votes would give by majority."},
        "summary": {"type": "string"}}}
    review = {"type": "object", "required": [
        "id", "state", "deadline", "outcome", "overridden", "committee", "proposal", "datasets", "my_vote",
        "recused", "recusals", "questions", "actions"], "properties": {
        "id": {"type": "integer"}, "state": {"enum": list(REVIEW_STATES)}, "deadline": _DATE_TIME,
        "opened_at": _NULLABLE_DATE_TIME, "closed_at": _NULLABLE_DATE_TIME, "outcome": review_outcome,
        "overridden": {"type": "boolean", "description": "The chair chose another outcome than the computed one."},
        "decision_reason": _NULLABLE_STRING, "decided_at": _NULLABLE_DATE_TIME,
        "committee": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                                       "rule": {"enum": list(RULES)}, "quorum": {"type": "number"}}},
        "proposal": _ref("ProposalSummary"), "datasets": _STRINGS,
        "my_vote": {"type": ["object", "null"], "properties": {"vote": {"enum": list(VOTES)},
                                                               "comment": _NULLABLE_STRING}},
        "recused": {"type": "boolean"}, "recusals": {**_STRINGS, "description": "Who declared a conflict."},
        "questions": {"type": "array", "items": {"type": "object", "properties": {
            "text": {"type": "string"}, "asked_at": _DATE_TIME, "answer": _NULLABLE_STRING,
            "answered_at": _NULLABLE_DATE_TIME}}},
        "actions": {"type": "array", "items": {"enum": list(workflow.REVIEW_ACTIONS)}},
        "votes": {"type": "array", "description": "Only once the token's user may see them: after their own vote "
                  "or recusal, for the chair, coordinators and admins, and for everyone once voting is over.",
                  "items": {"type": "object", "properties": {
                      "voter": {"type": "string"}, "vote": {"enum": list(VOTES)}, "comment": _NULLABLE_STRING,
                      "cast_at": _DATE_TIME}}},
        "tally": {"description": "When the votes may be seen.", "allOf": [_ref("Tally")]},
        "computed_outcome": {**review_outcome, "description": "What the committee's rule gives (when the votes "
                             "may be seen)."}}}
    queue_item = {"type": "object", "required": ["id", "state", "committee", "proposal"], "properties": {
        "id": {"type": "integer"}, "state": {"enum": list(REVIEW_STATES)}, "deadline": _DATE_TIME,
        "committee": {"type": "string"}, "proposal": _ref("ProposalSummary"),
        "my_vote": _nullable_enum(VOTES), "recused": {"type": "boolean"}, "votes_cast": {"type": "integer"},
        "outcome": review_outcome}}
    event = {"type": "object", "required": ["seq", "actor", "action", "at", "hash", "prev_hash"], "properties": {
        "seq": {"type": "integer", "minimum": 1}, "actor": {"type": "string"}, "actor_id": {"type": ["integer", "null"]},
        "action": {"type": "string", "description": "A workflow action, or create, invite, join …"},
        "at": _DATE_TIME, "from_state": _NULLABLE_STRING, "to_state": _NULLABLE_STRING,
        "comment": _NULLABLE_STRING, "review": {"type": ["integer", "null"]}, "payload": {"type": "object"},
        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "prev_hash": {"type": "string", "description": "The previous event's hash: the chain `harmony audit "
                      "verify` checks."}}}
    attachment = {"type": "object", "required": ["id", "kind", "filename", "size", "sha256", "url"], "properties": {
        "id": {"type": "integer"}, "kind": {"enum": list(ATTACHMENT_KINDS)},
        "filename": {"type": "string", "description": "A safe name (no path), ending in .pdf."},
        "size": {"type": "integer"}, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "uploaded_at": _DATE_TIME, "url": {"type": "string", "description": "Where to download it in this API."}}}
    committee = {"type": "object", "required": ["id", "name", "rule", "quorum", "voting_days", "groups"],
                 "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "rule": {"enum": list(RULES)},
        "quorum": {"type": "number", "description": "A number of votes (>= 1) or a fraction of the members "
                                                    "who are not recused (< 1)."},
        "voting_days": {"type": "integer"},
        "answer_days": {"type": "integer", "description": "Days the applicant has to answer a question."},
        "agreement_days": {"type": "integer", "description": "Days the applicants have to accept the agreement."},
        "agreement_version": {"type": ["integer", "null"]},
        "groups": {**_STRINGS, "description": "The study groups it governs (acronyms)."},
        "members": {"type": "array", "description": "Admins only.", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "display_name": {"type": "string"}, "email": _NULLABLE_STRING,
            "role": {"enum": ["chair", "member"]}}}},
        "agreement": {**_NULLABLE_STRING, "description": "Admins only: the current data access agreement."}}}

    def listing(item: str, **extra: Any) -> dict[str, Any]:
        return {"type": "object", "required": ["items", *extra],
                "properties": {**extra, "items": {"type": "array", "items": _ref(item)}}}

    count = {"type": "integer", "minimum": 0}
    return {**models, "ProposalSummary": summary, "Proposal": proposal, "Tally": tally, "Review": review,
            "ReviewQueueItem": queue_item, "Event": event, "Attachment": attachment, "Committee": committee,
            "ProposalList": listing("ProposalSummary", total=count, page=count, per_page=count, pages=count),
            "ReviewQueue": {**listing("ReviewQueueItem"), "description": "The open reviews; with `all=1` also one "
                            "page of the decided and cancelled ones, and `done_total`, `page`, `per_page`, `pages` "
                            "of those."},
            "EventList": listing("Event"),
            "AttachmentList": listing("Attachment"), "CommitteeList": listing("Committee"),
            "RegisterEntry": _register_entry()}


def _register_entry() -> dict[str, Any]:
    """One approved project in the public register."""
    text = {"type": "string"}
    return {"type": "object", "required": ["id", "title", "applicant", "datasets", "committees", "grant_period"],
            "properties": {
        "id": {"type": "integer"}, "title": text, "lay_summary": text, "applicant": text, "institution": text,
        "outcome": {"enum": ["approved", "partially_approved"]}, "decided_at": _DATE_TIME,
        "grant_period": {**text, "description": "When access starts and ends, in words."},
        "committees": _STRINGS, "url": text,
        "datasets": {"type": "array", "description": "Only the approved datasets.", "items": {
            "type": "object", "properties": {"pid": text, "title": text, "url": text}}},
        "publications": {"type": "array", "description": "Publications the applicant reports.", "items": {
            "type": "object", "properties": {"title": text, "url": _NULLABLE_STRING}}}}}


PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": LAST_PAGE_NUMBER,
                                               "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}}]


def _access_request_paths() -> dict[str, Any]:
    from harmony.access_requests import workflow
    from harmony.access_requests.content import ATTACHMENT_KINDS
    from harmony.access_requests.models import PROPOSAL_STATES

    proposal = _json(_ref("Proposal"), "The proposal as the token's user sees it, with what they may do now.")
    return {
        "/api/v1/requests": {
            "get": {
                "operationId": "listRequests", "tags": ["requests"], "security": BEARER,
                "summary": "The proposals the token's user may see, newest activity first",
                "description": "Applicants and co-applicants see their own (drafts included); coordinators and "
                               "admins every submitted one; committee members those their committee reviews.",
                "parameters": [
                    {"name": "state", "in": "query", "style": "form", "explode": True,
                     "schema": {"type": "array", "items": {"enum": list(PROPOSAL_STATES)}},
                     "description": "Only these states (repeat for several)."},
                    *PAGE_PARAMETERS],
                "responses": {"200": _json(_ref("ProposalList"), "One page of proposals."), **_errors(401, 422)}},
            "post": {
                "operationId": "createRequest", "tags": ["requests"], "security": BEARER,
                "summary": "Write a new draft proposal",
                "requestBody": _body(_ref("ProposalCreate")),
                "responses": {"201": {**proposal, "description": "The new draft.", "headers": LOCATION},
                              **_errors(400, 401, 403, 415, 422)}},
        },
        "/api/v1/requests/{proposal_id}": {
            "parameters": [PROPOSAL_ID],
            "get": {"operationId": "getRequest", "tags": ["requests"], "security": BEARER, "summary": "A proposal",
                    "responses": {"200": proposal, **_errors(401, 404)}},
            "patch": {"operationId": "updateRequest", "tags": ["requests"], "security": BEARER,
                      "summary": "Change fields of a draft or returned proposal (applicants)",
                      "requestBody": _body(_ref("ProposalPatch")),
                      "responses": {"200": proposal, **_errors(400, 401, 403, 404, 409, 415, 422)}},
        },
        **_action_paths("/api/v1/requests/{proposal_id}/actions", PROPOSAL_ID, workflow.PROPOSAL_ACTIONS, {
            "operationId": "actOnRequest", "tags": ["requests"], "security": BEARER,
            "summary": "Move the proposal: submit, send to review, withdraw …",
            "description": "Refused with 403 when the token's user stands in no relation the action names, "
                           "with 409 when they do but the proposal's state does not allow it, with 404 when "
                           "they may not see the proposal. Each action is one event in the audit trail.",
            "responses": {"200": proposal, **_errors(400, 401, 403, 404, 409, 415, 422)}}),
        "/api/v1/requests/{proposal_id}/events": {"parameters": [PROPOSAL_ID], "get": {
            "operationId": "listRequestEvents", "tags": ["requests"], "security": BEARER,
            "summary": "The audit trail, as far as the token's user may follow it",
            "description": "Applicants follow their proposal and each review's questions and decisions, not single "
                           "votes; committee members their own committee's review; coordinators and admins all.",
            "responses": {"200": _json(_ref("EventList"), "The events, oldest first."), **_errors(401, 404)}}},
        "/api/v1/requests/{proposal_id}/attachments": {
            "parameters": [PROPOSAL_ID],
            "get": {"operationId": "listAttachments", "tags": ["requests"], "security": BEARER,
                    "summary": "The proposal's attachments",
                    "responses": {"200": _json(_ref("AttachmentList"), "The attachments."), **_errors(401, 404)}},
            "post": {
                "operationId": "uploadAttachment", "tags": ["requests"], "security": BEARER,
                "summary": "Attach a PDF (applicants, while the proposal can be edited)",
                "description": "PDF only (checked by content, not by name), at most ATTACHMENT_MAX_BYTES (10 MB by "
                               "default). The file is stored under a random name; `filename` is a safe version "
                               "of the name sent.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file", "kind"], "properties": {
                        "file": {"type": "string", "format": "binary", "contentMediaType": "application/pdf",
                                 "description": "A PDF document (its content is checked: 422 otherwise)."},
                        "kind": {"enum": list(ATTACHMENT_KINDS)}}}}}},
                "responses": {"201": _json(_ref("Attachment"), "The stored attachment.", headers=LOCATION),
                              **_errors(400, 401, 403, 404, 409, 422)}},
        },
        "/api/v1/requests/{proposal_id}/co-applicants": {"parameters": [PROPOSAL_ID], "post": {
            "operationId": "inviteCoApplicant", "tags": ["requests"], "security": BEARER,
            "summary": "Invite a co-applicant by e-mail (the applicant, while the proposal can be edited)",
            "description": "The invitee gets an e-mail with a signed link, valid for 14 days; they join after "
                           "signing in. The invitation is an event in the audit trail.",
            "requestBody": _body({"type": "object", "required": ["email"], "additionalProperties": False,
                                  "properties": {"email": {"type": "string", "format": "email"}}}),
            "responses": {"201": _json({"type": "object", "properties": {
                "email": {"type": "string"}, "joined": {"type": "boolean"}}}, "The invitation."),
                **_errors(400, 401, 403, 404, 409, 415, 422)}}},
        "/api/v1/requests/{proposal_id}/attachments/{attachment_id}": {
            "parameters": [PROPOSAL_ID, ATTACHMENT_ID],
            "get": {"operationId": "downloadAttachment", "tags": ["requests"], "security": BEARER,
                    "summary": "Download an attachment",
                    "responses": {"200": {"description": "The PDF, as a download under its safe name.",
                                          "content": {"application/pdf": {"schema": {
                                              "type": "string", "contentMediaType": "application/pdf"}}}},
                                  **_errors(401, 404)}}},
        "/api/v1/reviews": {"get": {
            "operationId": "listReviews", "tags": ["reviews"], "security": BEARER,
            "summary": "The review queue of the token's user's committees, what needs them first",
            "parameters": [{"name": "all", "in": "query", "schema": {"type": "boolean", "default": False},
                            "description": "Also decided and cancelled reviews, a page at a time, newest first."},
                           *PAGE_PARAMETERS],
            "responses": {"200": _json(_ref("ReviewQueue"), "The reviews."), **_errors(401, 422)}}},
        "/api/v1/reviews/{review_id}": {"parameters": [REVIEW_ID], "get": {
            "operationId": "getReview", "tags": ["reviews"], "security": BEARER,
            "summary": "One review: the committee members, coordinators and admins",
            "responses": {"200": _json(_ref("Review"), "The review as the token's user sees it."),
                          **_errors(401, 404)}}},
        **_action_paths("/api/v1/reviews/{review_id}/actions", REVIEW_ID, workflow.REVIEW_ACTIONS, {
            "operationId": "actOnReview", "tags": ["reviews"], "security": BEARER,
            "summary": "Declare a conflict, close voting, decide",
            "description": "`decide` without `outcome` confirms the computed outcome; with an `outcome` other "
                           "than the computed one it overrides it and needs a `reason` (409 without one, as the "
                           "votes decide whether it is an override). Refused with 403 without a relation the "
                           "action names (a recused member has none), with 409 in the wrong state, with 404 for "
                           "a review the token's user may not see.",
            "responses": {"200": _json(_ref("Review"), "The review after the action."),
                          **_errors(400, 401, 403, 404, 409, 415, 422)}}),
        "/api/v1/stats/requests": {"get": {
            "operationId": "getRequestStats", "tags": ["requests"], "security": BEARER,
            "summary": "Coordinators and admins: proposals per state, time in state, overdue items",
            "description": "The numbers of the /dashboard page. `counts` are now; `time_in_state` holds the median "
                           "and 90th percentile (days) of the stays, from the audit trail, that ended in the last "
                           "`period` days or go on now; `overdue` lists voting past its deadline, proposals waiting "
                           "for screening longer than HARMONY_SCREENING_DAYS, unanswered questions (answer-overdue "
                           "after the committee's answer_days), agreements not accepted in time and final reports "
                           "not filed in time, each with its due date and whom it waits on.",
            "parameters": [{"name": "period", "in": "query", "description": "Days to look back (default 90).",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 90}}],
            "responses": {"200": _json({"type": "object", "required": [
                "period_days", "from", "to", "screening_days", "counts", "time_in_state", "overdue"], "properties": {
                "period_days": {"type": "integer"}, "from": {"type": "string", "format": "date-time"},
                "to": {"type": "string", "format": "date-time"}, "screening_days": {"type": "integer"},
                "report_grace_days": {"type": "integer"},
                "counts": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"enum": ["proposal", "review"]}, "state": {"type": "string"},
                    "count": {"type": "integer"}}}},
                "time_in_state": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"enum": ["proposal", "review"]}, "state": {"type": "string"},
                    "stays": {"type": "integer"}, "median_days": {"type": ["number", "null"]},
                    "p90_days": {"type": ["number", "null"]}}}},
                "overdue": {"type": "array", "items": {"type": "object", "properties": {
                    "reason": {"enum": ["voting-deadline", "screening", "question", "answer-overdue", "agreement",
                                        "final-report"]},
                    "proposal_id": {"type": "integer"}, "title": {"type": "string"},
                    "review_id": {"type": ["integer", "null"]}, "committee": {"type": ["string", "null"]},
                    "since": {"type": "string", "format": "date-time"}, "days": {"type": "number"},
                    "waiting_on": {"type": "array", "items": {"type": "string"}},
                    "due": {"type": ["string", "null"], "format": "date-time"}}}}}},
                "The dashboard's numbers."), **_errors(401, 403, 422)}}},
        "/api/v1/committees": {
            "get": {"operationId": "listCommittees", "tags": ["committees"], "security": BEARER_OPTIONAL,
                    "summary": "The data access committees (with members and agreement, for admins)",
                    "responses": {"200": _json(_ref("CommitteeList"), "Every committee."), **_errors(401)}},
            "post": {"operationId": "createCommittee", "tags": ["committees"], "security": BEARER,
                     "summary": "Admins: create a committee", "requestBody": _body(_ref("CommitteeInput")),
                     "responses": {"201": _json(_ref("Committee"), "The new committee.", headers=LOCATION),
                                   **_errors(400, 401, 403, 415, 422)}},
        },
        "/api/v1/register": {"get": {
            "operationId": "getRegister", "tags": ["requests"], "security": BEARER_OPTIONAL,
            "summary": "The public register of approved projects, newest decision first",
            "description": "Only proposals decided as approved or partially approved, with only their approved "
                           "datasets, and only the register's fields. No token needed.",
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"},
                            "description": "Words the title, lay summary, institution or applicant's name "
                                           "all contain."}, *PAGE_PARAMETERS],
            "responses": {"200": _json({"type": "object", "required": ["items", "total", "page", "per_page", "pages"],
                                        "properties": {"items": {"type": "array", "items": _ref("RegisterEntry")},
                                                       "total": {"type": "integer"}, "page": {"type": "integer"},
                                                       "per_page": {"type": "integer"},
                                                       "pages": {"type": "integer"}}},
                                       "One page of approved projects."), **_errors(401, 422)}}},
        "/api/v1/committees/{committee_id}": {"parameters": [COMMITTEE_ID], "put": {
            "operationId": "replaceCommittee", "tags": ["committees"], "security": BEARER,
            "summary": "Admins: change a committee (a changed agreement becomes a new version)",
            "requestBody": _body(_ref("CommitteeInput")),
            "responses": {"200": _json(_ref("Committee"), "The changed committee."),
                          **_errors(400, 401, 403, 404, 415, 422)}}},
    }


def _shared_refusals(paths: dict[str, Any]) -> dict[str, Any]:
    """Refusals every operation of a kind shares, said on each: a service token gets 403 from every
    operation that needs a user's token, a write the current state refuses 409 (a name taken, a
    proposal not complete enough), and a query the description refuses 422 wherever there are query
    parameters (harmony/api/query_check.py)."""
    for item in paths.values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if operation.get("security") == BEARER:
                operation["responses"].setdefault("403", _errors(403)["403"])
            if "requestBody" in operation:
                operation["responses"].setdefault("409", _errors(409)["409"])
            if any(p.get("in") == "query" for p in [*item.get("parameters", []), *operation.get("parameters", [])]):
                operation["responses"].setdefault("422", _errors(422)["422"])
    return paths


def document(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI document for a deployment at `base_url`."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Harmony API", "version": "v1", "license": {"name": "Apache-2.0",
                                                                      "identifier": "Apache-2.0"},
                 "description": "The catalog of haematology trial datasets and its vocabularies. Reading what "
                                "is public needs no token; writing needs `Authorization: Bearer <token>` (a "
                                "personal API token). Every error is application/problem+json.\n\n"
                                "Access requests (tags requests, reviews, committees) all need a token: "
                                "researchers write proposals for datasets, the coordinator screens them, "
                                "each committee that governs a requested dataset reviews and decides. "
                                "Every move is `POST …/actions/{action}` with the action's name; who may run "
                                "which action in which state is one table (docs/permissions.md). A proposal "
                                "or review the token's user may not see answers 404, an action they may not "
                                "run 403, an action the state does not allow 409."},
        "servers": [{"url": base_url}],
        "security": BEARER_OPTIONAL,
        "tags": [{"name": name} for name in ("accounts", "datasets", "search", "groups", "vocabularies")] + [
            {"name": "requests", "description": "Proposals for access to datasets: drafts, actions, attachments, "
                                                "the audit trail."},
            {"name": "reviews", "description": "Committee reviews: conflicts of interest, votes, questions, "
                                               "decisions."},
            {"name": "committees", "description": "Data access committees, their rules and agreements."}],
        "paths": _shared_refusals({**PATHS, **_access_request_paths(), **passport_paths(), **platform_paths()}),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token, made on the account page or "
                                                          "with `harmony users token`."}},
            "schemas": {**SCHEMAS, **_model_schemas(DatasetContent, GroupInput), **_access_request_schemas()},
            "responses": {f"E{code}": {"description": text, "content": {PROBLEM: {"schema": _ref("Problem")}}}
                          for code, text in ERRORS.items()},
        },
    }
