"""The interactive API reference at /docs works without internet, under the strict CSP."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, Route, expect

from tests.browser.screen import Server


def test_the_api_reference_renders_every_operation_from_local_files_only(
    page: Page, server: Server
) -> None:
    outside: list[str] = []
    refused: list[str] = []

    def only_the_app(route: Route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:  # as inside a VPC without internet
            outside.append(route.request.url)
            route.abort()

    def csp_report(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.route("**/*", only_the_app)
    page.on("console", csp_report)
    page.goto(f"{server.url}/docs")

    expect(page.locator("#swagger-ui")).to_have_attribute("data-state", "ready")
    expect(page.locator(".opblock")).to_have_count(7)  # with history and explain
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_have_count(0)  # no token mode
    assert page.url == f"{server.url}/ui/api-docs.html"
    assert outside == []
    assert refused == []
