"""Catalog pages for visitors: landing pages, past versions, comparisons, tombstones, study groups, home."""

import re

import pytest

from harmony.accounts.permissions import ANONYMOUS
from harmony.catalog import services as catalog
from harmony.catalog.content import DatasetContent
from tests import factories


@pytest.fixture
def world(app):
    with app.app_context():
        group = factories.group("HOVON", name="Dutch-Belgian Haemato-Oncology Group")
        other = factories.group("GMALL", country="DE")
        cora = factories.curator("hovon-office", group)  # "cora" signs in through the provider
        published = factories.dataset(cora, group)
        draft = factories.dataset(cora, group, publish=False, title="Secret draft about CLL")
    return {"group": group, "other": other, "cora": cora, "published": published, "draft": draft}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_landing_page_shows_the_description(client, world):
    pid = world["published"].pid
    response = client.get(f"/datasets/{pid}")
    assert response.status_code == 200
    assert "Accept" in response.headers.get("Vary", "")
    page = text_of(response)
    for expected in (
        "HOVON 132 AML: lenalidomide", 'href="/groups/HOVON"', "800", "18–65 years", "Adult", "Netherlands",
        "Belgium", "2014-01-01</span> to <span class=\"text-nowrap\">2019-06-30", "Phase 3", "Interventional trial",
        "acute myeloid leukemia", "C92.0", "9861/3", "Leukaemias",  # disease, codes, category
        "Cytogenetics", "CDISC SDTM", "General research use", "GRU</abbr>", "Use is allowed for general research use",
        "https://clinicaltrials.gov/study/NCT01234567", "https://orcid.org/0000-0002-1825-0097",
        "mailto:data@hovon.example", f"http://harmony.test/datasets/{pid}",
        f'href="/datasets/{pid}.ttl"', f'href="/datasets/{pid}.jsonld"', f'href="/datasets/{pid}.rdf"',
        # "Request access" fills the request basket: for a visitor, sign-in first, with a GET
        '<form method="get" action="/basket/add"', f'name="pid" value="{pid}"',
    ):
        assert expected in page, expected
    citation = re.search(r'<p class="citation" id="citation">(.*?)</p>', page, re.S).group(1)
    assert citation.startswith("Gert Ossenkoppele (") and "Version 1." in citation
    assert "Dutch-Belgian Haemato-Oncology Group." in citation and citation.endswith(f"/datasets/{pid}")
    assert "Edit description" not in page and "unpublished changes" not in page


def test_visitors_see_the_published_version_and_curators_the_banner(app, client, world):
    with app.app_context():
        catalog.update_dataset(world["cora"], world["published"].id, factories.content(title="Renamed in the working copy"))
    pid = world["published"].pid
    page = text_of(client.get(f"/datasets/{pid}"))
    assert "HOVON 132 AML" in page and "Renamed in the working copy" not in page
    factories.signed_in(client, app, "cora", "curator", world["group"].id)
    page = text_of(client.get(f"/datasets/{pid}"))
    assert "The working copy has unpublished changes" in page
    assert f'href="/datasets/{pid}/edit"' in page
    assert "HOVON 132 AML" in page  # the page still shows what visitors see


def draft_paths(pid: str) -> list[str]:
    return [f"/datasets/{pid}", f"/datasets/{pid}/versions/1", f"/datasets/{pid}/compare?a=1&b=1",
            f"/datasets/{pid}/edit", f"/datasets/{pid}/publish", f"/datasets/{pid}/withdraw"]


def test_drafts_are_invisible_to_visitors_and_other_curators(app, client, world):
    pid = world["draft"].pid
    for path in draft_paths(pid)[:3]:
        assert client.get(path).status_code == 404, path
    for path in draft_paths(pid)[3:]:  # curation pages first ask visitors to sign in
        assert client.get(path).status_code == 302, path
    assert client.post(f"/datasets/{pid}/completeness").status_code in (400, 404)  # no CSRF token, no page
    assert "Secret draft" not in text_of(client.get("/groups/HOVON"))

    factories.signed_in(client, app, "kai", "curator", world["other"].id)
    token = factories.csrf_token(client)
    for path in draft_paths(pid):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/datasets/{pid}/completeness", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/datasets/{pid}/edit", data={"csrf_token": token, "title": "x"}).status_code == 404
    assert "Secret draft" not in text_of(client.get("/groups/HOVON"))
    # another group's curator does not see the working copy of a published dataset either
    published = world["published"].pid
    for path in draft_paths(published)[3:]:
        assert client.get(path).status_code == 404, path
    assert client.post(f"/datasets/{published}/publish", data={"csrf_token": token}).status_code == 404


