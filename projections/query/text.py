"""What a search looks for: the query's words, which of them matter, and their typos.

The search text is analyzed like the indexed text (`projections.query.analysis`), so both
backends look for the same words. Stop words (``STOP_WORDS``, a short English list: the
articles, prepositions and conjunctions a sentence-like query is full of) are left out,
since "photography of a mountain lake" means "photography mountain lake"; a query made
only of stop words keeps them. Each word allows the edit distance of OpenSearch's
``fuzziness: AUTO``: none for 1-2 characters, one for 3-5, two beyond.

>>> query_words("Photgraphy of the MONTAINS!")
['photgraphy', 'montains']
>>> query_words("the who")
['the', 'who']
>>> [fuzziness(word) for word in ("at", "lake", "montains")]
[0, 1, 2]
>>> [(t.text, t.distance, t.prefix) for t in query_terms("Photgraphy mou", prefix=True)]
[('photgraphy', 2, False), ('mou', 1, True)]
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.query.analysis import is_korean, is_single_character, tokens

# Lucene's English stop words: words so common that requiring them would only make an
# otherwise matching document fail. English only: the CRM's users search in English, and
# a word of another language is simply required.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)


def query_words(text: str) -> list[str]:
    """The distinct folded words of the text that a match needs, in order."""
    words = list(dict.fromkeys(token.text for token in tokens(text)))
    meaningful = [word for word in words if word not in STOP_WORDS]
    return meaningful or words


def fuzziness(word: str) -> int:
    """The edit distance allowed for a word, like OpenSearch's ``AUTO``."""
    if len(word) <= 2:
        return 0
    return 1 if len(word) <= 5 else 2


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One word a match needs, and how loosely it may match an indexed word."""

    text: str
    distance: int  # the edit distance still counted as a match
    prefix: bool = False  # the last word of a search as you type

    def begins(self, prefix_field: bool) -> bool:
        """Whether the term also matches the beginning of a word in such a field.

        The last word typed does, in the fields that allow it (names, titles); a Korean
        word always does, since particles follow it in the same word.
        """
        return (self.prefix and prefix_field) or is_korean(self.text)

    @property
    def halves(self) -> bool:
        """Whether the term also matches either half of a pair (one CJK character)."""
        return is_single_character(self.text)


def query_terms(text: str, *, fuzzy: bool = True, prefix: bool = False) -> list[QueryTerm]:
    """The terms of the search text, in order."""
    words = query_words(text)
    return [
        QueryTerm(word, fuzziness(word) if fuzzy else 0, prefix and i == len(words) - 1)
        for i, word in enumerate(words)
    ]
