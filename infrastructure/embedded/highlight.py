"""Highlights: where the query's terms occur in a hit's searched fields, between tags.

Tantivy's snippet generator only knows the terms written in the query, not the indexed
words a fuzzy or prefix term matched, so the hit's text is re-analyzed here with the
indexing analyzer and every word within a term's edit distance is marked (and, in a
prefix field, every word the last term begins). Text is HTML-escaped (the tags are the
only markup in a fragment). Short values come back whole; long ones as up to five
fragments of about a hundred characters around the matches, like OpenSearch.

>>> marker = TermMarker(query_terms("photgraphy"))
>>> highlight({"title": "Street photography"}, searched, marker, Tags("<em>", "</em>"))
{'title': ['Street <em>photography</em>']}
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA

from infrastructure.embedded.queries import TEXT_ANALYZER, QueryTerm, SearchedField

FRAGMENT_CHARS = 100
MAX_FRAGMENTS = 5
_CONTEXT_CHARS = 30  # shown before the first match of a fragment
_SNAP_CHARS = 20  # how far a fragment edge may move to fall between words

Span = tuple[int, int]


class Tags(NamedTuple):
    pre: str
    post: str


class TermMarker:
    """Decides whether an indexed word matches one of the query terms."""

    def __init__(self, terms: Iterable[QueryTerm]) -> None:
        self._terms = tuple(terms)
        self._seen: dict[tuple[str, bool], bool] = {}

    def __call__(self, word: str, prefix_field: bool = False) -> bool:
        matched = self._seen.get((word, prefix_field))
        if matched is None:
            matched = any(
                _within(word, term.text, term.distance)
                or (prefix_field and term.prefix and word.startswith(term.text))
                for term in self._terms
            )
            self._seen[word, prefix_field] = matched
        return matched


def highlight(
    body: dict[str, Any], fields: Iterable[SearchedField], marker: TermMarker, tags: Tags
) -> dict[str, list[str]]:
    """Fragments per body field (dotted path) in which a query term matched."""
    found: dict[str, list[str]] = {}
    for searched in fields:
        fragments = [
            fragment
            for text in _texts(searched.field.value_in(body))
            for fragment in _fragments(text, marker, searched.prefix, tags)
        ]
        if fragments:
            found[searched.field.source] = fragments[:MAX_FRAGMENTS]
    return found


def _fragments(text: str, marker: TermMarker, prefix_field: bool, tags: Tags) -> list[str]:
    spans = [
        (token.char_offset_from, token.char_offset_to)
        for token in TEXT_ANALYZER.pre_tokenize(text).tokens
        if marker(token.text, prefix_field)
    ]
    if not spans:
        return []
    if len(text) <= FRAGMENT_CHARS:
        return [_marked(text, (0, len(text)), spans, tags)]
    return [_marked(text, window, spans, tags) for window in _windows(text, spans)]


def _windows(text: str, spans: list[Span]) -> list[Span]:
    windows: list[Span] = []
    for start, end in spans:
        floor = windows[-1][1] if windows else 0
        if end <= floor:
            continue
        if len(windows) == MAX_FRAGMENTS:
            break
        window_start = _snap_back(text, max(floor, start - _CONTEXT_CHARS), floor)
        window_end = _snap_forward(text, max(end, window_start + FRAGMENT_CHARS))
        # A matched word the edge would cut in two goes into this fragment whole.
        window_end = max([window_end] + [e for s, e in spans if s < window_end])
        windows.append((window_start, window_end))
    return windows


def _snap_back(text: str, index: int, floor: int) -> int:
    limit = max(floor, index - _SNAP_CHARS)
    moved = index
    while moved > limit and not text[moved - 1].isspace():
        moved -= 1
    return moved if moved == 0 or text[moved - 1].isspace() else index


def _snap_forward(text: str, index: int) -> int:
    limit = min(len(text), index + _SNAP_CHARS)
    moved = min(index, len(text))
    while moved < limit and not text[moved].isspace():
        moved += 1
    return moved


def _marked(text: str, window: Span, spans: list[Span], tags: Tags) -> str:
    start, end = window
    pieces: list[str] = []
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        pieces += [html.escape(text[cursor:span_start]), tags.pre]
        pieces += [html.escape(text[span_start:span_end]), tags.post]
        cursor = span_end
    pieces.append(html.escape(text[cursor:end]))
    return "".join(pieces).strip()


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))


def _within(word: str, term: str, distance: int) -> bool:
    if word == term:
        return True
    if distance == 0 or abs(len(word) - len(term)) > distance:
        return False
    # Optimal string alignment: Levenshtein where swapping two adjacent characters is one
    # edit, as tantivy's fuzzy query counts it.
    return bool(OSA.distance(word, term, score_cutoff=distance) <= distance)
