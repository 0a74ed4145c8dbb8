"""Relevance people expect, judged, on every search backend.

A backend's test class inherits `RelevanceContract` and provides ``service``: a
`SearchService` over an index of that backend holding the judged corpus
(`tests.support.relevance`). Each judged query must put its judged images in the top five
and report the total the documented rules give; the count and the facets of the same
query must agree with that total. The printer (``-m benchmark -s``) shows precision@5 and
the totals per query.
"""

from __future__ import annotations

import pytest

from projections.documents import DocumentKind
from projections.query import TermsFacet
from projections.search import SearchService
from tests.support.relevance import (
    JUDGMENTS,
    Judgment,
    expected_total,
    precision_at_5,
    relevance_corpus,
)

IMAGES = DocumentKind.IMAGES
CORPUS = relevance_corpus()


class RelevanceContract:
    @pytest.fixture(scope="class")
    def service(self) -> SearchService:
        raise NotImplementedError

    @pytest.mark.parametrize("judgment", JUDGMENTS, ids=[j.text for j in JUDGMENTS])
    def test_the_judged_images_rank_in_the_top_five_and_the_total_follows_the_rules(
        self, service: SearchService, judgment: Judgment
    ) -> None:
        page = service.search(IMAGES, text=judgment.text, size=5)
        total, rule = expected_total(CORPUS, judgment.text)

        top = [hit.id for hit in page.hits]
        assert set(judgment.top) <= set(top), top
        assert (page.total, page.matched) == (total, rule)

    @pytest.mark.parametrize(
        "text", ["montains at dwn", "lighthouse submarine", "photography of a mountain lake"]
    )
    def test_count_and_facets_use_the_rule_that_answered(
        self, service: SearchService, text: str
    ) -> None:
        page = service.search(
            IMAGES, text=text, size=0, facets={"status": TermsFacet(field="status")}
        )

        assert service.count(IMAGES, text=text) == page.total
        (bucket,) = page.facets["status"].buckets  # type: ignore[union-attr]
        assert bucket.count == page.total

    def test_every_word_is_needed_so_a_long_query_narrows(self, service: SearchService) -> None:
        broad = service.count(IMAGES, text="photography")
        narrow = service.count(IMAGES, text="photography of a mountain lake")

        assert 0 < narrow < broad < len(CORPUS)

    def test_a_search_without_text_says_no_word_rule(self, service: SearchService) -> None:
        assert service.search(IMAGES, size=1).matched is None

    @pytest.mark.benchmark
    def test_print_precision_at_5_and_totals(self, service: SearchService) -> None:
        scores = []
        print(f"\n{'query':42} {'p@5':>5} {'total':>6}  rule")
        for judgment in JUDGMENTS:
            page = service.search(IMAGES, text=judgment.text, size=5)
            score = precision_at_5([hit.id for hit in page.hits], judgment.top)
            scores.append(score)
            print(f"{judgment.text:42} {score:5.2f} {page.total:6d}  {page.matched}")
        print(f"mean precision@5 over {len(scores)} queries: {sum(scores) / len(scores):.3f}")
