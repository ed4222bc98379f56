"""Every kind of page, checked by axe-core (WCAG 2.1 A and AA) in Chromium, signed out and signed in as each
role that sees it, at 1280 and 375 pixels wide; and no page wider than the window (no sideways scrolling).

axe-core is the npm package's axe.min.js, vendored in tests/browser/vendor/axe-core (version and source in
SOURCE.txt). It is put into each page with `page.evaluate` of its text: the app's Content-Security-Policy
(`script-src 'self'`) refuses a `<script>` that Playwright's `add_script_tag` would add, while code evaluated
over the DevTools protocol is not subject to the page's CSP. The page itself is served with its real CSP, so
what is checked is what people get.

One browser, one context per persona, one page per context reused for all its pages and both widths; the
pages are gathered first and every problem is reported at the end, so one run lists them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput
from tests.access_requests.conftest import act, approve, build_world, draft

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = ((1280, 900), (375, 740))
LONG_URL = ("https://data.hovon.example/provenance/case-report-forms/cleaning-and-derivation-log/"
            "HOVON-132-AML-lenalidomide-induction-version-2019-06-30-final-release-notes.pdf")

RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return result.violations.map(v => v.id + " (" + v.impact + "): " + v.help + "\\n      "
        + v.nodes.slice(0, 4).map(n => n.target.join(" ") + " — " + n.failureSummary.replace(/\\s+/g, " ")).join("\\n      "));
}"""


def check(page: Page, url: str, label: str, problems: list[str]) -> None:
    """Open `url` at each width and note axe's violations and any sideways scrolling."""
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        if page.url != url:
            response = page.goto(url)
            assert response is not None and response.status < 500, f"{label}: {url} answered {response.status}"
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(AXE)
        for violation in page.evaluate(RUN_AXE, TAGS):
            problems.append(f"{label} at {width}px: {violation}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(-3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'))""")
            problems.append(f"{label} at {width}px: the page is {scroll}px wide (window {inner}px): {wide}")


def persona(browser: Browser, base: str, subject: str | None) -> Page:
    """A context of its own for `subject` (signed in at the development provider), or a visitor's."""
    page = browser.new_context().new_page()
    page.set_default_timeout(15000)
    if subject:
        page.goto(base + "/account")  # sends a visitor to sign in first
        page.get_by_role("button", name=f"Authorize as {subject}").click()
        page.wait_for_url(base + "/account")
    return page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the pages do not depend on the database
def test_every_kind_of_page_passes_axe_and_fits_the_window(browser, live_site, dev_provider):
    base, app = live_site
    world = build_world(app, datasets_per_group=2, issuer=dev_provider.issuer, provenance=LONG_URL)
    hovon_pid = world.datasets[0]
    client = app.test_client()
    decided = approve(client, world, pids=[hovon_pid])  # reviewed and decided, waiting for the agreement
    waiting = draft(client, world, pids=[world.datasets[2]], title="Outcomes of older adults with AML")["id"]
    assert act(client, world, "alice", waiting, "submit").status_code == 200  # waits for screening
    unsent = draft(client, world, pids=[world.datasets[1]], title="A draft still being written")["id"]
    reviews = client.get(f"/api/v1/requests/{decided}", headers=world.headers("olga")).get_json()["reviews"]
    review_id = next(review["id"] for review in reviews if review["committee"] == "HOVON DAC")
    committee_id = world.committees[0].id
    with app.app_context():  # cora, as the development provider knows her, curates HOVON
        cora = accounts.provision_user(dev_provider.issuer, "cora", {"name": "Cora", "email": "cora@example.org"})
        accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=cora.id, role="curator",
                                                         scope_id=world.groups[0].id))

    everyone = [("/", "home"), ("/datasets?q=leukaemia", "search results"), ("/datasets?q=zzqxv", "search, empty"),
                (f"/datasets/{hovon_pid}", "landing page"), ("/groups/HOVON", "group page"), ("/register", "register")]
    pages = {
        None: everyone,
        "alice": [*everyone, ("/requests", "my proposals"), (f"/requests/{decided}", "a proposal"),
                  (f"/requests/{unsent}/edit", "proposal form"), ("/basket", "basket"), ("/access", "my access"),
                  ("/notices", "notices"), ("/account", "account")],
        "cora": [("/curate", "curation desk"), (f"/datasets/{hovon_pid}/edit", "dataset editor"),
                 ("/groups/HOVON/datasets/new", "new dataset"), (f"/datasets/{hovon_pid}/publish", "publish")],
        "olga": [("/screening", "screening"), (f"/screening/{waiting}", "screening a proposal"),
                 ("/dashboard", "dashboard")],
        "chris": [("/reviews", "reviews"), (f"/reviews/{review_id}", "a review")],
        "adam": [("/admin/roles", "roles"), ("/admin/committees", "committees"),
                 (f"/admin/committees/{committee_id}", "a committee")],
    }
    problems: list[str] = []
    for subject, paths in pages.items():
        page = persona(browser, base, subject)
        try:
            for path, label in paths:
                check(page, base + path, f"{label} ({subject or 'signed out'}, {path})", problems)
            if subject == "cora":  # the editor with its error summary, as after a refused save
                page.goto(f"{base}/groups/HOVON/datasets/new")
                page.get_by_label("Contact e-mail").fill("not an address")
                page.get_by_role("button", name="Save draft").first.click()
                page.wait_for_load_state()
                if page.evaluate("document.activeElement.id") != "error-summary":
                    problems.append("dataset editor with errors: the error summary does not take the focus")
                check(page, page.url, "dataset editor with errors (cora)", problems)
        finally:
            page.context.close()
    assert not problems, "\n".join(["", *problems])
