"""A judged relevance set: a fixed corpus, queries, what must rank first, what must count.

The corpus is 300 images drawn from the demo vocabulary with a fixed seed, plus planted
images written by hand, each the answer a person would expect to one of the queries. A
`Judgment` names the images that must be in the query's top five. The total a query must
report is not written by hand but computed by `expected_total`, a plain reading of the
documented rules over the corpus (every word, typo-tolerant, stop words left out; when no
image has them all, those with any), independent of either search engine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA

from devtools.demo.photos import image_content
from projections.documents import DocumentChange, DocumentKind
from projections.query.analysis import is_korean, tokens
from projections.query.text import query_words

SEED = 2026
GENERATED = 300
SEARCHED = ("title", "description", "tags", "status")

# (id, title, description, tags)
PLANTED = [
    ("p-lake", "Mountain lake at dawn", "Mist rising from a still alpine lake.", ["lake"]),
    ("p-dawn", "Mountains at dawn", "Dawn light on the summits.", ["dawn", "mountains"]),
    ("p-lighthouse", "Lighthouse in a storm", "Spray over the rocks.", ["lighthouse"]),
    ("p-fox", "Red fox in the snow", "A fox hunting mice under the snow.", ["fox"]),
    ("p-cafe", "Café terrace", "Tables in the sun on a square.", ["cafe"]),
    ("p-zurich", "Zürich old town", "Roofs along the Limmat river.", ["city"]),
    ("p-fuss", "Am Fuß des Berges", "Ein Dorf im Tal.", ["village"]),
    ("p-tokyo", "東京の夜景", "Tokyo at night from a tower.", ["city"]),
    ("p-beijing", "北京烤鸭", "Roast duck on a platter.", ["food"]),
    ("p-seoul", "서울의 밤", "Seoul at night.", ["city"]),
    ("p-cairo", "القاهرة في الليل", "Cairo at night.", ["city"]),
    ("p-pizza", "Pizza night 🍕", "Friends around a wood oven.", ["food"]),
    ("p-milky", "Milky way", "Stars over the desert.", ["stars"]),
    ("p-aurora", "Aurora over a frozen lake", "Green ribbons in the sky.", ["aurora"]),
    ("p-hummingbird", "Hummingbird in flight", "Wings blurred beside a flower.", ["birds"]),
    ("p-neon", "Neon alley after the rain", "Signs reflected in puddles.", ["neon"]),
    ("p-elephants", "Elephant herd", "A herd at a waterhole.", ["safari"]),
    ("p-glacier", "Glacier cave", "Blue ice walls.", ["glacier"]),
    ("p-jazz", "Jazz club saxophonist", "One spotlight, one horn.", ["music"]),
    ("p-kitten", "Kitten in a basket", "A kitten asleep in wool.", ["cat"]),
    ("p-convertible", "Vintage convertible", "A red convertible by the sea.", ["car"]),
    ("p-ramen", "Ramen noodles", "A steaming bowl of ramen.", ["food"]),
    ("p-blossoms", "Cherry blossoms by the temple", "Petals on the steps.", ["spring"]),
    ("p-bridge", "Suspension bridge in fog", "Cables vanishing in the fog.", ["bridge"]),
    ("p-staircase", "Spiral staircase", "Concrete curves seen from below.", ["stairs"]),
    ("p-surfers", "Surfers at sunrise", "Boards under a pink sky.", ["surf"]),
    ("p-cabin", "Snowy cabin", "A cabin with lit windows.", ["cabin"]),
    ("p-waterfall", "Waterfall in the jungle", "A waterfall in deep green.", ["waterfall"]),
    ("p-vineyard", "Vineyard in the hills", "Vines at harvest time.", ["vineyard"]),
    ("p-regatta", "Sailboats at a regatta", "White sails in the bay.", ["sailing"]),
]


@dataclass(frozen=True)
class Judgment:
    text: str
    top: tuple[str, ...]  # the images that must be among the first five hits


JUDGMENTS = [
    Judgment("photography of a mountain lake at dawn", ("p-lake",)),
    Judgment("montains at dwn", ("p-dawn",)),
    Judgment("lighthouse in a storm", ("p-lighthouse",)),
    Judgment("lighthuose storm", ("p-lighthouse",)),
    Judgment("red fox in the snow", ("p-fox",)),
    Judgment("cafe terrace", ("p-cafe",)),
    Judgment("Café", ("p-cafe",)),
    Judgment("zurich old town", ("p-zurich",)),
    Judgment("fuss des berges", ("p-fuss",)),
    Judgment("東京", ("p-tokyo",)),
    Judgment("北京", ("p-beijing",)),
    Judgment("서울", ("p-seoul",)),
    Judgment("القاهرة", ("p-cairo",)),
    Judgment("pizza 🍕", ("p-pizza",)),
    Judgment("milky way", ("p-milky",)),
    Judgment("aurora over a frozen lake", ("p-aurora",)),
    Judgment("hummingbird in flight", ("p-hummingbird",)),
    Judgment("neon alley after the rain", ("p-neon",)),
    Judgment("elephant herd", ("p-elephants",)),
    Judgment("glacier cave", ("p-glacier",)),
    Judgment("jazz club saxophonist", ("p-jazz",)),
    Judgment("kitten in a basket", ("p-kitten",)),
    Judgment("vintage convertible", ("p-convertible",)),
    Judgment("ramen noodles", ("p-ramen",)),
    Judgment("cherry blosoms temple", ("p-blossoms",)),
    Judgment("suspension bridge fog", ("p-bridge",)),
    Judgment("spiral staircase", ("p-staircase",)),
    Judgment("surfers at sunrise", ("p-surfers",)),
    Judgment("snowy cabin", ("p-cabin",)),
    Judgment("waterfall in the jungle", ("p-waterfall",)),
    Judgment("vineyard hills", ("p-vineyard",)),
    Judgment("sailboats regatta", ("p-regatta",)),
    # Nothing has every word: the images with some of them answer.
    Judgment("lighthouse submarine", ("p-lighthouse",)),
    Judgment("ramen glacier", ()),
    # Nothing has any word.
    Judgment("submarine volcano", ()),
    # Stop words only: kept, since dropping them would leave nothing to look for.
    Judgment("the", ()),
]


def relevance_corpus() -> list[DocumentChange]:
    """The fixed corpus: generated images, then the planted ones."""
    rng = random.Random(SEED)
    bodies = [
        {"image_id": f"g-{n:03d}", "status": "active", **_listed(image_content(rng))}
        for n in range(GENERATED)
    ]
    bodies += [
        {
            "image_id": image_id,
            "title": title,
            "description": text,
            "tags": tags,
            "status": "active",
        }
        for image_id, title, text, tags in PLANTED
    ]
    return [DocumentChange(DocumentKind.IMAGES, body["image_id"], 1, body) for body in bodies]


def expected_total(corpus: list[DocumentChange], text: str) -> tuple[int, str]:
    """How many images the documented rules match, and which rule answers."""
    words = query_words(text)
    bodies = [change.body for change in corpus if change.body is not None]
    every = sum(all(_has(body, word) for word in words) for body in bodies) if words else 0
    if every or len(words) < 2:
        return every, "all_words"
    return sum(any(_has(body, word) for word in words) for body in bodies), "some_words"


def precision_at_5(found: list[str], judged: tuple[str, ...]) -> float:
    """The share of the judged images found in the top five (1.0 when none is judged)."""
    if not judged:
        return 1.0
    return len(set(found[:5]) & set(judged)) / min(5, len(judged))


def _listed(content: dict[str, Any]) -> dict[str, Any]:
    if "tags" in content:
        content["tags"] = sorted(content["tags"])
    return content


def _has(body: dict[str, Any], word: str) -> bool:
    allowed = _fuzziness(word)
    return any(
        indexed == word
        or (allowed and OSA.distance(indexed, word, score_cutoff=allowed) <= allowed)
        or (is_korean(word) and indexed.startswith(word))
        for indexed in _words(body)
    )


def _words(body: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for field in SEARCHED:
        value = body.get(field)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                found |= {token.text for token in tokens(text)}
    return found


def _fuzziness(word: str) -> int:
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2
