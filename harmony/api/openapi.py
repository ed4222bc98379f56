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

JSON = "application/json"
PROBLEM = "application/problem+json"
BEARER = [{"bearer": []}]
BEARER_OPTIONAL = [{}, {"bearer": []}]

ERRORS = {
    400: "Malformed request: the body is not a JSON object, or not valid JSON.",
    401: "No bearer token, or an unknown, expired or revoked one.",
    403: "The token's user may not do this.",
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
                      "properties": {"group": {"oneOf": [{"type": "integer"}, {"type": "string"}],
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


def document(base_url: str) -> dict[str, Any]:
    """The whole OpenAPI document for a deployment at `base_url`."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Harmony API", "version": "v1", "license": {"name": "Apache-2.0",
                                                                      "identifier": "Apache-2.0"},
                 "description": "The catalog of haematology trial datasets and its vocabularies. Reading what "
                                "is public needs no token; writing needs `Authorization: Bearer <token>` (a "
                                "personal API token). Every error is application/problem+json."},
        "servers": [{"url": base_url}],
        "security": BEARER_OPTIONAL,
        "tags": [{"name": name} for name in ("accounts", "datasets", "search", "groups", "vocabularies")],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token, made on the account page or "
                                                          "with `harmony users token`."}},
            "schemas": {**SCHEMAS, **_model_schemas(DatasetContent, GroupInput)},
            "responses": {f"E{code}": {"description": text, "content": {PROBLEM: {"schema": _ref("Problem")}}}
                          for code, text in ERRORS.items()},
        },
    }
