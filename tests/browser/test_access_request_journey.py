"""The issue's journey in headless Chromium, as people click and type it: Alice searches the catalog,
fills her basket from two study groups, writes, saves and submits a proposal; Olga returns it with a
comment; Alice changes the methods and resubmits; Olga sees the change and sends it to both committees;
Dave declares a conflict, Erin, Fay, Gus and Hana vote; Chris confirms the outcome and Ivy overrides
hers with a reason; Alice reads the combined decision letter and the timeline in plain words.

Both datasets ask for ethics approval (DUO IRB), so the form's condition-driven upload is part of the
journey. Every persona signs in at the development provider in a browser context of their own.
Locators are roles and labels, so the pages are also checked to be usable by name. Single members'
steps (the conflict, the votes) are on the chair's timeline and not on the applicant's.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.access_requests.conftest import build_world

GRU, IRB = "DUO:0000042", "DUO:0000021"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TITLE = "Relapse in AML across trials"
METHODS = "Cox regression stratified by trial."
REVISED_METHODS = "Cox regression stratified by trial; multiple imputation for missing covariates."
RETURN_COMMENT = "Please say how missing covariates are handled."
CONFLICT = "I co-authored the HOVON trial's protocol with the applicant."
CONDITION = "Publish the relapse model's code with the paper."
OVERRIDE_REASON = "The rejecting member's concern is met by the secure environment."


def authorize(page: Page, subject: str) -> None:
    """The development provider's page: one click to be `subject`."""
    page.get_by_role("button", name=f"Authorize as {subject}").click()


def signed_in(browser: Browser, base: str, subject: str, path: str) -> Page:
    """A fresh browser context for `subject`, who opens `path`, signs in on the way and lands on it."""
    page = browser.new_context().new_page()
    page.set_default_timeout(15000)
    page.goto(base + path)  # a page for signed-in people sends a visitor to sign in first
    authorize(page, subject)
    page.wait_for_url(base + path)
    return page


def menu(page: Page, name: str) -> None:
    """A link of the site's navigation in the header."""
    page.get_by_role("banner").get_by_role("link", name=name, exact=True).click()


