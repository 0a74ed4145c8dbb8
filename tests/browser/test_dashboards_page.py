"""The dashboards in a real browser: every chart shows what the API counts."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.screen import Server

LIFETIME_VALUE_BUCKETS = {  # the chart's buckets (en dashes), in cents: [gte, lt)
    "$0": (None, 1),
    "under $50": (1, 5_000),
    "$50\u2013$100": (5_000, 10_000),
    "$100\u2013$250": (10_000, 25_000),
    "$250\u2013$500": (25_000, 50_000),
    "$500 or more": (50_000, None),
}


def settled(page: Page) -> None:
    page.wait_for_function(
        """() => {
            const main = document.getElementById("dashboard");
            return main.dataset.state === "ready" && main.dataset.query === location.search;
        }"""
    )


def chart(page: Page, name: str) -> dict[str, Any]:
    """The labels and values the chart library draws on the canvas of chart ``name``."""
    drawn: dict[str, Any] = page.evaluate(
        """(name) => {
            const data = Chart.getChart(document.querySelector(`#chart-${name} canvas`)).data;
            return {labels: data.labels, values: data.datasets[0].data};
        }""",
        name,
    )
    return drawn


def kpi(page: Page, name: str) -> str:
    return page.locator(f"#kpi-{name} dd").inner_text()


def count(server: Server, kind: str, *filters: dict[str, Any]) -> int:
    body: dict[str, Any] = {}
    if filters:
        body["filter"] = filters[0] if len(filters) == 1 else {"type": "and", "filters": filters}
    answer: int = server.api("POST", f"/v1/{kind}/count", body)["count"]
    return answer


def term(field: str, value: str) -> dict[str, Any]:
    return {"type": "term", "field": field, "value": value}


def between(field: str, gte: int | None, lt: int | None) -> dict[str, Any]:
    bounds = {k: v for k, v in (("gte", gte), ("lt", lt)) if v is not None}
    return {"type": "range", "field": field, **bounds}


def test_the_charts_show_the_numbers_the_api_answers(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/dashboards.html")
    settled(page)

    plans = chart(page, "plan")
    assert plans["values"] == [count(server, "users", term("plan", p)) for p in plans["labels"]]
    assert sorted(plans["labels"]) == ["free", "pro", "team"]

    countries = chart(page, "country")
    named = [c for c in countries["labels"] if c != "Other countries"]
    assert countries["values"][: len(named)] == [
        count(server, "users", term("country", c)) for c in named
    ]
    assert sum(countries["values"]) == count(server, "users")

    values = chart(page, "lifetime-value")
    assert values["labels"] == list(LIFETIME_VALUE_BUCKETS)
    assert values["values"] == [
        count(server, "users", between("lifetime_value_cents", *bounds))
        for bounds in LIFETIME_VALUE_BUCKETS.values()
    ]

    signups = server.api(
        "POST",
        "/v1/users/search",
        {
            "size": 0,
            "facets": {"m": {"type": "date_histogram", "field": "created_at", "interval": "month"}},
        },
    )["facets"]["m"]["buckets"]
    drawn = chart(page, "signups")
    assert drawn["values"] == [b["count"] for b in signups]
    assert drawn["labels"][0] == date.fromisoformat(signups[0]["key"][:10]).strftime("%b %Y")

    top = server.api(
        "POST", "/v1/images/search", {"sort": [{"field": "like_count", "order": "desc"}]}
    )["hits"]
    assert chart(page, "top-images")["values"] == [hit["source"]["like_count"] for hit in top]
    assert sum(chart(page, "uploads")["values"]) == count(server, "images")
    assert kpi(page, "users") == f"{count(server, 'users'):,}"
    assert kpi(page, "images") == f"{count(server, 'images'):,}"


def test_the_page_filters_apply_to_every_chart(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/ui/dashboards.html?plan=pro&country=US")
    settled(page)
    pro_in_us = count(server, "users", term("plan", "pro"), term("country", "US"))
    their_images = count(server, "images", term("owner.plan", "pro"), term("owner.country", "US"))

    assert chart(page, "plan") == {"labels": ["pro"], "values": [pro_in_us]}
    assert chart(page, "country") == {"labels": ["US"], "values": [pro_in_us]}
    assert sum(chart(page, "signups")["values"]) == pro_in_us
    assert sum(chart(page, "lifetime-value")["values"]) == pro_in_us
    assert sum(chart(page, "uploads")["values"]) == their_images
    assert kpi(page, "users") == f"{pro_in_us:,}"
    assert kpi(page, "images") == f"{their_images:,}"

    page.get_by_label("Per", exact=True).select_option("week")
    settled(page)
    assert "interval=week" in page.url
    expect(page.locator("#chart-signups figcaption")).to_have_text("Sign-ups per week")
    weekly = server.api(
        "POST",
        "/v1/users/search",
        {
            "size": 0,
            "filter": {"type": "and", "filters": [term("plan", "pro"), term("country", "US")]},
            "facets": {"w": {"type": "date_histogram", "field": "created_at", "interval": "week"}},
        },
    )["facets"]["w"]["buckets"]
    assert chart(page, "signups")["values"] == [b["count"] for b in weekly]

    page.get_by_label("From", exact=True).fill("2024-03-01")
    settled(page)
    since_march = count(
        server,
        "users",
        term("plan", "pro"),
        term("country", "US"),
        {"type": "range", "field": "created_at", "gte": "2024-03-01"},
    )
    assert kpi(page, "users") == f"{since_march:,}"
    assert since_march < pro_in_us
