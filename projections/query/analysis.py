"""How text becomes searchable words, the same way at index and query time.

A word is a run of letters, digits and combining marks; everything else (spaces,
punctuation, symbols, emoji) separates words, so an emoji never matches anything. Each
word is folded so that spelling variants meet: Unicode compatibility normalization (a
separately written accent joins its letter, full-width letters become plain), accents
dropped (``é`` and ``e`` + U+0301 become ``e``; Arabic short vowels too), case folded
(``ß`` becomes ``ss``), and a few letters without a decomposition spelled out
(``æ`` → ``ae``, ``ø`` → ``o``). Chinese and Japanese are written without spaces between
words, so their runs become overlapping pairs of characters (bigrams): ``東京`` is found
in ``東京の夜景``; a character alone in a run stays alone. Korean separates its words with
spaces, particles attached at their end (``서울의``, "Seoul's"): a Korean word stays whole,
and a Korean query word also matches the beginning of a word (see `is_korean`).

Tokens keep their place in the original text (``start``, ``end``, in characters), and a
token spans whole characters with their accents, so a highlight wraps ``Café`` (however
it is written) and leaves the text itself as it was.

The OpenSearch analysis (`infrastructure.adapters.opensearch.mappings`) does the same with its own
filters; both backends give the same hits.

>>> [t.text for t in tokens("Café Fuß, 東京の夜景 🌃 서울의")]
['cafe', 'fuss', '東京', '京の', 'の夜', '夜景', '서울의']
>>> [t.text for t in tokens("東京", characters=True)]
['東', '東京', '京']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise

# Longer runs are not words anyone types (and tantivy refuses huge terms).
MAX_WORD_CHARS = 255

_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
# Combining marks that only add an accent (Latin, Greek, Cyrillic) or a short vowel
# (Arabic): dropped. Marks that are letters of their script (Devanagari vowels) stay.
_DROPPED_MARKS = re.compile("[\u0300-\u036f\u064b-\u065f\u0670]")
_SPELLED_OUT = str.maketrans(
    {
        "æ": "ae",
        "ø": "o",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ħ": "h",
        "\u0131": "i",
    }
)
_PAIRED_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and beyond
)
_PAIRED = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _PAIRED_RANGES) + "]")
_HANGUL_RANGES = (
    (0x1100, 0x11FF),  # jamo
    (0x3130, 0x318F),  # compatibility jamo
    (0xAC00, 0xD7AF),  # syllables
)


@dataclass(frozen=True, slots=True)
class Token:
    """One searchable word: its folded form and where it stands in the original text."""

    text: str
    start: int
    end: int


def tokens(text: str, *, characters: bool = False) -> list[Token]:
    """The words of a text, folded, in order.

    With ``characters``, each Chinese or Japanese character also comes alone, for
    highlighting the character a one-character query matched.
    """
    if text.isascii():
        return [
            Token(match.group().lower(), match.start(), match.end())
            for match in _ASCII_WORD.finditer(text)
            if match.end() - match.start() <= MAX_WORD_CHARS
        ]
    found: list[Token] = []
    for match in _word_runs().finditer(text):
        for start, end, paired in _script_segments(match.group(), match.start()):
            if paired:
                found += _bigrams(text, start, end, characters)
            elif end - start <= MAX_WORD_CHARS:
                folded = fold(text[start:end])
                if folded:
                    found.append(Token(folded, start, end))
    return found


@lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """A word as it is indexed and searched: normalized, without accents, case folded."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    bare = unicodedata.normalize("NFC", _DROPPED_MARKS.sub("", decomposed))
    return bare.casefold().translate(_SPELLED_OUT)


@lru_cache(maxsize=32_768)
def index_text(text: str) -> str:
    """The folded words of a text separated by spaces: what the embedded index tokenizes.

    Names, e-mails and tags come back with every document that holds them: cached.
    """
    if text.isascii():
        words = _ASCII_WORD.findall(text)
        return " ".join(word for word in words if len(word) <= MAX_WORD_CHARS).lower()
    return " ".join(token.text for token in tokens(text))


def is_paired(character: str) -> bool:
    """Whether the character is Chinese or Japanese: indexed in pairs."""
    code = ord(character)
    return any(low <= code <= high for low, high in _PAIRED_RANGES)


def is_single_character(word: str) -> bool:
    """Whether a query word is one Chinese or Japanese character.

    Indexed text holds pairs only, so such a word also matches either half of a pair.
    """
    return len(word) == 1 and is_paired(word)


def is_korean(word: str) -> bool:
    """Whether a query word is Korean: it also matches the beginning of a word."""
    return any(low <= ord(word[0]) <= high for low, high in _HANGUL_RANGES) if word else False


def _script_segments(run: str, offset: int) -> list[tuple[int, int, bool]]:
    """The run cut where it passes between CJK characters and other letters."""
    if _PAIRED.search(run) is None:
        return [(offset, offset + len(run), False)]
    segments: list[tuple[int, int, bool]] = []
    start = 0
    for position in range(1, len(run) + 1):
        if position == len(run) or is_paired(run[position]) != is_paired(run[start]):
            segments.append((offset + start, offset + position, is_paired(run[start])))
            start = position
    return segments


def _bigrams(text: str, start: int, end: int, characters: bool) -> list[Token]:
    folded = [(position, fold(text[position])) for position in range(start, end)]
    if len(folded) == 1:
        position, alone = folded[0]
        return [Token(alone, position, position + 1)]
    found: list[Token] = []
    for (position, first), (_, second) in pairwise(folded):
        if characters:
            found.append(Token(first, position, position + 1))
        found.append(Token(first + second, position, position + 2))
    if characters:
        last, alone = folded[-1]
        found.append(Token(alone, last, last + 1))
    return found


@cache
def _word_runs() -> re.Pattern[str]:
    # Python's \w has letters and digits but no combining marks: add every mark, so that
    # an accent written apart stays inside its word.
    # Variation selectors (an emoji's presentation) and enclosing marks (a keycap) are
    # marks too, yet part of no word: they separate.
    marks = "".join(
        re.escape(chr(code))
        for code in range(0x300, 0x110000)
        if unicodedata.category(chr(code)) in ("Mn", "Mc") and not _is_selector(code)
    )
    return re.compile(f"(?:[^\\W_]|[{marks}])+")


def _is_selector(code: int) -> bool:
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
