"""How search text becomes words, and how many typos each word tolerates.

Both backends split text the same way (every character that is not a letter or digit
separates words, then lowercase) and allow, per word, the edit distance of OpenSearch's
``fuzziness: AUTO``: none for 1-2 characters, one for 3-5, two beyond.

>>> query_words("Photgraphy, MONTAINS!")
['photgraphy', 'montains']
>>> [fuzziness(word) for word in ("at", "lake", "montains")]
[0, 1, 2]
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")


def query_words(text: str) -> list[str]:
    """The distinct lowercase words of the text, in order."""
    return list(dict.fromkeys(_WORD.findall(text.lower())))


def fuzziness(word: str) -> int:
    """The edit distance allowed for a word, like OpenSearch's ``AUTO``."""
    if len(word) <= 2:
        return 0
    return 1 if len(word) <= 5 else 2
