"""The contract of the CRM's queries, for every search backend, on one fixed dataset.

A backend's test class inherits `QueryContract` and provides ``service``: a
`SearchService` over an index of that backend holding `DATASET` (written once per class:
the tests only read). Expected ids are written out by hand from the dataset, so both
backends must return the same ids for filters and sorts, the same counts and facet
buckets; relevance order is only checked where scores cannot tie.

>>> class TestMyBackendQueries(QueryContract):
...     @pytest.fixture(scope="class")
...     @classmethod
...     def service(cls, tmp_path_factory): ...
"""

from __future__ import annotations

from typing import Any

import pytest

from projections.documents import DocumentChange, DocumentKind
from projections.query import (
    And,
    BucketFacet,
    DateHistogramFacet,
    Exists,
    Highlight,
    Not,
    NumericRange,
    Or,
    QueryError,
    Range,
    RangeFacet,
    SearchPage,
    SortKey,
    StatsFacet,
    StatsResult,
    Term,
    Terms,
    TermsFacet,
)
from projections.render import render_image_document, render_user_document
from projections.search import SearchService
from projections.state import ImageRow, UserRow, UserStats

USERS = DocumentKind.USERS
IMAGES = DocumentKind.IMAGES


PEOPLE = {
    "u-ada": UserRow(
        "u-ada",
        "ada@example.com",
        "Ada Lovelace",
        "pro",
        "GB",
        "2024-01-02T03:04:05Z",
        True,
        ["engines", "mathematics"],
        "Writes programs for the analytical engine.",
    ),
    "u-alan": UserRow(
        "u-alan",
        "alan@example.org",
        "Alan Turing",
        "free",
        "GB",
        "2023-11-30T09:00:00Z",
        True,
        None,
        None,
    ),
    "u-barbara": UserRow(
        "u-barbara",
        "barbara@mit.example",
        "Barbara Liskov",
        "pro",
        "US",
        "2023-01-05T08:30:00Z",
        False,
        None,
        "Substitution principle.",
    ),
    "u-grace": UserRow(
        "u-grace",
        "grace@navy.example",
        "Grace Hopper",
        "team",
        "US",
        "2023-06-15T14:00:00Z",
        False,
        ["compilers"],
        "Finds bugs in the machine.",
    ),
    "u-katherine": UserRow(
        "u-katherine",
        "katherine@nasa.example",
        "Katherine Johnson",
        "pro",
        "US",
        "2024-02-20T12:00:00Z",
        True,
        ["mathematics", "orbits"],
        "Computes trajectories by hand.",
    ),
    "u-linus": UserRow(
        "u-linus",
        "linus@kernel.example",
        "Linus Torvalds",
        "free",
        "FI",
        "2022-08-25T18:45:00Z",
        False,
        ["kernels"],
        None,
    ),
    "u-margaret": UserRow(
        "u-margaret",
        "margaret@apollo.example",
        "Margaret Hamilton",
        "team",
        "US",
        "2024-03-10T07:15:00Z",
        True,
        ["software"],
        "Led the flight software team.",
    ),
}
STATS = {
    "u-ada": UserStats(
        image_count=2,
        likes_received=33,
        likes_given=4,
        last_upload_at="2024-03-01T09:00:00Z",
        lifetime_value_cents=12900,
        payment_count=3,
    ),
    "u-alan": UserStats(),
    "u-barbara": UserStats(
        image_count=1,
        likes_received=3,
        likes_given=1,
        last_upload_at="2023-12-24T17:00:00Z",
        lifetime_value_cents=12900,
        payment_count=3,
    ),
    "u-grace": UserStats(
        image_count=1,
        likes_received=30,
        likes_given=10,
        last_upload_at="2024-02-03T21:00:00Z",
        lifetime_value_cents=4900,
        payment_count=1,
    ),
    "u-katherine": UserStats(
        image_count=2,
        likes_received=17,
        likes_given=1,
        last_upload_at="2024-04-05T06:30:00Z",
        lifetime_value_cents=29900,
        payment_count=5,
    ),
    "u-linus": UserStats(
        image_count=4,
        likes_received=13,
        likes_given=0,
        last_upload_at="2024-04-01T12:00:00Z",
        lifetime_value_cents=0,
        payment_count=0,
    ),
    "u-margaret": UserStats(likes_given=3, lifetime_value_cents=9900, payment_count=2),
}

