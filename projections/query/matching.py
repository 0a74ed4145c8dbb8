"""Which words a match needs: all of them, or, when that finds nothing, some of them.

A search first requires every word of its text (each typo-tolerant, stop words left out,
see `projections.query.text`), so totals and facet counts mean something: "mountain lake"
counts the lakes in the mountains, not everything with a mountain or a lake. Only when
no document has them all does it loosen to documents with at least one of the words,
ranked by how many they have (and how well). The page says which rule answered
(``matched``), and a count uses the same rule as the search it counts.

>>> hits = {WordRule.ALL_WORDS: [], WordRule.SOME_WORDS: ["lake-1"]}
>>> answer(SearchRequest(text="mountain lake"), lambda rule: hits[rule], len)
(['lake-1'], <WordRule.SOME_WORDS: 'some_words'>)
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from projections.query.request import SearchRequest
from projections.query.text import query_words

T = TypeVar("T")


class WordRule(StrEnum):
    ALL_WORDS = "all_words"  # every word of the text matched
    SOME_WORDS = "some_words"  # nothing had every word: at least one, more rank higher


def can_loosen(request: SearchRequest) -> bool:
    """Whether the request has words to drop: two or more."""
    return request.has_text and len(query_words(request.text)) > 1


def answer(
    request: SearchRequest, attempt: Callable[[WordRule], T], found: Callable[[T], int]
) -> tuple[T, WordRule | None]:
    """The first answer that finds something (all words, then some), and its rule.

    The rule is None for a request without text: every document matches it.
    """
    first = attempt(WordRule.ALL_WORDS)
    if not request.has_text:
        return first, None
    if found(first) or not can_loosen(request):
        return first, WordRule.ALL_WORDS
    return attempt(WordRule.SOME_WORDS), WordRule.SOME_WORDS
