"""The contract of the `SearchIndex` port, for every search backend.

A backend's test class inherits `SearchIndexContract` and provides two fixtures:
``index`` (a fresh, empty index) and ``second_instance`` (another instance over the same
storage, opened independently, as another process would). Tests use the port only.

>>> class TestMyBackend(SearchIndexContract):
...     @pytest.fixture
...     def index(self, tmp_path): ...
...     @pytest.fixture
...     def second_instance(self, tmp_path): ...
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from projections.documents import MAX_DOCUMENT_ID_BYTES, DocumentChange, DocumentKind
from projections.ports import SearchIndex
from projections.query import MAX_PAGE_SIZE, SearchRequest
from projections.render import render_image_document, render_user_document
from projections.state import ImageRow, UserRow, UserStats

USERS = DocumentKind.USERS
IMAGES = DocumentKind.IMAGES

ADA = UserRow(
    user_id="u-ada",
    email="ada@example.com",
    name="Ada Lovelace",
    plan="pro",
    country="GB",
    created_at="2024-01-02T03:04:05Z",
    marketing_opt_in=True,
    tags=["mathematics", "engines"],
    bio="Writes programs for the analytical engine.",
)
STATS = UserStats(image_count=1, likes_received=4, lifetime_value_cents=1299, payment_count=1)
GRACE = replace(
    ADA,
    user_id="u-grace",
    email="grace@example.com",
    name="Grace Hopper",
    country="US",
    tags=["compilers"],
    bio="Finds bugs in the machine.",
)
SUNSET = ImageRow(
    image_id="i-sunset",
    owner_id="u-ada",
    title="Sunset over the bay",
    description="Landscape photography at golden hour.",
    tags=["photography", "landscape"],
    image_url="https://images.example.com/i-sunset.jpg",
    created_at="2024-02-03T04:05:06Z",
    status="active",
    size_bytes=2_048_000,
)
HARBOUR = replace(
    SUNSET,
    image_id="i-harbour",
    owner_id="u-grace",
    title="Harbour at night",
    description="Boats and lights.",
    tags=["night"],
)


def user(row: UserRow, version: int, **changes: Any) -> DocumentChange:
    row = replace(row, **changes)
    return DocumentChange(USERS, row.user_id, version, render_user_document(row, STATS))


def image(
    row: ImageRow, version: int, owner: UserRow | None = ADA, **changes: Any
) -> DocumentChange:
    row = replace(row, **changes)
    return DocumentChange(IMAGES, row.image_id, version, render_image_document(row, 3, owner))


def deletion(kind: DocumentKind, doc_id: str, version: int) -> DocumentChange:
    return DocumentChange(kind, doc_id, version, None)


def numbered_users(count: int, version: int = 1) -> list[DocumentChange]:
    return [
        user(ADA, version, user_id=f"u-{n:03d}", name=f"Member {n}", email=f"m{n}@example.com")
        for n in range(count)
    ]


def ids(index: SearchIndex, kind: DocumentKind, request: SearchRequest) -> list[str]:
    return [hit.id for hit in index.search(kind, request).hits]


class SearchIndexContract:
    """Tests inherited by each backend's test class; see the module docstring."""

    @pytest.fixture
    def index(self) -> SearchIndex:
        raise NotImplementedError("a backend's test class provides a fresh `index`")

    @pytest.fixture
    def second_instance(self) -> SearchIndex:
        raise NotImplementedError("a backend's test class provides a `second_instance`")

    # -- the version guard --------------------------------------------------------------

    def test_a_written_document_reads_back_with_its_version_and_body(
        self, index: SearchIndex
    ) -> None:
        change = user(ADA, 5)

        outcome = index.write([change])

        assert (outcome.written, outcome.stale_writes_rejected, outcome.failed) == (1, 0, [])
        stored = index.get(USERS, ADA.user_id)
        assert stored is not None
        assert (stored.kind, stored.doc_id, stored.version) == (USERS, ADA.user_id, 5)
        assert stored.body == change.body

    def test_a_document_id_over_the_limit_is_refused_for_good_and_the_others_written(
        self, index: SearchIndex
    ) -> None:
        too_long = DocumentChange(USERS, "u" * (MAX_DOCUMENT_ID_BYTES + 1), 3, user(ADA, 3).body)

        outcome = index.write([too_long, user(ADA, 3)])

        assert outcome.written == 1
        assert [failure.change for failure in outcome.failed] == [too_long]
        assert f"1 to {MAX_DOCUMENT_ID_BYTES} bytes" in outcome.failed[0].reason
        assert index.get(USERS, too_long.doc_id) is None

    def test_a_document_never_written_reads_as_none(self, index: SearchIndex) -> None:
        index.write([user(ADA, 1)])

        assert index.get(USERS, "u-nobody") is None

    def test_a_higher_version_replaces_the_stored_document(self, index: SearchIndex) -> None:
        index.write([user(ADA, 5)])

        outcome = index.write([user(ADA, 9, name="Ada King")])

        assert (outcome.written, outcome.stale_writes_rejected) == (1, 0)
        stored = index.get(USERS, ADA.user_id)
        assert stored is not None and stored.body is not None
        assert (stored.version, stored.body["name"]) == (9, "Ada King")

    def test_an_older_version_is_rejected_and_counted_as_stale(self, index: SearchIndex) -> None:
        index.write([user(ADA, 9, name="Ada King")])

        outcome = index.write([user(ADA, 5, name="Ada Byron")])

        assert (outcome.written, outcome.stale_writes_rejected, outcome.failed) == (0, 1, [])
        stored = index.get(USERS, ADA.user_id)
        assert stored is not None and stored.body is not None
        assert (stored.version, stored.body["name"]) == (9, "Ada King")

    def test_a_write_at_the_stored_version_is_stale(self, index: SearchIndex) -> None:
        index.write([user(ADA, 7, name="Ada King")])

        outcome = index.write([user(ADA, 7, name="Ada Byron")])

        assert (outcome.written, outcome.stale_writes_rejected) == (0, 1)
        stored = index.get(USERS, ADA.user_id)
        assert stored is not None and stored.body is not None
        assert stored.body["name"] == "Ada King"

    def test_a_delete_leaves_a_tombstone_with_its_version(self, index: SearchIndex) -> None:
        index.write([user(ADA, 3)])

        outcome = index.write([deletion(USERS, ADA.user_id, 8)])

        assert (outcome.written, outcome.stale_writes_rejected) == (1, 0)
        stored = index.get(USERS, ADA.user_id)
        assert stored is not None
        assert (stored.version, stored.body) == (8, None)

    def test_a_late_older_write_cannot_resurrect_a_deleted_document(
        self, index: SearchIndex
    ) -> None:
        index.write([user(ADA, 3), deletion(USERS, GRACE.user_id, 8)])
        index.write([deletion(USERS, ADA.user_id, 8)])

        outcome = index.write([user(ADA, 5), user(GRACE, 6)])

        assert (outcome.written, outcome.stale_writes_rejected) == (0, 2)
        for doc_id in (ADA.user_id, GRACE.user_id):
            stored = index.get(USERS, doc_id)
            assert stored is not None
            assert (stored.version, stored.body) == (8, None)

    def test_a_newer_write_after_a_delete_restores_the_document(self, index: SearchIndex) -> None:
        index.write([user(ADA, 3)])
        index.write([deletion(USERS, ADA.user_id, 4)])

        index.write([user(ADA, 5)])

        stored = index.get(USERS, ADA.user_id)
        assert stored is not None and stored.body is not None
        assert stored.version == 5
        assert ids(index, USERS, SearchRequest(text="lovelace")) == [ADA.user_id]

    def test_the_highest_version_wins_among_duplicates_in_one_batch(
        self, index: SearchIndex
    ) -> None:
        batch = [user(ADA, 4, name="Four"), user(ADA, 9, name="Nine"), user(ADA, 6, name="Six")]

        outcome = index.write(batch)

        assert (outcome.written, outcome.stale_writes_rejected) == (1, 2)
        stored = index.get(USERS, ADA.user_id)
        assert stored is not None and stored.body is not None
        assert (stored.version, stored.body["name"]) == (9, "Nine")

    def test_a_batch_may_hold_both_kinds_and_keeps_them_apart(self, index: SearchIndex) -> None:
        same_id = "shared-1"

        outcome = index.write([user(ADA, 2, user_id=same_id), image(SUNSET, 3, image_id=same_id)])

        assert outcome.written == 2
        stored_user, stored_image = index.get(USERS, same_id), index.get(IMAGES, same_id)
        assert stored_user is not None and stored_user.body is not None
        assert stored_image is not None and stored_image.body is not None
        assert (stored_user.version, stored_user.body["name"]) == (2, ADA.name)
        assert (stored_image.version, stored_image.body["title"]) == (3, SUNSET.title)

    # -- search -------------------------------------------------------------------------

    def test_tombstones_are_never_searched_or_counted(self, index: SearchIndex) -> None:
        index.write([user(ADA, 1), user(GRACE, 1)])
        index.write([deletion(USERS, ADA.user_id, 2)])

        for text in ("", "lovelace", "example"):
            request = SearchRequest(text=text)
            assert ADA.user_id not in ids(index, USERS, request)
            assert index.count(USERS, request) == (0 if text == "lovelace" else 1)
        every = index.search(USERS, SearchRequest(every_document=True))
        assert [hit.id for hit in every.hits] == [GRACE.user_id]
        assert every.total == 1

    def test_search_text_finds_the_matching_document(self, index: SearchIndex) -> None:
        index.write([user(ADA, 1), user(GRACE, 1)])

        page = index.search(USERS, SearchRequest(text="hopper"))

        assert page.total == 1
        assert [hit.id for hit in page.hits] == [GRACE.user_id]
        assert page.hits[0].source == render_user_document(GRACE, STATS)
        assert page.hits[0].score is not None and page.hits[0].score > 0

    def test_every_text_field_is_searched(self, index: SearchIndex) -> None:
        index.write([user(ADA, 1), user(GRACE, 1)])

        for text in ("grace", "hopper", "bugs", "compilers", "us"):
            assert ids(index, USERS, SearchRequest(text=text))[:1] == [GRACE.user_id], text

    def test_the_owner_of_an_image_is_searchable(self, index: SearchIndex) -> None:
        index.write([image(SUNSET, 1, owner=ADA), image(HARBOUR, 1, owner=GRACE)])

        assert ids(index, IMAGES, SearchRequest(text="lovelace")) == [SUNSET.image_id]
        assert ids(index, IMAGES, SearchRequest(text="grace@example.com"))[:1] == [HARBOUR.image_id]

    def test_a_typo_still_finds_the_document(self, index: SearchIndex) -> None:
        index.write([image(SUNSET, 1), image(HARBOUR, 1)])

        assert ids(index, IMAGES, SearchRequest(text="photgraphy")) == [SUNSET.image_id]

    def test_an_exact_match_ranks_above_a_near_miss(self, index: SearchIndex) -> None:
        near = replace(HARBOUR, title="Photographs of boats", description=None, tags=None)
        exact = replace(SUNSET, title="Photography of boats", description=None, tags=None)
        index.write([image(near, 1), image(exact, 1)])

        found = ids(index, IMAGES, SearchRequest(text="photography"))

        assert found == [exact.image_id, near.image_id]

    def test_highlights_wrap_the_matched_term_in_em_tags(self, index: SearchIndex) -> None:
        index.write([image(SUNSET, 1)])

        exact = index.search(IMAGES, SearchRequest(text="photography")).hits[0]
        typo = index.search(IMAGES, SearchRequest(text="photgraphy")).hits[0]

        for hit in (exact, typo):
            assert "<em>photography</em>" in " ".join(hit.highlight["description"])
            assert hit.highlight["tags"] == ["<em>photography</em>"]
            assert "title" not in hit.highlight

    def test_a_search_that_matches_nothing_returns_an_empty_page(self, index: SearchIndex) -> None:
        index.write([user(ADA, 1)])

        page = index.search(USERS, SearchRequest(text="zzzzzzzz"))

        assert (page.total, page.hits) == (0, [])
        assert index.count(USERS, SearchRequest(text="zzzzzzzz")) == 0

    def test_empty_text_returns_every_live_document_in_id_order(self, index: SearchIndex) -> None:
        index.write([user(GRACE, 1), user(ADA, 1), *numbered_users(3)])

        page = index.search(USERS, SearchRequest(text="", size=10))

        expected = sorted(["u-000", "u-001", "u-002", ADA.user_id, GRACE.user_id])
        assert [hit.id for hit in page.hits] == expected
        assert page.total == 5

    def test_pages_follow_each_other_without_gaps_or_overlap(self, index: SearchIndex) -> None:
        index.write(numbered_users(25))

        pages = [index.search(USERS, SearchRequest(size=10, offset=o)) for o in (0, 10, 20)]

        assert [len(page.hits) for page in pages] == [10, 10, 5]
        assert {page.total for page in pages} == {25}
        assert [hit.id for page in pages for hit in page.hits] == [f"u-{n:03d}" for n in range(25)]

    def test_every_document_returns_all_matches_beyond_the_page_size(
        self, index: SearchIndex
    ) -> None:
        count = MAX_PAGE_SIZE + 30
        index.write(numbered_users(count))

        everything = index.search(USERS, SearchRequest(size=10, every_document=True))
        by_text = index.search(USERS, SearchRequest(text="member", size=10, every_document=True))

        assert everything.total == count
        assert sorted(hit.id for hit in everything.hits) == [f"u-{n:03d}" for n in range(count)]
        assert by_text.total == count
        assert len({hit.id for hit in by_text.hits}) == count

    def test_count_is_the_number_of_live_matches(self, index: SearchIndex) -> None:
        index.write([*numbered_users(12), user(ADA, 1), user(GRACE, 1)])
        index.write([deletion(USERS, "u-000", 2)])

        assert index.count(USERS, SearchRequest()) == 13
        assert index.count(USERS, SearchRequest(text="member")) == 11
        assert index.count(USERS, SearchRequest(text="hopper")) == 1
        assert index.count(IMAGES, SearchRequest()) == 0

    def test_writes_are_visible_from_another_instance(
        self, index: SearchIndex, second_instance: SearchIndex
    ) -> None:
        index.write([user(ADA, 1)])
        assert second_instance.count(USERS, SearchRequest()) == 1

        index.write([user(GRACE, 1), deletion(USERS, ADA.user_id, 2)])

        assert ids(second_instance, USERS, SearchRequest()) == [GRACE.user_id]
        stored = second_instance.get(USERS, ADA.user_id)
        assert stored is not None and stored.body is None
        assert second_instance.write([user(ADA, 2)]).stale_writes_rejected == 1
