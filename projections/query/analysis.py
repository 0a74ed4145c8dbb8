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
        if len(text) <= MAX_WORD_CHARS:  # then no word is too long
            return " ".join(words).lower()
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
    marks = "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in _mark_ranges()
    )
    return re.compile(f"(?:[^\\W_]|[{marks}])+")


def _mark_ranges() -> list[tuple[int, int]]:
    """The combining marks that belong to words, as ranges of code points.

    Python's own Unicode database decides; for the version in `_KNOWN_MARKS` the ranges
    were taken from it beforehand (a test checks them), since going through its 1.1
    million code points takes a tenth of a second.
    """
    known = _KNOWN_MARKS.get(unicodedata.unidata_version)
    if known is None:
        return scanned_mark_ranges()
    return [
        (int(low, 16), int(high or low, 16))
        for low, _, high in (word.partition("-") for word in known.split())
    ]


def scanned_mark_ranges() -> list[tuple[int, int]]:
    """The ranges of `_mark_ranges`, found by asking the database about every code point."""
    # Variation selectors (an emoji's presentation) and enclosing marks (a keycap) are
    # marks too, yet part of no word: they separate.
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x110000):
        if unicodedata.category(chr(code)) in ("Mn", "Mc") and not _is_selector(code):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return ranges


def _is_selector(code: int) -> bool:
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


# `scanned_mark_ranges` of a Unicode version, in hexadecimal: ``low-high`` or a single one.
_KNOWN_MARKS = {
    "14.0.0": """
0300-036F 0483-0487 0591-05BD 05BF 05C1-05C2 05C4-05C5 05C7 0610-061A 064B-065F 0670
06D6-06DC 06DF-06E4 06E7-06E8 06EA-06ED 0711 0730-074A 07A6-07B0 07EB-07F3 07FD
0816-0819 081B-0823 0825-0827 0829-082D 0859-085B 0898-089F 08CA-08E1 08E3-0903
093A-093C 093E-094F 0951-0957 0962-0963 0981-0983 09BC 09BE-09C4 09C7-09C8 09CB-09CD
09D7 09E2-09E3 09FE 0A01-0A03 0A3C 0A3E-0A42 0A47-0A48 0A4B-0A4D 0A51 0A70-0A71 0A75
0A81-0A83 0ABC 0ABE-0AC5 0AC7-0AC9 0ACB-0ACD 0AE2-0AE3 0AFA-0AFF 0B01-0B03 0B3C
0B3E-0B44 0B47-0B48 0B4B-0B4D 0B55-0B57 0B62-0B63 0B82 0BBE-0BC2 0BC6-0BC8 0BCA-0BCD
0BD7 0C00-0C04 0C3C 0C3E-0C44 0C46-0C48 0C4A-0C4D 0C55-0C56 0C62-0C63 0C81-0C83 0CBC
0CBE-0CC4 0CC6-0CC8 0CCA-0CCD 0CD5-0CD6 0CE2-0CE3 0D00-0D03 0D3B-0D3C 0D3E-0D44
0D46-0D48 0D4A-0D4D 0D57 0D62-0D63 0D81-0D83 0DCA 0DCF-0DD4 0DD6 0DD8-0DDF 0DF2-0DF3
0E31 0E34-0E3A 0E47-0E4E 0EB1 0EB4-0EBC 0EC8-0ECD 0F18-0F19 0F35 0F37 0F39 0F3E-0F3F
0F71-0F84 0F86-0F87 0F8D-0F97 0F99-0FBC 0FC6 102B-103E 1056-1059 105E-1060 1062-1064
1067-106D 1071-1074 1082-108D 108F 109A-109D 135D-135F 1712-1715 1732-1734 1752-1753
1772-1773 17B4-17D3 17DD 180B-180D 180F 1885-1886 18A9 1920-192B 1930-193B 1A17-1A1B
1A55-1A5E 1A60-1A7C 1A7F 1AB0-1ABD 1ABF-1ACE 1B00-1B04 1B34-1B44 1B6B-1B73 1B80-1B82
1BA1-1BAD 1BE6-1BF3 1C24-1C37 1CD0-1CD2 1CD4-1CE8 1CED 1CF4 1CF7-1CF9 1DC0-1DFF
20D0-20DC 20E1 20E5-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302F 3099-309A A66F A674-A67D
A69E-A69F A6F0-A6F1 A802 A806 A80B A823-A827 A82C A880-A881 A8B4-A8C5 A8E0-A8F1 A8FF
A926-A92D A947-A953 A980-A983 A9B3-A9C0 A9E5 AA29-AA36 AA43 AA4C-AA4D AA7B-AA7D AAB0
AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEB-AAEF AAF5-AAF6 ABE3-ABEA ABEC-ABED FB1E
FE20-FE2F 101FD 102E0 10376-1037A 10A01-10A03 10A05-10A06 10A0C-10A0F 10A38-10A3A 10A3F
10AE5-10AE6 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11000-11002 11038-11046
11070 11073-11074 1107F-11082 110B0-110BA 110C2 11100-11102 11127-11134 11145-11146
11173 11180-11182 111B3-111C0 111C9-111CC 111CE-111CF 1122C-11237 1123E 112DF-112EA
11300-11303 1133B-1133C 1133E-11344 11347-11348 1134B-1134D 11357 11362-11363
11366-1136C 11370-11374 11435-11446 1145E 114B0-114C3 115AF-115B5 115B8-115C0
115DC-115DD 11630-11640 116AB-116B7 1171D-1172B 1182C-1183A 11930-11935 11937-11938
1193B-1193E 11940 11942-11943 119D1-119D7 119DA-119E0 119E4 11A01-11A0A 11A33-11A39
11A3B-11A3E 11A47 11A51-11A5B 11A8A-11A99 11C2F-11C36 11C38-11C3F 11C92-11CA7
11CA9-11CB6 11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 11D8A-11D8E 11D90-11D91
11D93-11D97 11EF3-11EF6 16AF0-16AF4 16B30-16B36 16F4F 16F51-16F87 16F8F-16F92 16FE4
16FF0-16FF1 1BC9D-1BC9E 1CF00-1CF2D 1CF30-1CF46 1D165-1D169 1D16D-1D172 1D17B-1D182
1D185-1D18B 1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F
1DAA1-1DAAF 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E130-1E136
1E2AE 1E2EC-1E2EF 1E8D0-1E8D6 1E944-1E94A
""",
}