def test_curators_see_their_draft_with_a_banner(app, client, world):
    factories.signed_in(client, app, "cora", "curator", world["group"].id)
    pid = world["draft"].pid
    page = text_of(client.get(f"/datasets/{pid}"))
    assert "Draft, never published." in page and "Secret draft about CLL" in page
    assert "Unpublished draft." in page  # in the citation
    group_page = text_of(client.get("/groups/HOVON"))
    assert "Secret draft about CLL" in group_page and "New dataset" in group_page


def test_past_version_and_comparison(app, client, world):
    dataset = world["published"]
    with app.app_context():
        catalog.update_dataset(world["cora"], dataset.id, factories.content(n_patients=812, countries=["NL", "BE", "DE"]))
        catalog.publish(world["cora"], dataset.id, "Final patient count")
    old = text_of(client.get(f"/datasets/{dataset.pid}/versions/1"))
    assert "You are reading <strong>version 1</strong>" in old and ">800<" in old
    assert f"/datasets/{dataset.pid}/compare?a=1&amp;b=2" in old
    current = text_of(client.get(f"/datasets/{dataset.pid}"))
    assert ">812<" in current and "Final patient count" in current
    assert 'action="/datasets/%s/compare"' % dataset.pid in current

    response = client.get(f"/datasets/{dataset.pid}/compare", query_string={"a": 2, "b": 1})
    assert response.status_code == 200
    rows = re.findall(r'<th scope="row">(.*?)</th>\s*<td class="diff-old">(.*?)</td>\s*<td class="diff-new">(.*?)</td>',
                      text_of(response))
    assert ("Number of patients", "800", "812") in rows
    assert ("Countries", "Netherlands, Belgium", "Netherlands, Belgium, Germany") in rows
    assert len(rows) == 2
    assert client.get(f"/datasets/{dataset.pid}/versions/3").status_code == 404
    assert client.get(f"/datasets/{dataset.pid}/compare?a=1&b=9").status_code == 404


def test_withdrawn_dataset_answers_410_with_reason_and_citation(app, client, world):
    dataset = world["published"]
    with app.app_context():
        catalog.withdraw(world["cora"], dataset.id, "Consent withdrawn by the participating centres.")
    for path in (f"/datasets/{dataset.pid}", f"/datasets/{dataset.pid}/versions/1"):
        response = client.get(path)
        assert response.status_code == 410
        page = text_of(response)
        assert "Consent withdrawn by the participating centres." in page
        assert "Gert Ossenkoppele (" in page and f"http://harmony.test/datasets/{dataset.pid}" in page
        assert "Withdrawn on" in page
    assert "HOVON 132" not in text_of(client.get("/groups/HOVON"))


def test_group_page_lists_published_datasets_in_pages(app, client, world):
    with app.app_context():
        for number in range(25):
            factories.dataset(world["cora"], world["group"], title=f"Extra trial {number:02d}")
        catalog.update_group(factories.admin(), world["group"].id, catalog.GroupInput(
            name="Dutch-Belgian Haemato-Oncology Group", acronym="HOVON", country="NL", ror="056bs9f13",
            website="https://hovon.nl", description="A cooperative trial group."))
    first = text_of(client.get("/groups/HOVON"))
    assert "(26)" in first and first.count('class="dataset-item"') == 25
    for expected in ("Netherlands", 'href="https://hovon.nl"', "https://ror.org/056bs9f13", "A cooperative trial group."):
        assert expected in first
    assert 'href="/groups/HOVON?page=2">Next<' in first
    second = text_of(client.get("/groups/HOVON?page=2"))
    assert second.count('class="dataset-item"') == 1 and 'aria-current="page">2<' in second
    assert client.get("/groups/HOVON?page=3").status_code == 404
    assert client.get("/groups/hovon").status_code == 301
    empty = text_of(client.get("/groups/GMALL"))
    assert "has not published any dataset yet" in empty
    assert client.get("/groups/NOPE").status_code == 404


