"""The search screen in a real browser, against `streamfold serve` on the demo dataset."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from devtools.benchmarks.ui import MEASURE
from tests.browser.conftest import VIEWPORT
from tests.browser.screen import (
    ADA,
    ADA_IMAGE,
    HTML_NAME,
    HTML_USER,
    Server,
    settled,
    shown_ids,
    shown_total,
)


def test_a_misspelled_name_finds_and_highlights_the_right_user(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/")
    settled(page)

    page.locator("#q").press_sequentially("ada lovleace")
    settled(page)

    assert shown_ids(page)[0] == ADA
    first_name = page.locator("#hits-body tr").first.locator("th a")
    expect(first_name).to_have_text("Ada Lovelace")
    assert first_name.locator("mark").all_text_contents() == ["Ada", "Lovelace"]
    assert "q=ada+lovleace" in page.url


def test_a_facet_filter_changes_the_total_to_what_the_count_api_says(
    page: Page, server: Server
) -> None:
    page.goto(f"{server.url}/ui/?kind=users")
    settled(page)
    everyone = shown_total(page)

    page.locator("input[data-field=plan][data-value=pro]").check()
    settled(page)

    pro = server.api(
        "POST", "/v1/users/count", {"filter": {"type": "term", "field": "plan", "value": "pro"}}
    )["count"]
    assert shown_total(page) == pro
    assert 0 < pro < everyone
    assert "plan=pro" in page.url
    expect(page.locator("#chips")).to_contain_text("Plan: pro")
    # Counts stay disjunctive: the other plans still show what adding them would bring.
    free = page.locator("input[data-field=plan][data-value=free] + label .count")
    expect(free).not_to_have_text("0")


def test_a_shared_url_restores_the_same_results(
    page: Page, server: Server, browser: Browser
) -> None:
    page.goto(f"{server.url}/ui/?kind=images")
    settled(page)
    page.locator("#q").press_sequentially("city")
    settled(page)
    page.locator("input[data-field=status][data-value=active]").check()
    settled(page)
    page.locator("#sort").select_option("like_count:desc")
    settled(page)
    page.get_by_role("button", name="Next").click()
    settled(page)
    shared = page.url
    ids, total = shown_ids(page), shown_total(page)
    assert "after=" in shared and "page=2" in shared and ids

    elsewhere = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        other = elsewhere.new_page()
        other.goto(shared)
        settled(other)
        assert (shown_ids(other), shown_total(other)) == (ids, total)
        expect(other.locator("#q")).to_have_value("city")
        expect(other.locator("#sort")).to_have_value("like_count:desc")
        expect(other.locator("input[data-field=status][data-value=active]")).to_be_checked()
        expect(other.locator("#page-info")).to_contain_text("Page 2")
    finally:
        elsewhere.close()


def test_a_document_with_html_in_its_name_is_shown_as_text(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/?kind=users&q=mallory")
    settled(page)

    row = page.locator(f"#hits-body tr[data-id='{HTML_USER}']")
    expect(row.locator("th a")).to_have_text(HTML_NAME)
    assert page.locator("#results img, #results script").count() == 0

    row.locator("th a").click()
    expect(page.locator("#document-view")).to_have_attribute("data-state", "ready")
    expect(page.locator("#document-title")).to_have_text(HTML_NAME)
    assert page.locator("#document-view img, #document-view script").count() == 0
    assert page.evaluate("() => window.pwned") is None


def test_a_user_page_lists_their_images_and_an_image_page_links_to_its_owner(
    page: Page, server: Server
) -> None:
    page.goto(f"{server.url}/ui/?kind=users&id={ADA}")
    expect(page.locator("#document-view")).to_have_attribute("data-state", "ready")
    expect(page.locator("#document-title")).to_have_text("Ada Lovelace")
    expect(page.locator("#related-title")).to_have_text("1 image of this user")

    page.get_by_role("link", name="Notes on the analytical engine").click()
    expect(page.locator("#document-view")).to_have_attribute("data-id", ADA_IMAGE)
    assert f"id={ADA_IMAGE}" in page.url

    page.locator("#owner-link").click()
    expect(page.locator("#document-view")).to_have_attribute("data-id", ADA)
    expect(page.locator("#document-title")).to_have_text("Ada Lovelace")
    page.go_back()
    expect(page.locator("#document-view")).to_have_attribute("data-id", ADA_IMAGE)


def test_the_search_works_from_the_keyboard(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/?kind=users")
    settled(page)
    page.locator("#tab-users").focus()

    page.keyboard.press("ArrowRight")
    settled(page)
    expect(page.locator("#tab-images")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-images")).to_be_focused()
    expect(page.get_by_label("Search images")).to_be_visible()

    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("mountains")
    settled(page)
    page.keyboard.press("Tab")  # to the sort order, then on through the form
    expect(page.locator("#sort")).to_be_focused()
    assert (
        shown_total(page)
        == server.api("POST", "/v1/images/count", {"text": "mountains", "prefix": True})["count"]
    )


def test_every_keystroke_is_timed_until_its_results_are_drawn(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/?kind=users")
    settled(page)
    page.locator("#q").click()

    for typed, key in enumerate("ada", start=1):
        page.keyboard.type(key)
        page.wait_for_function(f"() => performance.getEntriesByName({MEASURE!r}).length >= {typed}")
    settled(page)

    durations = page.evaluate(
        f"() => performance.getEntriesByName({MEASURE!r}).map(m => m.duration)"
    )
    assert len(durations) == 3
    assert all(0 < duration < 10_000 for duration in durations)


def test_the_fallback_to_some_words_is_said_above_the_results(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/?kind=users")
    settled(page)
    page.locator("#q").press_sequentially("ada zzzqxw")
    settled(page)

    assert ADA in shown_ids(page)
    expect(page.locator("#total .matched-note")).to_contain_text("No result had every word")

    page.locator("#q").fill("ada lovelace")
    settled(page)
    expect(page.locator("#total .matched-note")).to_have_count(0)


def test_owner_facets_add_up_to_the_total_on_the_screen(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/?kind=images")
    settled(page)
    asked = {"size": 0, "facets": {"plan": {"type": "terms", "field": "owner.plan", "size": 10}}}
    plans = server.api("POST", "/v1/images/search", asked)["facets"]["plan"]
    unknown = plans["unknown_owner_count"]

    row = page.locator("#facet-owner-plan .unknown-owner")
    if unknown:
        expect(row).to_contain_text("Unknown owner")
    else:
        expect(row).to_have_count(0)
    counts = page.locator("#facet-owner-plan .count").all_text_contents()
    assert sum(int(c.replace(",", "")) for c in counts) == shown_total(page)
