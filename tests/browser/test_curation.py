"""Cora curates a dataset in a real browser: create, live completeness, publish twice, compare, withdraw.

Set HARMONY_SCREENSHOTS=<folder> to keep a screenshot of every step.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput
from harmony.catalog import services as catalog


def shot(page, name: str) -> None:
    folder = os.environ.get("HARMONY_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def score(page) -> int:
    return int(page.locator("#completeness-score").inner_text())


def test_cora_curates_a_dataset_from_draft_to_tombstone(page, live_site):
    base, app = live_site
    page.goto(base + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("button", name="Authorize as cora").click()
    page.wait_for_url(base + "/**")
    with app.app_context():  # cora becomes curator of a new study group
        group = catalog.create_group(COMMAND_LINE, catalog.GroupInput(name="Dutch-Belgian Haemato-Oncology Group",
                                                                      acronym="HOVON", country="NL"))
        accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=accounts.find_user("cora").id, role="curator",
                                                         scope_id=group.id))

    page.goto(base + "/curate")
    page.get_by_role("link", name="New dataset for HOVON").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New dataset for HOVON")
    start = score(page)

    # the score rises while she types, before anything is saved
    page.get_by_label("Title").fill("HOVON 132: lenalidomide with induction in AML")
    expect(page.locator("#completeness-score")).not_to_have_text(str(start))
    after_title = score(page)
    assert after_title > start
    page.get_by_label("Description").fill("Randomised phase 3 trial of lenalidomide added to intensive induction "
                                          "in adults with newly diagnosed acute myeloid leukaemia.")
    picker = page.get_by_label("Find and add to Diseases", exact=True)
    picker.fill("AML")
    picker.press("Enter")
    expect(page.get_by_label("Diseases", exact=True)).to_have_value("AML")
    page.get_by_label("Adult", exact=True).check()
    page.get_by_label("Number of patients").fill("800")
    page.get_by_label("Contact name").fill("HOVON Data Center")
    page.get_by_label("Contact e-mail").fill("data@hovon.example")
    page.get_by_label("General research use (GRU)").check()
    expect(page.locator("#completeness-fixes")).not_to_contain_text("mandatory")
    assert score(page) > after_title
    shot(page, "1-new-dataset")

    page.get_by_role("button", name="Save draft").first.click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    pid = re.search(r"HM-\d{6}", page.url).group(0)
    expect(page.get_by_label("Diseases", exact=True)).to_have_value("acute myeloid leukemia")

    # first version
    page.get_by_role("button", name="Save and review publication").click()
    expect(page.get_by_role("heading", name="What will be published")).to_be_visible()
    page.get_by_label("Version notes").fill("First release of the description.")
    shot(page, "2-publish")
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_url(f"{base}/datasets/{pid}")
    expect(page.get_by_text("Version 1 is published.")).to_be_visible()
    shot(page, "3-landing-v1")

    # second version, with a corrected patient count
    page.get_by_role("link", name="Edit description").click()
    page.get_by_label("Number of patients").fill("812")
    page.get_by_role("button", name="Save and review publication").click()
    expect(page.locator(".diff-table")).to_contain_text("Number of patients")
    page.get_by_label("Version notes").fill("Final patient count.")
    page.get_by_role("button", name="Publish version 2").click()
    page.wait_for_url(f"{base}/datasets/{pid}")

    # compare the two versions
    page.get_by_label("Compare version").select_option("1")
    page.get_by_label("with version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    row = page.get_by_role("row", name=re.compile("Number of patients"))
    expect(row).to_contain_text("800")
    expect(row).to_contain_text("812")
    shot(page, "4-compare")

    # withdraw, after a confirmation that insists on a reason
    page.goto(f"{base}/datasets/{pid}/edit")
    page.get_by_role("link", name="Withdraw…").click()
    expect(page.get_by_role("heading", name="What withdrawal means")).to_be_visible()
    page.get_by_role("button", name="Withdraw the dataset").click()
    expect(page.locator("#reason")).to_have_class(re.compile("is-invalid"))
    page.get_by_label("Reason for withdrawal").fill("Consent withdrawn by the participating centres.")
    shot(page, "5-withdraw")
    page.get_by_role("button", name="Withdraw the dataset").click()
    page.wait_for_url(f"{base}/datasets/{pid}")
    expect(page.get_by_text("Consent withdrawn by the participating centres.")).to_be_visible()
    shot(page, "6-tombstone")
    response = page.goto(f"{base}/datasets/{pid}")
    assert response.status == 410