def test_content_negotiation_and_embedded_metadata(app, client, world):
    """RDF for machines that ask for it; for people, the page embeds schema.org JSON-LD safely."""
    with app.app_context():
        tricky = factories.dataset(world["cora"], world["group"], title="CLL cohort </script><b>x")
    pid = tricky.pid
    turtle = client.get(f"/datasets/{pid}", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle" and "dcat:Dataset" in turtle.get_data(as_text=True)
    html = client.get(f"/datasets/{pid}", headers={"Accept": "text/html"})
    page = text_of(html)
    assert '<script type="application/ld+json">' in page
    assert "</script><b>" not in page and "\\u003c/script\\u003e" in page
    assert f'<http://harmony.test/datasets/{pid}>; rel="cite-as"' in html.headers["Link"]
    with app.app_context():
        catalog.withdraw(world["cora"], tricky.id, "Withdrawn to test the RDF tombstone.")
    gone = client.get(f"/datasets/{pid}", headers={"Accept": "text/turtle"})
    assert gone.status_code == 410 and gone.mimetype == "text/turtle"


def test_home_page_counts_and_charts(app, client, world):
    with app.app_context():
        factories.dataset(world["cora"], world["group"], n_patients=200, population="paediatric",
                          diseases=["DOID:9952"], countries=["DE"])
        kai = factories.curator("kai", world["other"])
        factories.dataset(kai, world["other"], n_patients=50, diseases=["multiple myeloma"], countries=["DE"])
        published = catalog.published_datasets()
        total = sum(version.content["n_patients"] for _, version in published)
    page = text_of(client.get("/"))
    values = re.findall(r'<span class="stat-value">([\d,]+)</span>', page)
    assert values == [str(len(published)), "2", f"{total:,}"] == ["3", "2", "1,050"]
    assert "Secret draft" not in page
    for expected in ("Patients by disease category", "Datasets by population", "Patients by country",
                     '<th scope="row">Leukaemias</th><td class="text-end">1,000</td><td class="text-end">2</td>',
                     '<th scope="row">Myeloma and plasma cell neoplasms</th><td class="text-end">50</td>',
                     '<th scope="row">Germany</th><td class="text-end">250</td><td class="text-end">2</td>',
                     '<th scope="row">Paediatric</th><td class="text-end">200</td>'):
        assert expected in page, expected
    assert page.count('role="img"') == 6


def test_home_page_without_datasets(client, app):
    page = text_of(client.get("/"))
    assert "No datasets are published yet" in page and 'role="img"' not in page


def test_content_round_trips_through_the_form(app):
    """What the form shows for a stored content parses back to the same content."""
    from werkzeug.datastructures import MultiDict

    from harmony.catalog.forms import DatasetForm, content_input, form_data

    stored = factories.content(diseases=["DOID:9119", "chronic myelogenous leukemia, BCR-ABL1 positive"],
                               countries=["KR", "NL"], keywords=["AML", "older adults"], age_min=18.5,
                               creators=[{"name": "A. Person", "orcid": "0000-0002-1825-0097"}, {"name": "B. Person"}],
                               publications=["10.1000/xyz123"], data_use=["GRU", "PUB"]).stored()
    with app.test_request_context("/", method="POST"):
        shown = DatasetForm(data=form_data(stored, 3), meta={"csrf": False})
        posted = MultiDict()
        for field in shown:
            if field.type == "FieldList":
                for entry in field.entries:
                    for sub in entry.form:
                        posted.add(sub.name, sub.data or "")
            elif isinstance(field.data, list):
                for value in field.data:
                    posted.add(field.name, value)
            elif field.data is not None:
                posted.add(field.name, str(field.data))
        again = DatasetForm(formdata=posted, meta={"csrf": False})
        assert DatasetContent.model_validate(content_input(again)).stored() == stored
    assert catalog.diff(stored, stored) == []
    assert ANONYMOUS.is_authenticated is False
