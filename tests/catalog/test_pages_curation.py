"""Curation pages: the desk, the dataset form, publishing, withdrawing, the live completeness endpoint."""

import re

import pytest

from harmony.accounts.permissions import ANONYMOUS
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent, completeness
from tests import factories


@pytest.fixture
def desk(app, client):
    """cora, signed in, curates HOVON; a published dataset of HOVON exists."""
    with app.app_context():
        group = factories.group("HOVON")
        office = factories.curator("hovon-office", group)
        published = factories.dataset(office, group)
    factories.signed_in(client, app, "cora", "curator", group.id)
    return {"group": group, "office": office, "published": published, "token": factories.csrf_token(client)}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def form_fields(page: str) -> dict[str, str]:
    """The text inputs, text areas and checked choices of a rendered form, as a browser would post them."""
    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, value in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', page, re.S):
        fields[name] = [value.replace("&#39;", "'").replace("&amp;", "&")]
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        fields[name] = [next(v for v in chosen.groups() if v is not None)] if chosen else [""]
    return fields


def test_the_desk_lists_what_cora_curates(app, client, desk):
    with app.app_context():
        factories.dataset(desk["office"], desk["group"], publish=False, title="Half-written draft")
    page = text_of(client.get("/curate"))
    assert "Half-written draft" in page and "HOVON 132 AML" in page
    assert page.index("Half-written draft") < page.index("HOVON 132 AML")  # drafts first
    assert 'href="/groups/HOVON/datasets/new"' in page
    score, _ = completeness(factories.content().stored())
    assert f"{score}%" in page


def test_the_desk_is_for_curators(app, client):
    assert client.get("/curate").status_code == 302  # sign in first
    factories.signed_in(client, app, "alice")
    assert client.get("/curate").status_code == 403


