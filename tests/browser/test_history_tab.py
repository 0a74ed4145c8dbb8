"""The History tab of a document page: timeline, filters, as-of comparison, explanations."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.screen import Server


def busiest_user(server: Server) -> str:
    page = server.api(
        "POST",
        "/v1/users/search",
        {"sort": [{"field": "likes_received", "order": "desc"}], "size": 1, "highlight": None},
    )
    user_id: str = page["hits"][0]["id"]
    return user_id


def snapshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_history_tab--{name}.png"))


def open_history(page: Page, server: Server, user_id: str) -> None:
    page.goto(f"{server.url}/ui/?kind=users&id={user_id}")
    expect(page.locator('#document-view[data-state="ready"]')).to_be_visible()
    page.locator("#tab-history").click()
    expect(page.locator("#timeline .entry").first).to_be_visible()


def test_the_timeline_lists_the_changes_and_filters_by_source_table(
    page: Page, server: Server
) -> None:
    user_id = busiest_user(server)
    open_history(page, server, user_id)
    expected = server.api("GET", f"/v1/users/documents/{user_id}/history?limit=50")
    entries = page.locator("#timeline .entry")
    expect(entries).to_have_count(len(expected["entries"]))
    first = expected["entries"][0]
    expect(entries.first.locator("strong")).to_have_text(first["summary"])
    snapshot(page, "timeline")

    page.locator('#history-filters input[value="likes"]').uncheck()
    likes = sum(1 for e in expected["entries"] if e["table"] == "likes")
    assert likes
    expect(entries).to_have_count(len(expected["entries"]) - likes)
    expect(page.locator('#timeline .entry[data-table="likes"]')).to_have_count(0)
    snapshot(page, "timeline-without-likes")

    liked = page.locator('#timeline .entry[data-table="images"] .related-documents a').first
    if liked.count():
        href = liked.get_attribute("href") or ""
        assert href.startswith("?kind=")


def test_the_document_as_of_its_registration_differs_from_today_where_it_changed(
    page: Page, server: Server
) -> None:
    user_id = busiest_user(server)
    open_history(page, server, user_id)
    oldest = _oldest_entry(server, user_id)
    moment = datetime.fromisoformat(oldest["recorded_at"]) + timedelta(milliseconds=1)
    page.locator("#as-of-date").fill(moment.strftime("%Y-%m-%d"))
    page.locator("#as-of-time").fill(moment.strftime("%H:%M:%S.%f")[:12])
    page.get_by_role("button", name="Compare with today").click()
    table = page.locator("#as-of-table")
    expect(table).to_be_visible()
    expect(table.locator('tr[data-field="likes_received"]')).to_have_class("changed")
    expect(table.locator('tr[data-field="user_id"]')).not_to_have_class("changed")
    snapshot(page, "as-of")

    page.locator("#as-of-date").fill("2001-01-01")
    page.locator("#as-of-time").fill("")
    page.get_by_role("button", name="Compare with today").click()
    expect(page.locator("#as-of-missing")).to_contain_text("existed at 2001-01-01")


def test_a_derived_value_explains_itself_with_items_that_add_up(page: Page, server: Server) -> None:
    user_id = busiest_user(server)
    page.goto(f"{server.url}/ui/?kind=users&id={user_id}")
    expect(page.locator('#document-view[data-state="ready"]')).to_be_visible()
    page.locator('#document-fields button[data-explain="likes_received"]').click()
    items = page.locator("#explanation-items li")
    expected = server.api("GET", f"/v1/users/documents/{user_id}/explain?field=likes_received")
    expect(items).to_have_count(expected["value"])
    expect(page.locator("#explanation h2")).to_have_text(
        f"Why likes_received is {expected['value']}"
    )
    snapshot(page, "explanation")


def _oldest_entry(server: Server, user_id: str) -> dict[str, str]:
    path = f"/v1/users/documents/{user_id}/history?limit=500"
    entries = server.api("GET", path)["entries"]
    return dict(entries[-1])
