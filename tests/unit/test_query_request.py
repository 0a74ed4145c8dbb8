"""The request models refuse what the backends cannot answer, before any backend sees it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from projections.query import CountRequest, SearchRequest


@pytest.mark.parametrize("model", [SearchRequest, CountRequest])
@pytest.mark.parametrize("boost", [0.0, -1.0, 100.5])
def test_a_boost_out_of_range_is_refused_by_search_and_count_alike(
    model: type[SearchRequest] | type[CountRequest], boost: float
) -> None:
    with pytest.raises(ValidationError, match="must be above 0 and at most 100"):
        model(boosts={"title": boost})


def test_a_count_with_boosts_in_range_becomes_the_same_search() -> None:
    count = CountRequest(text="lake", boosts={"title": 3.0})

    assert count.as_search().boosts == {"title": 3.0}