def done(page: Page, text: str) -> None:
    """The flash message that says what the last click did."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def test_a_proposal_goes_from_the_basket_to_a_decision_letter(browser, page, live_site, dev_provider, database_url):
    base, app = live_site
    world = build_world(app, datasets_per_group=1, issuer=dev_provider.issuer, data_use=[GRU, IRB])
    hovon_pid, epln_pid = world.datasets
    others: list[Page] = []

    try:
        # 1. Alice searches, fills her basket from both groups, writes and submits a proposal.
        page.goto(f"{base}/datasets?q=leukaemia")
        page.get_by_role("link", name="Sign in").click()
        authorize(page, "alice")
        page.wait_for_url(re.compile(r"/datasets\?q=leukaemia"))
        expect(page.locator("#results-heading")).to_have_text(re.compile(r"2 datasets"))
        for title, pid in (("HOVON trial 1", hovon_pid), ("EPLN trial 1", epln_pid)):
            page.get_by_role("article", name=title).get_by_role("button", name="Add to basket").click()
            done(page, f"({pid}) is in your basket")

        menu(page, "Requests")
        page.get_by_role("link", name="Basket and new proposal").click()
        basket = page.get_by_role("region", name="Datasets in your basket")
        expect(basket.get_by_role("heading", level=3)).to_have_text(["HOVON trial 1", "EPLN trial 1"])
        page.get_by_label("Title of the proposal").fill(TITLE)
        page.get_by_role("button", name="Start a proposal").click()
        done(page, "Your draft is saved")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit: {TITLE}")

        page.get_by_label("Lay summary").fill("Which adults with AML relapse, and why?")
        page.get_by_label("Scientific abstract").fill("A pooled analysis of AML trials to find subgroups that relapse.")
        page.get_by_label("Objectives").fill("Estimate relapse risk by genetic subgroup.")
        page.get_by_label("Methods and statistical analysis plan").fill(METHODS)
        page.get_by_label("Health, medical or biomedical research").check()
        page.get_by_label("Requested duration (months)").fill("12")
        page.get_by_label("Institution", exact=True).fill("University of Leiden")
        page.get_by_label("Data security plan").fill("Inside the university's secure research environment.")
        # the datasets' IRB condition asks for the ethics approval
        page.get_by_label("Ethics approval (PDF)").set_input_files(
            {"name": "ethics-approval.pdf", "mimeType": "application/pdf", "buffer": PDF})
        page.get_by_role("button", name="Save draft").first.click()
        done(page, "Your draft is saved")
        expect(page.get_by_role("link", name="ethics-approval.pdf")).to_be_visible()
        expect(page.get_by_text("Nothing is missing: the proposal can be submitted.")).to_be_visible()
        expect(page.get_by_label("Methods and statistical analysis plan")).to_have_value(METHODS)
        page.get_by_role("button", name="Save and submit").click()
        done(page, "Your proposal is submitted")
        expect(page.locator(".request-header .request-state")).to_have_text("Submitted")

        # 2. Olga returns it with a comment.
        olga = signed_in(browser, base, "olga", "/screening")
        others.append(olga)
        olga.get_by_role("link", name=TITLE).click()
        olga.get_by_label("What the applicant should change").fill(RETURN_COMMENT)
        olga.get_by_role("button", name="Return for revision").click()
        done(olga, "The proposal is returned to the applicant")

        # 3. Alice sees it returned with the comment, changes the methods and resubmits.
        menu(page, "Requests")
        mine = page.get_by_role("row", name=re.compile(TITLE))
        expect(mine).to_contain_text("Returned for revision")
        mine.get_by_role("link", name=TITLE).click()
        expect(page.locator(".request-header .request-state")).to_have_text("Returned for revision")
        timeline = page.get_by_role("region", name="Timeline")
        expect(timeline).to_contain_text("returned the proposal for revision:")
        expect(timeline).to_contain_text(RETURN_COMMENT)
        page.get_by_role("link", name="Edit the proposal").click()
        page.get_by_label("Methods and statistical analysis plan").fill(REVISED_METHODS)
        page.get_by_role("button", name="Save and resubmit").click()
        done(page, "Your proposal is submitted")
        expect(page.locator(".request-header .request-state")).to_have_text("Submitted")

        # 4. Olga sees what changed and sends it to both committees.
        menu(olga, "Screening")
        expect(olga.get_by_role("heading", name=re.compile(TITLE))).to_contain_text("Resubmitted")
        olga.get_by_role("link", name=TITLE).click()
        changes = olga.get_by_role("table", name="Changes made by the applicant after the proposal was returned")
        expect(changes.get_by_role("row")).to_have_count(2)  # the header and one change
        changed = changes.get_by_role("row", name=re.compile("Methods and statistical analysis plan"))
        expect(changed).to_contain_text(METHODS)
        expect(changed).to_contain_text(REVISED_METHODS)
        olga.get_by_role("button", name="Send to the committees").click()
        done(olga, "The proposal is sent to the committees")

        # 5. Dave declares a conflict; Erin and Fay vote on HOVON's review, Gus and Hana on EPLN's.
        def review(subject: str) -> Page:
            member = signed_in(browser, base, subject, "/reviews")
            others.append(member)
            member.get_by_role("link", name=TITLE).click()
            return member

        dave = review("dave")
        dave.get_by_label("Reason", exact=True).fill(CONFLICT)
        dave.get_by_label("I have a conflict of interest").check()
        dave.get_by_role("button", name="Declare a conflict of interest").click()
        done(dave, "you are recused from this review")

        for subject, vote, comment in (("erin", "Approve", None), ("fay", "Approve with conditions", CONDITION),
                                       ("gus", "Approve", None), ("hana", "Reject", "The data security plan is thin.")):
            member = review(subject)
            member.get_by_label(vote, exact=True).check()
            if comment:
                member.get_by_label("Comment").fill(comment)
            member.get_by_role("button", name="Cast my vote").click()
            done(member, "Your vote is recorded")

        # 6. Chris confirms the outcome the votes give; Ivy overrides hers with a reason.
        chris = review("chris")
        roster = chris.get_by_role("region", name="Members")
        expect(roster.get_by_role("listitem").filter(has_text="Dave Novak").first).to_contain_text("recused")
        expect(roster).to_contain_text(f"Dave Novak: {CONFLICT}")
        expect(chris.get_by_text("The votes give:")).to_contain_text("approved")
        chris.get_by_label("Confirm the computed outcome (approved)").check()
        chris.get_by_role("button", name="Record the decision").click()
        done(chris, "The committee's decision is recorded")

        ivy = review("ivy")
        expect(ivy.get_by_text("The votes give:")).to_contain_text("rejected")
        ivy.get_by_label("Override: record “approved” instead").check()
        ivy.get_by_label("Reason for the decision").fill(OVERRIDE_REASON)
        ivy.get_by_role("button", name="Record the decision").click()
        done(ivy, "The committee's decision is recorded")

        # The chair follows his committee's steps on the proposal's timeline, the members' ones too.
        chris.get_by_role("link", name="The proposal's timeline").click()
        trail = chris.get_by_role("region", name="Timeline")
        expect(trail).to_contain_text(f"Dave Novak declared a conflict of interest and is recused: {CONFLICT}")
        expect(trail).to_contain_text(f"Fay Dubois voted approve with conditions: {CONDITION}")
        expect(trail).not_to_contain_text("Hana Sato")  # another committee's votes stay with it

        # 7. Alice reads the decision letter and the timeline.
        menu(page, "Requests")
        mine = page.get_by_role("row", name=re.compile(TITLE))
        expect(mine).to_contain_text("Waiting for the agreement Approved")
        mine.get_by_role("link", name=TITLE).click()
        timeline = page.get_by_role("region", name="Timeline")

        def entry(text: str):
            return timeline.get_by_role("listitem").filter(has_text=text)

        expect(entry("Olga Petrova returned the proposal for revision:")).to_contain_text(RETURN_COMMENT)
        expect(entry("Alice Martin resubmitted the proposal.")).to_contain_text(
            "Changed since it was returned: Methods and statistical analysis plan.")
        expect(entry("Olga Petrova sent the proposal to the committees (HOVON DAC, EPLN DAC).")).to_have_count(1)
        confirmed = entry("Chris Keller recorded the committee's decision: approved (computed outcome confirmed).")
        expect(confirmed).to_contain_text("HOVON DAC")
        overridden = entry("Ivy Costa overrode the computed outcome (rejected → approved):")
        expect(overridden).to_contain_text("EPLN DAC")
        expect(overridden).to_contain_text(OVERRIDE_REASON)
        expect(overridden).to_contain_text("Every committee has decided: the proposal is approved.")
        expect(timeline).not_to_contain_text("declared a conflict")  # the members' own steps stay with the committee
        expect(timeline).not_to_contain_text("voted")

        page.get_by_role("link", name="Read the decision letter").click()
        letter = page.get_by_role("article", name=f"Decision on your proposal “{TITLE}”")
        expect(letter).to_contain_text("The outcome is: approved")
        hovon = letter.get_by_role("region", name="HOVON DAC")
        expect(hovon).to_contain_text("The chair confirmed the outcome the votes gave.")
        expect(hovon).to_contain_text(CONDITION)
        epln = letter.get_by_role("region", name="EPLN DAC")
        expect(epln).to_contain_text("The chair overrode the outcome the votes gave (rejected).")
        expect(epln).to_contain_text(OVERRIDE_REASON)
        backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        page.screenshot(path=f"/tmp/journey-{backend}.png", full_page=True)
    finally:
        for other in others:
            other.context.close()
