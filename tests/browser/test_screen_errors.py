"""What the screen says when the API is down, refuses a query, or wants a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.screen import Server, serve_in_process, settled, shown_total

TOKEN = "a-long-enough-screen-token"


@pytest.fixture
def own_server(dataset: Path) -> Iterator[Server]:
    """A server this test may stop."""
    with serve_in_process(dataset) as running:
        yield running


@pytest.fixture
def token_server(dataset: Path) -> Iterator[Server]:
    with serve_in_process(dataset, token=TOKEN) as running:
        yield running


def test_an_api_outage_shows_the_error_message(page: Page, own_server: Server) -> None:
    page.goto(f"{own_server.url}/ui/?kind=users")
    settled(page)

    own_server.stop()
    page.locator("#q").press_sequentially("ada")
    settled(page)

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The search API is unreachable.")
    expect(alert).to_have_attribute("data-code", "unreachable")
    expect(alert.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator("#results")).to_have_attribute("data-state", "error")


def test_a_query_the_api_refuses_shows_its_message(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/?kind=users&q={'x' * 600}")
    settled(page)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The API refused this query.")
    expect(alert).to_contain_text("text")
    expect(alert).to_have_attribute("data-code", "invalid_request")

    page.locator("#q").fill("ada")
    settled(page)
    expect(alert).to_be_hidden()
    assert shown_total(page) > 0


def test_token_mode_asks_for_the_token_and_keeps_it_for_the_tab(
    page: Page, token_server: Server
) -> None:
    page.goto(f"{token_server.url}/ui/?kind=users")
    settled(page)
    expect(page.get_by_role("alert")).to_contain_text("The API needs a token.")
    token = page.get_by_label("API token")
    expect(token).to_be_focused()

    token.fill("not-the-token")
    page.get_by_role("button", name="Use token").click()
    settled(page)
    expect(page.locator("#token-hint")).to_contain_text("That token was refused.")

    token.fill(TOKEN)
    page.get_by_role("button", name="Use token").click()
    settled(page)
    expect(page.get_by_role("alert")).to_be_hidden()
    assert shown_total(page) == token_server.api("POST", "/v1/users/count", {})["count"]
    assert page.evaluate("() => sessionStorage.getItem('streamfold.api-token')") == TOKEN

    page.reload()
    settled(page)
    assert shown_total(page) > 0
    expect(page.locator("#token-form")).to_be_hidden()
    assert TOKEN not in page.content()


def test_a_wrong_token_asks_to_sign_in_again_in_plain_words(
    page: Page, token_server: Server
) -> None:
    page.add_init_script("sessionStorage.setItem('streamfold.api-token', 'an-expired-token')")
    page.goto(f"{token_server.url}/ui/?kind=users")
    settled(page)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign in again")
    expect(alert).not_to_contain_text("Authorization")
    expect(alert).not_to_contain_text("Bearer")
    expect(page.get_by_label("API token")).to_be_focused()
    expect(page.get_by_role("navigation", name="Result pages")).to_be_hidden()
    expect(page.get_by_role("button", name="Forget token")).to_be_hidden()
    expect(page.locator("#hits")).to_be_hidden()
