"""The catalog's JSON API: datasets, study groups and vocabularies, and who may see and do what."""

from __future__ import annotations

import pytest

from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, TokenCreate
from harmony.catalog import services as catalog
from tests import factories

ROLES = ("anonymous", "researcher", "other_curator", "curator", "admin")


@pytest.fixture
def world(app):
    """Two study groups, a token for each kind of user, and a way to make datasets of HOVON."""
    with app.app_context():
        hovon = factories.group("HOVON")
        gmall = factories.group("GMALL", country="DE")
        people = {
            "researcher": factories.user("alice"),
            "other_curator": factories.user("kai"),
            "curator": factories.user("cora"),
            "admin": factories.user("adam"),
        }
        factories.curator("kai", gmall)
        cora = factories.curator("cora", hovon)
        factories.admin("adam")
        tokens = {role: accounts.create_token(COMMAND_LINE, person.id, TokenCreate(name="test"))[1]
                  for role, person in people.items()}

    def make(publish: bool = False, **overrides):
        with app.app_context():
            return factories.dataset(cora, hovon, publish=publish, **overrides)

    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    headers["anonymous"] = {}
    return {"hovon": hovon, "gmall": gmall, "cora": cora, "headers": headers, "make": make}


def statuses(client, world, method: str, path, json=None, roles=ROLES) -> dict[str, int]:
    """The status each role gets; `path` may be a function of the role (for a fresh dataset each)."""
    found = {}
    for role in roles:
        target = path(role) if callable(path) else path
        response = client.open(target, method=method, json=json, headers=world["headers"][role])
        assert response.mimetype in ("application/json", "application/problem+json"), (role, response.mimetype)
        found[role] = response.status_code
    return found