def test_create_a_draft_through_the_form(app, client, desk):
    page = text_of(client.get("/groups/HOVON/datasets/new"))
    assert 'name="csrf_token"' in page
    for heading in ("About", "Diseases &amp; population", "Design &amp; dates", "Data", "Access &amp; legal",
                    "People &amp; publications"):
        assert f">{heading}</h2>" in page
    response = client.post("/groups/HOVON/datasets/new", data={
        "csrf_token": desk["token"], "title": "A new AML cohort", "diseases": "AML\nC91.0, MDS",
        "countries": "Netherlands, DEU", "population": "adult", "n_patients": "120", "data_use": ["GRU", "DUO:0000019"],
        "creators-0-name": "Ann Example", "creators-0-orcid": "https://orcid.org/0000-0002-1825-0097",
        "creators-1-name": "", "access_rights": "restricted", "action": "save"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
    pid = re.search(r"HM-\d{6}", response.headers["Location"]).group(0)
    with app.app_context():
        content = catalog.get_dataset(factories.principal("hovon-office"), pid).content
    assert content["diseases"] == ["DOID:9119", "DOID:9952", "DOID:0050908"]
    assert content["countries"] == ["NL", "DE"] and content["n_patients"] == 120
    assert content["data_use"] == ["DUO:0000042", "DUO:0000019"]
    assert content["creators"] == [{"name": "Ann Example", "orcid": "0000-0002-1825-0097"}]
    assert content["access_rights"] == "restricted"
    assert client.get(f"/datasets/{pid}").status_code == 200
    client.post("/auth/logout", data={"csrf_token": desk["token"]})
    assert client.get(f"/datasets/{pid}").status_code == 404


def test_invalid_input_comes_back_with_the_messages_and_nothing_is_saved(app, client, desk):
    pid = desk["published"].pid
    edit = text_of(client.get(f"/datasets/{pid}/edit"))
    fields = form_fields(edit)
    assert fields["lock_version"] and fields["csrf_token"]
    fields.update({"title": "Changed title", "diseases": ["AML\nFlu of the bone"], "n_patients": ["-5"],
                   "contact_email": ["not-an-address"], "creators-0-orcid": ["1234"]})
    response = client.post(f"/datasets/{pid}/edit", data=fields)
    assert response.status_code == 422
    page = text_of(response)
    assert 'value="Changed title"' in page and "Flu of the bone" in page and 'value="-5"' in page
    for field in ("diseases", "n_patients", "contact_email", "creators-0-orcid"):
        assert marked_invalid(page, field), field
    assert "unknown disease: Flu of the bone" in page
    assert "Creator 1, ORCID iD: ORCID iD must look like" in page  # also in the summary at the top
    # checks across fields run once each field is valid, and land next to the field they name
    fields = form_fields(edit)
    fields.update({"age_min": ["70"], "age_max": ["65"]})
    page = text_of(client.post(f"/datasets/{pid}/edit", data=fields))
    assert marked_invalid(page, "age_min") and "the youngest age is above the oldest" in page
    with app.app_context():
        assert catalog.get_dataset(ANONYMOUS, pid).content["title"].startswith("HOVON 132")


def marked_invalid(page: str, field_id: str) -> bool:
    control = re.search(rf'<(?:input|textarea) [^>]*id="{field_id}"[^>]*>', page).group(0)
    return 'aria-invalid="true"' in control and "is-invalid" in control and f'id="{field_id}-error"' in page


def test_a_form_without_csrf_token_is_refused(client, desk):
    response = client.post(f"/datasets/{desk['published'].pid}/edit", data={"title": "No token"})
    assert response.status_code == 400


def test_a_concurrent_save_keeps_my_input_and_says_so(app, client, desk):
    pid = desk["published"].pid
    fields = form_fields(text_of(client.get(f"/datasets/{pid}/edit")))
    with app.app_context():  # someone else saves in the meantime
        catalog.update_dataset(desk["office"], desk["published"].id, factories.content(n_patients=900))
    fields["title"] = ["My better title"]
    response = client.post(f"/datasets/{pid}/edit", data=fields)
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else saved this dataset" in page and 'value="My better title"' in page
    assert "Title, Number of patients" in page
    with app.app_context():
        current = catalog.get_dataset(ANONYMOUS, pid)
        assert current.content["n_patients"] == 900
        assert f'name="lock_version" type="hidden" value="{current.lock_version}"' in page
    assert client.post(f"/datasets/{pid}/edit", data=form_fields(page)).status_code == 302  # on purpose
    with app.app_context():
        assert catalog.get_dataset(ANONYMOUS, pid).content["title"] == "My better title"


def test_publish_and_withdraw_through_the_forms(app, client, desk):
    pid = desk["published"].pid
    fields = form_fields(text_of(client.get(f"/datasets/{pid}/edit")))
    fields.update({"n_patients": ["812"], "action": ["publish"]})
    saved = client.post(f"/datasets/{pid}/edit", data=fields)
    assert saved.headers["Location"] == f"/datasets/{pid}/publish"
    review = text_of(client.get(f"/datasets/{pid}/publish"))
    assert "What changes since version 1" in review and "Publish version 2" in review
    assert re.search(r"Number of patients</th><td class=\"diff-old\">800</td><td class=\"diff-new\">812", review)
    published = client.post(f"/datasets/{pid}/publish", data={"csrf_token": desk["token"], "notes": "Final count"})
    assert published.headers["Location"] == f"/datasets/{pid}"
    with app.app_context():
        latest = catalog.latest_version(catalog.get_dataset(ANONYMOUS, pid))
        assert (latest.version, latest.notes, latest.content["n_patients"]) == (2, "Final count", 812)
    assert "Nothing changed since version 2" in text_of(client.get(f"/datasets/{pid}/publish"))
    assert client.post(f"/datasets/{pid}/publish", data={"csrf_token": desk["token"]}).status_code == 409

    confirm = text_of(client.get(f"/datasets/{pid}/withdraw"))
    assert "What withdrawal means" in confirm and "410 Gone" in confirm
    refused = client.post(f"/datasets/{pid}/withdraw", data={"csrf_token": desk["token"], "reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in text_of(refused)
    done = client.post(f"/datasets/{pid}/withdraw", data={"csrf_token": desk["token"],
                                                          "reason": "Superseded by the pooled HOVON AML dataset."})
    assert done.headers["Location"] == f"/datasets/{pid}"
    tombstone = client.get(f"/datasets/{pid}")
    assert tombstone.status_code == 410 and "Superseded by the pooled HOVON AML dataset." in text_of(tombstone)
    assert client.get(f"/datasets/{pid}/edit").status_code == 409


def test_publishing_a_draft_needs_the_mandatory_fields(app, client, desk):
    with app.app_context():
        draft = catalog.create_dataset(desk["office"], desk["group"].id, DatasetContent(title="Only a title"))
    review = text_of(client.get(f"/datasets/{draft.pid}/publish"))
    assert "Fill these in before publishing" in review and "Publish version 1" not in review
    refused = client.post(f"/datasets/{draft.pid}/publish", data={"csrf_token": desk["token"]})
    assert refused.status_code == 422 and "Number of patients is needed before publishing." in text_of(refused)


def test_live_completeness_follows_the_input(app, client, desk):
    url = "/groups/HOVON/datasets/completeness"
    empty = client.post(url, data={"csrf_token": desk["token"]}).get_json()
    assert empty["score"] == completeness(DatasetContent().stored())[0]
    assert {"key": "title", "label": "Title", "kind": "mandatory", "advice": "Fill in: Title.",
            "target": "title"} in empty["fixes"]
    typed = {"csrf_token": desk["token"], "title": "A title", "diseases": "AML", "n_patients": "oops"}
    some = client.post(url, data=typed).get_json()
    expected = completeness(DatasetContent(title="A title", diseases=["AML"]).stored())[0]
    assert some["score"] == expected > empty["score"]
    assert "n_patients" in some["errors"]  # not a number yet: counted as empty, not an error page
    assert "title" not in {fix["key"] for fix in some["fixes"]}

    pid = desk["published"].pid
    full = client.post(f"/datasets/{pid}/completeness",
                       data=form_fields(text_of(client.get(f"/datasets/{pid}/edit")))).get_json()
    assert full["score"] == completeness(desk["published"].content)[0]
    assert client.post(url, data={}).status_code == 400  # CSRF applies here too


def test_another_groups_curator_cannot_add_datasets(app, client, desk):
    with app.app_context():
        factories.group("GMALL", country="DE")
    assert client.get("/groups/GMALL/datasets/new").status_code == 403
    assert client.post("/groups/GMALL/datasets/new", data={"csrf_token": desk["token"], "title": "x"}).status_code == 403
    assert client.post("/groups/GMALL/datasets/completeness", data={"csrf_token": desk["token"]}).status_code == 404
