"""Highlights: where the query's terms occur in a hit's searched fields, between tags.

Both backends highlight here, from the hit's document: a search engine's highlighter
knows its own analysis, not ours (it may cut an accent written apart off its letter, or
count an emoji's halves as characters), and tantivy's only knows the terms written in the
query, not the words a fuzzy or prefix term matched. So the text is analyzed again
(`projections.query.analysis`) and every word within a term's edit distance is marked
(and every word a term begins, where the term matches beginnings). The marks go around
the original text, which stays as written: a word's span covers its accents, however they
are written, and overlapping CJK pairs are marked as one stretch. Text is HTML-escaped
(the tags are the only markup in a fragment). Short values come back whole; long ones as
up to five fragments of about a hundred characters around the matches, like OpenSearch; a
fragment never starts or ends inside a character's accents or an emoji.

>>> marker = TermMarker(query_terms("photgraphy"))
>>> fields = [HighlightedField("title", prefix=True)]
>>> highlight({"title": "Street photography"}, fields, marker, Tags("<em>", "</em>"))
{'title': ['Street <em>photography</em>']}
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA

from projections.query.analysis import tokens
from projections.query.text import QueryTerm

FRAGMENT_CHARS = 100
MAX_FRAGMENTS = 5
_CONTEXT_CHARS = 30  # shown before the first match of a fragment
_SNAP_CHARS = 20  # how far a fragment edge may move to fall between words

Span = tuple[int, int]


class Tags(NamedTuple):
    pre: str
    post: str


class HighlightedField(NamedTuple):
    source: str  # the dotted path in the document, e.g. ``owner.name``
    prefix: bool  # whether the last word typed matches beginnings of words there


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
                or (term.begins(prefix_field) and word.startswith(term.text))
                for term in self._terms
            )
            self._seen[word, prefix_field] = matched
        return matched


def highlight(
    body: dict[str, Any], fields: Iterable[HighlightedField], marker: TermMarker, tags: Tags
) -> dict[str, list[str]]:
    """Fragments per body field (dotted path) in which a query term matched."""
    found: dict[str, list[str]] = {}
    for field in fields:
        fragments = [
            fragment
            for text in _texts(_value_at(body, field.source))
            for fragment in _fragments(text, marker, field.prefix, tags)
        ]
        if fragments:
            found[field.source] = fragments[:MAX_FRAGMENTS]
    return found


def _value_at(body: dict[str, Any], source: str) -> Any:
    value: Any = body
    for key in source.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _fragments(text: str, marker: TermMarker, prefix_field: bool, tags: Tags) -> list[str]:
    spans = _merged(
        [
            (token.start, token.end)
            for token in tokens(text, characters=True)
            if marker(token.text, prefix_field)
        ]
    )
    if not spans:
        return []
    if len(text) <= FRAGMENT_CHARS:
        return [_marked(text, (0, len(text)), spans, tags)]
    return [_marked(text, window, spans, tags) for window in _windows(text, spans)]


def _merged(spans: list[Span]) -> list[Span]:
    """Overlapping spans (CJK pairs, a character and its pair) as one span each."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


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
    if moved == 0 or text[moved - 1].isspace():
        return moved
    while index > floor and _continues(text, index):
        index -= 1
    return index


def _snap_forward(text: str, index: int) -> int:
    limit = min(len(text), index + _SNAP_CHARS)
    moved = min(index, len(text))
    while moved < limit and not text[moved].isspace():
        moved += 1
    while moved < len(text) and _continues(text, moved):
        moved += 1
    return moved


def _continues(text: str, index: int) -> bool:
    """Whether the character at ``index`` belongs to the one before (an accent, an emoji's part)."""
    code = ord(text[index])
    return (
        unicodedata.category(text[index]).startswith("M")
        or code == _JOINER
        or (index > 0 and ord(text[index - 1]) == _JOINER)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
    )


_JOINER = 0x200D  # zero-width joiner: joins emoji into one (👨‍👩‍👧)


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
