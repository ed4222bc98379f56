"""The search page in headless Chromium, used with the keyboard only."""

from __future__ import annotations

import re

from tests import factories


def test_search_with_the_keyboard(live_site, page):
    base_url, app = live_site
    with app.app_context():
        group = factories.group("HOVON")
        curator = factories.curator("cora", group)
        factories.dataset(curator, group)
        factories.dataset(curator, group, title="Ibrutinib in CLL", acronym="IB-CLL", diseases=["DOID:1040"],
                          countries=["DE"], n_patients=210)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)

    page.goto(f"{base_url}/datasets")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # visible focus
    page.keyboard.type("leukaemia")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=leukaemia"))
    assert re.search(r"2 datasets", page.locator("#results-heading").inner_text())

    germany = page.get_by_role("checkbox", name=re.compile("^Germany"))
    germany.focus()
    page.keyboard.press("Space")  # a real checkbox: Space ticks it
    assert germany.is_checked()
    page.get_by_role("button", name="Apply filters").press("Enter")
    page.wait_for_url(re.compile(r"country=DE"))
    assert re.search(r"1 dataset\b", page.locator("#results-heading").inner_text())
    assert page.evaluate("document.activeElement.id") == "results-heading"  # not back at the top of the page
    assert page.locator("a.filter-chip", has_text="Country: Germany").is_visible()

    page.locator("#sort").select_option("patients")
    page.get_by_role("button", name="Sort").press("Enter")
    page.wait_for_url(re.compile(r"sort=patients"))
    assert "country=DE" in page.url and "q=leukaemia" in page.url
    assert page.evaluate("document.activeElement.id") == "results-heading"

    # the "/" shortcut can be turned off (WCAG 2.1.4), and stays off on the next page
    page.get_by_label(re.compile("to go to the search box")).uncheck()
    page.reload()
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") != "q"
    page.get_by_role("link", name="Skip to results").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results-heading"
    assert not refused, refused