# (id, owner, title, description, tags, created_at, status, size_bytes, like_count)
PICTURES = [
    (
        "i-01",
        "u-ada",
        "Photography of mountains at dawn",
        "First light over snowy peaks.",
        ["landscape", "mountains"],
        "2024-01-05T10:00:00Z",
        "active",
        2_000_000,
        12,
    ),
    (
        "i-02",
        "u-katherine",
        "Mountain lake reflection",
        "Still water mirroring the peaks; photography at its calmest.",
        ["lake", "mountains"],
        "2024-01-20T08:00:00Z",
        "active",
        3_500_000,
        5,
    ),
    (
        "i-03",
        "u-grace",
        "City skyline at night",
        "Towers glowing after dark.",
        ["city", "night"],
        "2024-02-03T21:00:00Z",
        "active",
        1_200_000,
        30,
    ),
    (
        "i-04",
        "u-linus",
        "Photographs of boats",
        None,
        ["harbor"],
        "2024-02-14T11:00:00Z",
        "hidden",
        800_000,
        0,
    ),
    (
        "i-05",
        "u-ada",
        "Northern lights over the fjord",
        "Green aurora above a frozen lake.",
        ["aurora", "night"],
        "2024-03-01T09:00:00Z",
        "active",
        4_100_000,
        21,
    ),
    (
        "i-06",
        "u-barbara",
        "Desert dunes at sunset",
        "Sand ridges under an orange sky.",
        None,
        "2023-12-24T17:00:00Z",
        "active",
        2_700_000,
        3,
    ),
    (
        "i-07",
        "u-gone",
        "Street market",
        "Spices and hand-woven baskets.",
        ["people", "street"],
        "2024-03-15T13:00:00Z",
        "active",
        950_000,
        8,
    ),
    (
        "i-08",
        "u-katherine",
        "Foggy bridge",
        "Photography of a bridge in morning fog.",
        ["bridge", "fog"],
        "2024-04-05T06:30:00Z",
        "active",
        1_800_000,
        12,
    ),
    (
        "i-09",
        "u-linus",
        "Mountains in winter",
        "Snow on the ridges.",
        ["mountains", "winter"],
        "2023-09-02T10:00:00Z",
        "hidden",
        2_200_000,
        1,
    ),
    (
        "i-10",
        "u-linus",
        "Cherry blossoms",
        None,
        ["spring"],
        "2024-04-01T12:00:00Z",
        "active",
        600_000,
        12,
    ),
    (
        "i-11",
        "u-linus",
        "Lighthouse in a storm",
        "Waves crashing on the rocks.",
        ["sea", "storm"],
        "2024-01-31T16:00:00Z",
        "active",
        3_000_000,
        0,
    ),
]


def _image_change(row: tuple[Any, ...]) -> DocumentChange:
    image_id, owner_id, title, description, tags, created_at, status, size, likes = row
    url = f"https://img/{image_id}.jpg"
    image = ImageRow(image_id, owner_id, title, description, tags, url, created_at, status, size)
    body = render_image_document(image, likes, PEOPLE.get(owner_id))
    return DocumentChange(IMAGES, image_id, 1, body)


DATASET = [
    *(
        DocumentChange(USERS, user_id, 1, render_user_document(row, STATS[user_id]))
        for user_id, row in PEOPLE.items()
    ),
    *(_image_change(row) for row in PICTURES),
    # A deleted image: its tombstone must never be found, counted or faceted.
    DocumentChange(IMAGES, "i-00", 2, None),
]

ALL_IMAGES = [row[0] for row in PICTURES]
_LIKES = {row[0]: row[8] for row in PICTURES}


def ids(service: SearchService, kind: DocumentKind, **options: Any) -> list[str]:
    return [hit.id for hit in service.search(kind, **options).hits]


def bucket_facet(page: SearchPage, name: str) -> BucketFacet:
    facet = page.facets[name]
    assert isinstance(facet, BucketFacet)
    return facet


def stats_facet(page: SearchPage, name: str) -> StatsResult:
    facet = page.facets[name]
    assert isinstance(facet, StatsResult)
    return facet


