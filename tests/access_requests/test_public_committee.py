"""A committee's public page: visas name it as their source, so anyone may read who decides, how, and the
agreement in force."""

from __future__ import annotations

from harmony.passports import visas


def test_anyone_reads_who_decides_by_which_rule_and_the_agreement(client, world):
    hovon, epln = world.committees
    page = client.get(f"/committees/{hovon.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ("HOVON DAC", "HOVON study group (HOVON)", "Majority, quorum 2", "Chris (chair)",
                     "HOVON data access agreement v1.", "version 1"):
        assert expected in text, expected
    assert "EPLN study group" not in text
    other = client.get(f"/committees/{epln.id}").get_data(as_text=True)
    assert "asks for no separate agreement" in other and "Any reject blocks" in other


def test_an_unknown_committee_is_404(client, world):
    assert client.get("/committees/999999").status_code == 404


def test_the_visas_source_is_this_page(app, client, world):
    with app.app_context():
        source = visas.committee_url(app.config["BASE_URL"], world.committees[0].id)
    assert source.endswith(f"/committees/{world.committees[0].id}")
    path = "/" + source.split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
