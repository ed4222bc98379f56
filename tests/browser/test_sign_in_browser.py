"""A person signs in with a real browser and sees their name in the header."""


def test_sign_in_shows_my_name(page, live_server):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("button", name="Authorize as alice").click()  # the provider's one-click identity
    page.wait_for_url(live_server + "/**")
    header = page.locator("header")
    assert header.get_by_text("Alice Martin").is_visible()
    assert header.get_by_role("button", name="Sign out").is_visible()


def test_keyboard_user_can_skip_to_content(page, live_server):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