def every_page(service: SearchService, kind: DocumentKind, **options: Any) -> list[list[str]]:
    """Every page of the request, each after the previous page's cursor."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = service.search(kind, search_after=cursor, **options)
        if page.hits:
            pages.append([hit.id for hit in page.hits])
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


class QueryContract:
    """Tests inherited by each backend's query test class; see the module docstring."""

    @pytest.fixture(scope="class")
    @classmethod
    def service(cls) -> SearchService:
        raise NotImplementedError("a backend's test class provides `service` over DATASET")

    # -- filters ------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (Term(field="status", value="hidden"), ["i-04", "i-09"]),
            (Terms(field="tags", values=["night", "fog"]), ["i-03", "i-05", "i-08"]),
            (Range(field="like_count", gte=12), ["i-01", "i-03", "i-05", "i-08", "i-10"]),
            (Range(field="like_count", gt=12, lt=30), ["i-05"]),
            (
                Range(field="created_at", gte="2024-02-01", lt="2024-04-01T12:00:00Z"),
                ["i-03", "i-04", "i-05", "i-07"],
            ),
            (Not(filter=Exists(field="description")), ["i-04", "i-10"]),
            (Not(filter=Exists(field="owner")), ["i-07"]),
            (Not(filter=Exists(field="tags")), ["i-06"]),
            (Term(field="owner.plan", value="pro"), ["i-01", "i-02", "i-05", "i-06", "i-08"]),
            (Term(field="owner.country", value="US"), ["i-02", "i-03", "i-06", "i-08"]),
            (Term(field="owner_id", value="u-gone"), ["i-07"]),
            (
                And(
                    filters=[
                        Term(field="status", value="active"),
                        Or(
                            filters=[
                                Term(field="owner.country", value="US"),
                                Term(field="tags", value="mountains"),
                            ]
                        ),
                        Not(filter=Range(field="like_count", gte=20)),
                    ]
                ),
                ["i-01", "i-02", "i-06", "i-08"],
            ),
        ],
    )
    def test_filters_return_exactly_the_matching_documents_in_id_order(
        self, service: SearchService, spec: Any, expected: list[str]
    ) -> None:
        assert ids(service, IMAGES, filter=spec, size=100) == expected
        assert service.count(IMAGES, filter=spec) == len(expected)

    def test_filters_on_users_compare_numbers_dates_and_booleans(
        self, service: SearchService
    ) -> None:
        rich = Range(field="lifetime_value_cents", gte=10_000)
        recent = Range(field="created_at", gte="2024-01-01")
        opted_in = Term(field="marketing_opt_in", value=True)

        assert ids(service, USERS, filter=rich) == ["u-ada", "u-barbara", "u-katherine"]
        assert ids(service, USERS, filter=recent & opted_in) == [
            "u-ada",
            "u-katherine",
            "u-margaret",
        ]
        assert ids(service, USERS, filter=~Exists(field="last_upload_at")) == [
            "u-alan",
            "u-margaret",
        ]

    def test_a_filter_narrows_a_text_search_without_reordering_it(
        self, service: SearchService
    ) -> None:
        mountains = ids(service, IMAGES, text="mountains", size=100)
        active = ids(service, IMAGES, text="mountains", filter=Term(field="status", value="active"))

        assert "i-09" in mountains and "i-09" not in active
        assert active == [image for image in mountains if image != "i-09"]
        assert service.count(
            IMAGES, text="mountains", filter=Term(field="status", value="active")
        ) == len(active)

    def test_tombstones_are_never_found_counted_or_faceted(self, service: SearchService) -> None:
        page = service.search(IMAGES, size=100, facets={"status": TermsFacet(field="status")})

        assert [hit.id for hit in page.hits] == ALL_IMAGES
        assert page.total == service.count(IMAGES) == len(ALL_IMAGES)
        statuses = bucket_facet(page, "status").buckets
        assert sum(bucket.count for bucket in statuses) == len(ALL_IMAGES)

    # -- sorting and paging -------------------------------------------------------------

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            (
                [SortKey(field="like_count", order="desc")],
                [
                    "i-03",
                    "i-05",
                    "i-01",
                    "i-08",
                    "i-10",
                    "i-07",
                    "i-02",
                    "i-06",
                    "i-09",
                    "i-04",
                    "i-11",
                ],
            ),
            (
                [SortKey(field="created_at")],
                [
                    "i-09",
                    "i-06",
                    "i-01",
                    "i-02",
                    "i-11",
                    "i-03",
                    "i-04",
                    "i-05",
                    "i-07",
                    "i-10",
                    "i-08",
                ],
            ),
            (
                [SortKey(field="title")],
                [
                    "i-10",
                    "i-03",
                    "i-06",
                    "i-08",
                    "i-11",
                    "i-02",
                    "i-09",
                    "i-05",
                    "i-04",
                    "i-01",
                    "i-07",
                ],
            ),
            (
                [SortKey(field="owner.name", order="desc"), SortKey(field="like_count")],
                [
                    "i-04",
                    "i-11",
                    "i-09",
                    "i-10",
                    "i-02",
                    "i-08",
                    "i-03",
                    "i-06",
                    "i-01",
                    "i-05",
                    "i-07",
                ],
            ),
            (
                [SortKey(field="status", order="desc"), SortKey(field="size_bytes", order="desc")],
                [
                    "i-09",
                    "i-04",
                    "i-05",
                    "i-02",
                    "i-11",
                    "i-06",
                    "i-01",
                    "i-08",
                    "i-03",
                    "i-07",
                    "i-10",
                ],
            ),
        ],
    )
    def test_sorts_order_by_the_fields_then_the_id_with_missing_values_last(
        self, service: SearchService, sort: list[SortKey], expected: list[str]
    ) -> None:
        assert ids(service, IMAGES, sort=sort, size=100) == expected

    @pytest.mark.parametrize(
        "sort",
        [
            [SortKey(field="like_count", order="desc")],
            [SortKey(field="owner.name"), SortKey(field="created_at", order="desc")],
            [SortKey(field="title", order="desc")],
            [SortKey(field="owner.plan")],
        ],
    )
    def test_search_after_pages_follow_each_other_without_gaps_or_repeats(
        self, service: SearchService, sort: list[SortKey]
    ) -> None:
        whole = ids(service, IMAGES, sort=sort, size=100)

        pages = every_page(service, IMAGES, sort=sort, size=3)

        assert [image for page in pages for image in page] == whole
        assert [len(page) for page in pages] == [3, 3, 3, 2]

    def test_offset_pages_agree_with_search_after_pages(self, service: SearchService) -> None:
        sort = [SortKey(field="size_bytes")]
        by_offset = [ids(service, IMAGES, sort=sort, size=4, offset=o) for o in (0, 4, 8)]

        assert by_offset == every_page(service, IMAGES, sort=sort, size=4)

    def test_relevance_pages_cover_every_match_once(self, service: SearchService) -> None:
        matches = service.search(IMAGES, text="photography mountains", size=100)

        pages = every_page(service, IMAGES, text="photography mountains", size=2)

        paged = [image for page in pages for image in page]
        assert sorted(paged) == sorted(hit.id for hit in matches.hits)
        assert len(paged) == len(set(paged)) == matches.total

    def test_a_cursor_only_continues_the_query_it_came_from(self, service: SearchService) -> None:
        first = service.search(IMAGES, sort=[SortKey(field="like_count")], size=2)
        assert first.next_cursor is not None

        with pytest.raises(QueryError, match="search_after"):
            service.search(
                IMAGES, sort=[SortKey(field="size_bytes")], search_after=first.next_cursor
            )
        with pytest.raises(QueryError, match="search_after"):
            service.search(IMAGES, sort=[SortKey(field="like_count")], search_after="garbage!")

    def test_an_export_returns_every_match_in_the_requested_order(
        self, service: SearchService
    ) -> None:
        sort = [SortKey(field="like_count", order="desc")]
        spec = Term(field="status", value="active")

        exported = service.search(IMAGES, filter=spec, sort=sort, every_document=True)

        assert [hit.id for hit in exported.hits] == ids(
            service, IMAGES, filter=spec, sort=sort, size=100
        )
        assert exported.total == 9

    # -- full text ----------------------------------------------------------------------

    def test_a_two_word_search_with_typos_finds_the_matching_title_first(
        self, service: SearchService
    ) -> None:
        page = service.search(IMAGES, text="photgraphy montains")

        # Both words are needed: i-08 (photography only) and i-09 (mountains only) miss.
        assert [hit.id for hit in page.hits] == ["i-01", "i-02"]
        assert page.matched == "all_words"
        assert page.hits[0].highlight["title"] == [
            "<em>Photography</em> of <em>mountains</em> at dawn"
        ]

    def test_a_title_match_ranks_above_a_description_match(self, service: SearchService) -> None:
        found = ids(service, IMAGES, text="photography")

        assert found.index("i-01") < found.index("i-02")
        assert found.index("i-01") < found.index("i-08")

    def test_the_search_can_be_limited_to_chosen_fields(self, service: SearchService) -> None:
        assert sorted(ids(service, IMAGES, text="photography", fields=["description"])) == [
            "i-02",
            "i-08",
        ]
        assert ids(service, USERS, text="mathematics", fields=["bio"]) == []

    def test_a_text_search_of_size_zero_gives_the_total_and_no_hits(
        self, service: SearchService
    ) -> None:
        page = service.search(IMAGES, text="photgraphy montains", size=0)

        assert page.hits == []
        assert page.total == service.count(IMAGES, text="photgraphy montains") > 0
        assert page.next_cursor is None

    def test_typo_tolerance_can_be_turned_off(self, service: SearchService) -> None:
        assert ids(service, IMAGES, text="photgraphy", fuzzy=False) == []
        assert service.count(IMAGES, text="photgraphy") > 0

    def test_prefix_matching_finds_names_and_titles_as_they_are_typed(
        self, service: SearchService
    ) -> None:
        assert ids(service, USERS, text="ada lov") == ["u-ada"]
        assert ids(service, USERS, text="lov") == []
        assert ids(service, USERS, text="lov", prefix=True) == ["u-ada"]
        assert ids(service, IMAGES, text="skyli", prefix=True) == ["i-03"]
        page = service.search(IMAGES, text="lighthou", prefix=True)
        assert page.hits[0].highlight["title"] == ["<em>Lighthouse</em> in a storm"]

    def test_highlights_mark_matched_words_with_the_requested_tags(
        self, service: SearchService
    ) -> None:
        tags = Highlight(pre_tag="<mark>", post_tag="</mark>")

        page = service.search(
            IMAGES, text="photgraphy", highlight=tags, filter=Term(field="image_id", value="i-08")
        )

        assert page.hits[0].highlight == {
            "description": ["<mark>Photography</mark> of a bridge in morning fog."]
        }
        assert service.search(IMAGES, text="fog", highlight=None).hits[0].highlight == {}

    def test_the_owner_of_an_image_is_searched_and_highlighted(
        self, service: SearchService
    ) -> None:
        page = service.search(IMAGES, text="katherine", size=100)

        assert sorted(hit.id for hit in page.hits) == ["i-02", "i-08"]
        assert page.hits[0].highlight["owner.name"] == ["<em>Katherine</em> Johnson"]

    # -- facets -------------------------------------------------------------------------

    def test_terms_facets_count_values_most_frequent_first(self, service: SearchService) -> None:
        page = service.search(
            IMAGES,
            size=0,
            facets={"status": TermsFacet(field="status"), "tags": TermsFacet(field="tags", size=3)},
        )

        assert page.hits == [] and page.total == 11
        assert [(b.key, b.count) for b in bucket_facet(page, "status").buckets] == [
            ("active", 9),
            ("hidden", 2),
        ]
        tags = bucket_facet(page, "tags")
        assert [(b.key, b.count) for b in tags.buckets] == [
            ("mountains", 3),
            ("night", 2),
            ("aurora", 1),
        ]
        assert tags.other_count == 12

    @pytest.mark.parametrize("field", ["owner.plan", "owner.country", "owner.user_id"])
    def test_owner_facets_add_up_to_the_total_with_images_of_no_known_owner(
        self, service: SearchService, field: str
    ) -> None:
        # i-07's user does not exist; size=1 also leaves values to other_count.
        for size in (1, 10):
            page = service.search(IMAGES, size=0, facets={"f": TermsFacet(field=field, size=size)})
            facet = bucket_facet(page, "f")

            counted = sum(b.count for b in facet.buckets) + facet.other_count
            assert facet.unknown_owner_count == 1
            assert counted + facet.unknown_owner_count == page.total == len(ALL_IMAGES)

    def test_owner_facets_of_images_that_all_have_owners_have_no_unknown_row(
        self, service: SearchService
    ) -> None:
        page = service.search(
            IMAGES,
            size=0,
            filter=Exists(field="owner"),
            facets={"plan": TermsFacet(field="owner.plan"), "status": TermsFacet(field="status")},
        )

        assert bucket_facet(page, "plan").unknown_owner_count == 0
        assert bucket_facet(page, "status").unknown_owner_count == 0

    def test_facets_count_only_the_matching_documents(self, service: SearchService) -> None:
        page = service.search(
            USERS,
            filter=Term(field="country", value="US"),
            facets={
                "plan": TermsFacet(field="plan"),
                "opt_in": TermsFacet(field="marketing_opt_in"),
            },
        )

        assert [(b.key, b.count) for b in bucket_facet(page, "plan").buckets] == [
            ("pro", 2),
            ("team", 2),
        ]
        assert [(b.key, b.count) for b in bucket_facet(page, "opt_in").buckets] == [
            (False, 2),
            (True, 2),
        ]

    def test_date_histograms_count_each_calendar_interval_gaps_included(
        self, service: SearchService
    ) -> None:
        facets = {
            interval: DateHistogramFacet(field="created_at", interval=interval)
            for interval in ("month", "year", "week")
        }
        page = service.search(IMAGES, size=0, facets=facets)

        months = [(b.key, b.count) for b in bucket_facet(page, "month").buckets]
        assert months == [
            ("2023-09-01T00:00:00Z", 1), ("2023-10-01T00:00:00Z", 0), ("2023-11-01T00:00:00Z", 0),
            ("2023-12-01T00:00:00Z", 1), ("2024-01-01T00:00:00Z", 3), ("2024-02-01T00:00:00Z", 2),
            ("2024-03-01T00:00:00Z", 2), ("2024-04-01T00:00:00Z", 2),
        ]  # fmt: skip
        assert [(b.key, b.count) for b in bucket_facet(page, "year").buckets] == [
            ("2023-01-01T00:00:00Z", 2),
            ("2024-01-01T00:00:00Z", 9),
        ]
        weeks = bucket_facet(page, "week").buckets
        assert weeks[0].key == "2023-08-28T00:00:00Z"  # the Monday before 2023-09-02
        assert sum(b.count for b in weeks) == 11

    def test_range_and_stats_facets_summarize_numbers(self, service: SearchService) -> None:
        ranges = [
            NumericRange(lt=5),
            NumericRange(gte=5, lt=20),
            NumericRange(gte=20, key="popular"),
        ]
        page = service.search(
            IMAGES,
            size=0,
            filter=Term(field="status", value="active"),
            facets={
                "likes": RangeFacet(field="like_count", ranges=ranges),
                "size": StatsFacet(field="size_bytes"),
            },
        )

        assert [(b.key, b.count) for b in bucket_facet(page, "likes").buckets] == [
            ("*-5", 2), ("5-20", 5), ("popular", 2)
        ]  # fmt: skip
        stats = stats_facet(page, "size")
        assert (stats.count, stats.min, stats.max, stats.sum) == (9, 600_000, 4_100_000, 19_850_000)
        assert stats.avg == pytest.approx(19_850_000 / 9)

    # -- validation ---------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"filter": Term(field="colour", value="red")}, "unknown field 'colour'"),
            ({"filter": Term(field="description", value="x")}, "'description'"),
            ({"filter": Range(field="status", gte=1)}, "no range"),
            ({"filter": Range(field="like_count", gte=10, lt=5)}, "is empty"),
            ({"filter": Range(field="created_at", gte="yesterday")}, "ISO-8601"),
            ({"sort": [SortKey(field="description")]}, "sortable"),
            ({"facets": {"x": StatsFacet(field="status")}}, "stats facets"),
            ({"fields": ["image_url"]}, "searched fields"),
            ({"size": 101}, "less than or equal to 100"),
            ({"text": "x" * 513}, "at most 512"),
            ({"offset": 5, "search_after": "abc"}, "not both"),
        ],
    )
    def test_invalid_requests_are_refused_with_a_clear_message(
        self, service: SearchService, options: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(QueryError, match=message):
            service.search(IMAGES, **options)
