"""The screen on a phone, and the dashboards when the dates are given backwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.screen import Server, settled, shown_total
from tests.browser.test_dashboards_page import chart, count
from tests.browser.test_dashboards_page import settled as dashboards_settled

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)  # type: ignore[arg-type]
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = f"test_screen_layout--{request.node.name}"
    opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    opened.screenshot(path=str(SCREENSHOTS / f"{name}--screen.png"))  # what the phone shows
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def scrolls_sideways(page: Page) -> bool:
    wide: bool = page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    return wide


def labels_cut_at_the_edge(page: Page, name: str) -> list[str]:
    """The category labels of chart ``name`` that start left of its canvas."""
    cut: list[str] = page.evaluate(
        """(name) => {
            // Where the chart library draws each label: right-aligned at translation[0].
            const chart = Chart.getChart(document.querySelector(`#chart-${name} canvas`));
            const context = chart.ctx;
            const cut = [];
            for (const item of chart.scales.y.getLabelItems()) {
                context.font = item.font.string;
                for (const line of [item.label].flat()) {
                    const left = item.options.translation[0] - context.measureText(line).width;
                    if (left < 0) cut.push(line);
                }
            }
            return cut;
        }""",
        name,
    )
    return cut


def test_on_a_phone_the_search_shows_results_first_without_sideways_scrolling(
    phone: Page, server: Server
) -> None:
    phone.goto(f"{server.url}/ui/?kind=users")
    settled(phone)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "test_screen_layout--phone-search-first-screen.png"))

    assert not scrolls_sideways(phone)
    results = phone.locator("#results").bounding_box()
    facets = phone.locator("#facets").bounding_box()
    assert results and facets and results["y"] < facets["y"]
    first_row = phone.locator("#hits-body tr").first.bounding_box()
    assert first_row and first_row["y"] < PHONE["height"]  # a result on the first screen

    phone.get_by_role("button", name="Filters").click()
    pro = phone.locator("input[data-field=plan][data-value=pro]")
    expect(pro).to_be_in_viewport()
    pro.check()
    settled(phone)

    assert shown_total(phone) == count(
        server, "users", {"type": "term", "field": "plan", "value": "pro"}
    )
    phone.get_by_role("button", name="Show results").click()
    expect(phone.locator("#total")).to_be_in_viewport()
    assert not scrolls_sideways(phone)


def test_on_a_phone_the_dashboards_do_not_scroll_sideways(phone: Page, server: Server) -> None:
    phone.goto(f"{server.url}/ui/dashboards.html")
    dashboards_settled(phone)

    assert not scrolls_sideways(phone)
    assert labels_cut_at_the_edge(phone, "top-images") == []
    assert labels_cut_at_the_edge(phone, "country") == []


def test_a_backwards_date_range_is_swapped_with_a_plain_note(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/dashboards.html?from=2024-06-30&to=2024-01-01")
    dashboards_settled(page)

    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.locator("#range-note")).to_have_text(
        "The From date was after the To date, so the two were swapped."
    )
    expect(page.locator("#from")).to_have_value("2024-01-01")
    expect(page.locator("#to")).to_have_value("2024-06-30")
    assert "from=2024-01-01&to=2024-06-30" in page.url
    expect(page.locator("#chart-signups figcaption")).to_have_text("Sign-ups per month")
    expect(page.locator("#dashboard")).not_to_contain_text("{interval}")
    in_range = {"type": "range", "field": "created_at", "gte": "2024-01-01", "lt": "2024-07-01"}
    assert sum(chart(page, "signups")["values"]) == count(server, "users", in_range)

    page.locator("#from").fill("2024-08-01")  # after To again, typed in the form
    dashboards_settled(page)
    expect(page.locator("#from")).to_have_value("2024-06-30")
    expect(page.locator("#to")).to_have_value("2024-08-01")
    expect(page.locator("#range-note")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()


def test_a_page_that_fails_before_any_chart_still_names_its_charts(
    page: Page, server: Server
) -> None:
    page.route("**/v1/**", lambda route: route.abort())
    page.goto(f"{server.url}/ui/dashboards.html?interval=week")

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#chart-signups figcaption")).to_have_text("Sign-ups per week")
    expect(page.locator("#dashboard")).not_to_contain_text("{interval}")


def test_the_top_image_titles_fit_beside_their_bars(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/dashboards.html")
    dashboards_settled(page)

    cut = labels_cut_at_the_edge(page, "top-images")

    assert cut == []
    titles = [hit["source"]["title"] for hit in server.api(
        "POST", "/v1/images/search", {"sort": [{"field": "like_count", "order": "desc"}]}
    )["hits"]]  # fmt: skip
    assert any(len(title) > 30 for title in titles)  # the dataset has titles worth wrapping