def expect(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


# --- datasets: create ------------------------------------------------------------------------


def test_create_answers_201_with_location_etag_and_the_draft(client, world):
    body = {"group": "hovon", "content": {"title": "HOVON 150 AML", "diseases": ["AML"], "population": "adult"}}
    response = client.post("/api/v1/datasets", json=body, headers=world["headers"]["curator"])
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"] == f"/api/v1/datasets/{created['pid']}"
    assert response.headers["ETag"] == f'"{created["lock_version"]}"'
    assert created["state"] == "draft" and created["working_copy"] is True and created["version"] is None
    assert created["url"] == f"http://harmony.test/datasets/{created['pid']}"
    assert created["group"] == {"id": world["hovon"].id, "acronym": "HOVON", "name": "HOVON study group"}
    assert created["content"]["diseases"] == ["DOID:9119"]  # "AML" resolved through the vocabulary
    assert created["content"]["keywords"] == [] and created["content"]["n_patients"] is None
    assert 0 < created["completeness"]["score"] < 100
    assert "description" in {item["key"] for item in created["completeness"]["missing"]}
    assert client.get(response.headers["Location"], headers=world["headers"]["curator"]).status_code == 200


def test_who_may_create(client, world):
    body = {"group": "HOVON", "content": {"title": "A draft"}}
    assert statuses(client, world, "POST", "/api/v1/datasets", body) == expect(401, 403, 403, 201, 201)
    by_id = {"group": world["gmall"].id, "content": {"title": "Admins may add to any group"}}
    assert client.post("/api/v1/datasets", json=by_id, headers=world["headers"]["admin"]).status_code == 201


def test_create_rejects_bad_input_with_problems(client, world):
    headers = world["headers"]["curator"]
    unknown = client.post("/api/v1/datasets", json={"group": "NOPE", "content": {}}, headers=headers)
    assert unknown.status_code == 409 and unknown.get_json()["errors"] == {"group": ["no study group NOPE"]}
    assert unknown.get_json()["type"] == "http://harmony.test/problems/state-conflict"  # well-formed, refused by state

    invalid = client.post("/api/v1/datasets", headers=headers, json={
        "group": "HOVON", "content": {"population": "elderly", "registrations": ["NCT1"], "colour": "red"}})
    assert invalid.status_code == 422 and invalid.mimetype == "application/problem+json"
    problem = invalid.get_json()
    assert problem["type"] == "http://harmony.test/problems/validation-error"
    assert {"content.population", "content.registrations", "content.colour"} <= set(problem["errors"])

    malformed = client.post("/api/v1/datasets", data='{"group": "HOVON",', headers=headers,
                            content_type="application/json")
    assert malformed.status_code == 400 and malformed.mimetype == "application/problem+json"
    assert "line 1, column" in malformed.get_json()["detail"]
    assert malformed.get_json()["type"].endswith("/problems/malformed-body")

    as_text = client.post("/api/v1/datasets", data="group=HOVON", headers=headers, content_type="text/plain")
    assert as_text.status_code == 415 and as_text.get_json()["type"].endswith("/problems/unsupported-media-type")
    assert client.post("/api/v1/datasets", json=[1, 2], headers=headers).status_code == 400
    assert client.post("/api/v1/datasets", headers=headers).status_code == 400
    huge = client.post("/api/v1/datasets", json={"group": 10**20, "content": {}}, headers=headers)
    assert huge.status_code == 422 and "group" in str(huge.get_json()["errors"])
    assert client.post("/api/v1/datasets", json={"group": "HOVON", "content": {}},
                       headers=world["headers"]["researcher"]).status_code == 403
    not_a_number = client.post("/api/v1/datasets", data='{"group": "HOVON", "content": {"age_min": NaN}}',
                               headers=headers, content_type="application/json")
    assert not_a_number.status_code == 400


# --- datasets: read --------------------------------------------------------------------------


def test_drafts_are_only_for_the_groups_curators_and_admins(client, world):
    draft = world["make"](publish=False)
    for key in (draft.pid, draft.id):
        assert statuses(client, world, "GET", f"/api/v1/datasets/{key}") == expect(404, 404, 404, 200, 200)
    hidden = client.get(f"/api/v1/datasets/{draft.pid}").get_json()
    assert hidden["type"].endswith("/problems/not-found") and "HOVON" not in str(hidden)


def test_visitors_read_the_newest_published_version_and_never_the_working_copy(app, client, world):
    published = world["make"](publish=True)
    with app.app_context():
        catalog.update_dataset(world["cora"], published.id, factories.content(title="Unpublished new title"))
    path = f"/api/v1/datasets/{published.pid}"

    public = client.get(path)
    assert public.status_code == 200 and "ETag" not in public.headers
    body = public.get_json()
    assert body["content"]["title"].startswith("HOVON 132") and body["version"] == 1
    assert body["working_copy"] is False and body["issued"] and body["modified"]
    assert "completeness" not in body and "lock_version" not in body
    assert client.get(path, headers=world["headers"]["researcher"]).get_json()["content"]["title"].startswith("HOVON")

    as_curator = client.get(path, headers=world["headers"]["curator"]).get_json()
    assert as_curator["content"]["title"].startswith("HOVON") and as_curator["has_unpublished_changes"] is True
    assert "completeness" in as_curator

    assert statuses(client, world, "GET", path + "?working_copy=1") == expect(401, 403, 403, 200, 200)
    copy = client.get(path + "?working_copy=1", headers=world["headers"]["curator"])
    assert copy.get_json()["content"]["title"] == "Unpublished new title" and copy.get_json()["working_copy"]
    assert copy.headers["ETag"] == f'"{copy.get_json()["lock_version"]}"'


def test_malformed_keys_and_bad_tokens(client, world):
    for key in ("abc", "HM-1", "99999999999999999999", "hm-000001"):
        response = client.get(f"/api/v1/datasets/{key}")
        assert response.status_code == 404 and response.mimetype == "application/problem+json", key
    published = world["make"](publish=True)
    bad = client.get(f"/api/v1/datasets/{published.pid}", headers={"Authorization": "Bearer hm_expired"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    assert client.get("/api/v1/groups", headers={"Authorization": "Bearer hm_expired"}).status_code == 401


# --- datasets: replace, publish, withdraw ----------------------------------------------------


def test_who_may_replace_a_working_copy(client, world):
    body = {"content": factories.content(title="Replaced title").model_dump(mode="json")}
    drafts = {role: world["make"](publish=False) for role in ROLES}
    assert statuses(client, world, "PUT", lambda role: f"/api/v1/datasets/{drafts[role].id}", body) == \
        expect(401, 404, 404, 200, 200)
    published = world["make"](publish=True)
    public_path = f"/api/v1/datasets/{published.pid}"
    assert statuses(client, world, "PUT", public_path, body, roles=("researcher", "other_curator")) == \
        {"researcher": 403, "other_curator": 403}
    assert client.get(public_path).get_json()["content"]["title"].startswith("HOVON")
    # permission comes before validation: an outsider learns nothing from the field errors
    invalid = {"content": {"population": "elderly"}}
    assert statuses(client, world, "PUT", public_path, invalid, roles=("researcher", "curator")) == \
        {"researcher": 403, "curator": 422}


def test_replace_honours_if_match(client, world):
    draft = world["make"](publish=False)
    path, headers = f"/api/v1/datasets/{draft.pid}", world["headers"]["curator"]
    etag = client.get(path, headers=headers).headers["ETag"]
    first = client.put(path, json={"content": {"title": "First edit"}}, headers={**headers, "If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    assert first.get_json()["content"]["title"] == "First edit"

    stale = client.put(path, json={"content": {"title": "Lost update"}}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412 and stale.get_json()["type"].endswith("/problems/precondition-failed")
    assert client.get(path, headers=headers).get_json()["content"]["title"] == "First edit"

    anything = client.put(path, json={"content": {"title": "Any version"}}, headers={**headers, "If-Match": "*"})
    assert anything.status_code == 200
    unconditional = client.put(path, json={"content": {"title": "No ETag"}}, headers=headers)
    assert unconditional.status_code == 200
    extra = client.put(path, json={"content": {}, "state": "published"}, headers=headers)
    assert extra.status_code == 422 and "state" in extra.get_json()["errors"]


def test_publish_and_withdraw_through_the_api(client, world):
    headers = world["headers"]["curator"]
    draft = world["make"](publish=False)
    path = f"/api/v1/datasets/{draft.pid}"
    published = client.post(path + "/publish", json={"notes": "First release"}, headers=headers)
    assert published.status_code == 200
    assert published.get_json()["version"] == 1 and published.get_json()["state"] == "published"
    assert client.post(path + "/publish", headers=headers).status_code == 409  # nothing changed

    incomplete = client.post("/api/v1/datasets", json={"group": "HOVON", "content": {"title": "Thin"}},
                             headers=headers).get_json()
    refused = client.post(f"/api/v1/datasets/{incomplete['pid']}/publish", headers=headers)
    assert refused.status_code == 409 and "n_patients" in refused.get_json()["errors"]  # the working copy is incomplete

    no_reason = client.post(path + "/withdraw", json={}, headers=headers)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    withdrawn = client.post(path + "/withdraw", json={"reason": "Consent was withdrawn by the sponsor."},
                            headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"

    for viewer in ({}, headers):
        gone = client.get(path, headers=viewer)
        assert gone.status_code == 410 and gone.mimetype == "application/problem+json"
        tombstone = gone.get_json()
        assert tombstone["reason"] == "Consent was withdrawn by the sponsor." and tombstone["pid"] == draft.pid
        assert tombstone["dataset_title"].startswith("HOVON 132") and tombstone["withdrawn_at"]
    assert client.put(path, json={"content": {"title": "Back"}}, headers=headers).status_code == 409


def test_who_may_publish_and_withdraw(client, world):
    drafts = {role: world["make"](publish=False) for role in ROLES}
    assert statuses(client, world, "POST", lambda role: f"/api/v1/datasets/{drafts[role].id}/publish") == \
        expect(401, 404, 404, 200, 200)
    live = {role: world["make"](publish=True) for role in ROLES}
    reason = {"reason": "Superseded by the pooled HOVON dataset."}
    assert statuses(client, world, "POST", lambda role: f"/api/v1/datasets/{live[role].id}/withdraw", reason) == \
        expect(401, 403, 403, 200, 200)


# --- study groups ----------------------------------------------------------------------------


def test_groups_list_counts_published_datasets_only(client, world):
    world["make"](publish=True)
    world["make"](publish=True, title="HOVON 103 AML elderly")
    world["make"](publish=False)
    items = {group["acronym"]: group for group in client.get("/api/v1/groups").get_json()["items"]}
    assert items["HOVON"]["dataset_count"] == 2 and items["GMALL"]["dataset_count"] == 0
    assert items["GMALL"]["country"] == "DE" and items["HOVON"]["url"] == "http://harmony.test/groups/HOVON"
    assert "curators" not in items["HOVON"]
    as_admin = client.get("/api/v1/groups", headers=world["headers"]["admin"]).get_json()["items"]
    hovon = next(group for group in as_admin if group["acronym"] == "HOVON")
    assert [person["display_name"] for person in hovon["curators"]] == ["Cora"]


def test_a_group_lists_drafts_only_to_its_curators(app, client, world):
    live = world["make"](publish=True)
    draft = world["make"](publish=False, title="Secret draft title")
    with app.app_context():
        catalog.update_dataset(world["cora"], live.id, factories.content(title="Unpublished rename"))
    for role in ("anonymous", "researcher", "other_curator"):
        listed = client.get("/api/v1/groups/hovon", headers=world["headers"][role]).get_json()["datasets"]
        assert [(d["pid"], d["title"][:9]) for d in listed] == [(live.pid, "HOVON 132")], role
    for role in ("curator", "admin"):
        listed = client.get("/api/v1/groups/HOVON", headers=world["headers"][role]).get_json()["datasets"]
        assert {d["pid"]: d["state"] for d in listed} == {live.pid: "published", draft.pid: "draft"}, role
    assert client.get("/api/v1/groups/NOPE").status_code == 404


def test_only_admins_create_and_change_groups(client, world):
    def body(role: str) -> dict:
        return {"name": f"Nordic group {role}", "acronym": f"NG-{role[:5]}", "country": "Sweden"}

    found = {}
    for role in ROLES:
        found[role] = client.post("/api/v1/groups", json=body(role), headers=world["headers"][role]).status_code
    assert found == expect(401, 403, 403, 403, 201)
    created = client.get("/api/v1/groups/NG-admin").get_json()
    assert created["country"] == "SE" and created["dataset_count"] == 0

    duplicate = client.post("/api/v1/groups", json=body("admin"), headers=world["headers"]["admin"])
    assert duplicate.status_code == 409 and "acronym" in duplicate.get_json()["errors"]
    bad = client.post("/api/v1/groups", json={"name": "X", "acronym": "?"}, headers=world["headers"]["admin"])
    assert bad.status_code == 422 and {"name", "acronym"} <= set(bad.get_json()["errors"])

    change = {"name": "HOVON Foundation", "acronym": "HOVON", "country": "NL", "ror": "https://ror.org/03yrm5c26"}
    assert statuses(client, world, "PUT", "/api/v1/groups/HOVON", change) == expect(401, 403, 403, 403, 200)
    assert client.get("/api/v1/groups/HOVON").get_json()["ror"] == "03yrm5c26"


# --- vocabularies ----------------------------------------------------------------------------


def test_disease_vocabulary_carries_codes_and_is_cacheable(client):
    response = client.get("/api/v1/vocabularies/diseases")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age >= 3600
    terms = {term["id"]: term for term in response.get_json()["items"]}
    aml = terms["DOID:9119"]
    assert aml["label"] == "acute myeloid leukemia" and "AML" in aml["abbreviations"]
    assert {"code": "C92.0", "title": aml["icd10"][0]["title"]} == aml["icd10"][0] and aml["icd10"][0]["title"]
    assert aml["icdo3"][0]["code"] == "9861/3" and aml["category"]["key"] == "leukaemia"
    assert all(parent in terms for parent in aml["parents"])
    again = client.get("/api/v1/vocabularies/diseases", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_disease_suggestions_for_pickers(client):
    found = client.get("/api/v1/vocabularies/diseases?q=aml&limit=3").get_json()
    assert found["items"][0] == {"id": "DOID:9119", "label": "acute myeloid leukemia", "matched": "AML"}
    assert len(found["items"]) <= 3
    assert client.get("/api/v1/vocabularies/diseases?q=").get_json()["items"] == []
    too_many = client.get("/api/v1/vocabularies/diseases?q=leuk&limit=51")
    assert too_many.status_code == 422 and "limit" in too_many.get_json()["errors"]


def test_duo_vocabulary_and_unknown_names(client):
    terms = {term["shorthand"]: term for term in client.get("/api/v1/vocabularies/duo").get_json()["items"]}
    assert terms["GRU"]["id"] == "DUO:0000042" and terms["GRU"]["kind"] == "permission"
    assert terms["IRB"]["kind"] == "modifier" and terms["IRB"]["definition"]
    unknown = client.get("/api/v1/vocabularies/colours")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert unknown.get_json()["type"].endswith("/problems/not-found")
