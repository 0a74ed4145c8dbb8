"""Query latency on the embedded backend, over a generated CRM of realistic size.

The corpus (by default a million images and 200,000 users, with the demo's vocabulary)
is written straight into a fresh embedded index in large batches, not through the event
pipeline: what is measured is the query side. Each query type then runs many times with
varying inputs, through `SearchService`, as the CRM calls it:

- ``typo_search``: two words with a typo each, highlights, a terms and a date facet;
- ``filtered_count``: the exact count for a status, a like count and a date range;
- ``deep_page``: twenty images by newest first, after a cursor anywhere in the corpus.

>>> figures = measure_queries(images=100_000, users=20_000, runs=50)
>>> [(f.name, f.p95_ms) for f in figures]
[('typo_search', 12.1), ('filtered_count', 3.4), ('deep_page', 4.0)]
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devtools.demo.people import new_user
from devtools.demo.photos import image_content
from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.adapters.embedded.codec import instant_millis
from projections.documents import DocumentChange, DocumentKind
from projections.query import (
    And,
    DateHistogramFacet,
    Range,
    SearchRequest,
    SortKey,
    Term,
    TermsFacet,
    checked,
    encode_cursor,
)
from projections.search import SearchService

BATCH = 50_000
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 4 * 365 * 86_400
TYPO_QUERIES = (
    "photgraphy montains",
    "skylne nigth",
    "lighthuose strom",
    "autum forrest",
    "nothern ligths",
    "cherry blosoms",
    "fogy bridje",
    "tropicl beech",
    "mountian lkae",
    "arial veiw",
)


@dataclass(frozen=True)
class LatencyFigures:
    name: str
    runs: int
    p50_ms: float
    p95_ms: float


@dataclass
class Corpus:
    """What the queries need to know of the generated documents."""

    images: int
    users: int
    seconds: float
    newest_first: list[tuple[int, str]]  # (created_at ms, id) of sampled images, for cursors


def measure_queries(
    images: int = 1_000_000, users: int = 200_000, runs: int = 200, seed: int = 11
) -> tuple[Corpus, list[LatencyFigures]]:
    """Build the corpus in a temporary directory and time each query type ``runs`` times."""
    with tempfile.TemporaryDirectory(prefix="streamfold-query-bench-") as directory:
        index = EmbeddedSearchIndex(Path(directory), index_prefix="bench")
        try:
            corpus = build_corpus(index, images, users, random.Random(seed))
            service = SearchService(index)
            rng = random.Random(seed + 1)
            figures = [
                _time(name, runs, query)
                for name, query in (
                    ("typo_search", lambda: _typo_search(service, rng)),
                    ("filtered_count", lambda: _filtered_count(service, rng)),
                    ("deep_page", lambda: _deep_page(service, rng, corpus)),
                )
            ]
        finally:
            index.close()
    return corpus, figures


def build_corpus(index: EmbeddedSearchIndex, images: int, users: int, rng: random.Random) -> Corpus:
    started = time.perf_counter()
    owners = [_user(rng, n) for n in range(users)]
    for batch in _batches(DocumentChange(DocumentKind.USERS, u["user_id"], 1, u) for u in owners):
        index.write(batch)
    sampled: list[tuple[int, str]] = []
    documents = (_image(rng, n, rng.choice(owners)) for n in range(images))
    for batch in _batches(
        DocumentChange(DocumentKind.IMAGES, d["image_id"], 1, d) for d in documents
    ):
        index.write(batch)
        for change in rng.sample(batch, min(20, len(batch))):
            assert change.body is not None
            sampled.append((instant_millis(change.body["created_at"]) or 0, change.doc_id))
    return Corpus(images, users, time.perf_counter() - started, sampled)


def _typo_search(service: SearchService, rng: random.Random) -> Any:
    return service.search(
        "images",
        text=rng.choice(TYPO_QUERIES),
        size=20,
        facets={
            "status": TermsFacet(field="status"),
            "per_month": DateHistogramFacet(field="created_at", interval="month"),
        },
    )


def _filtered_count(service: SearchService, rng: random.Random) -> int:
    since = START + timedelta(days=rng.randrange(0, 4 * 365))
    return service.count(
        "images",
        filter=And(
            filters=[
                Term(field="status", value=rng.choice(["active", "hidden"])),
                Range(field="like_count", gte=rng.randrange(0, 20)),
                Range(field="created_at", gte=since.isoformat()),
            ]
        ),
    )


def _deep_page(service: SearchService, rng: random.Random, corpus: Corpus) -> Any:
    request = checked(
        "images", SearchRequest(sort=[SortKey(field="created_at", order="desc")], size=20)
    )
    millis, image_id = rng.choice(corpus.newest_first)
    cursor = encode_cursor(request, [millis, image_id])
    return service.search("images", request.model_copy(update={"search_after": cursor}))


def _time(name: str, runs: int, query: Callable[[], Any]) -> LatencyFigures:
    for _ in range(min(10, runs)):
        query()  # warm the caches, as a serving process would be
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        query()
        seconds.append(time.perf_counter() - started)
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return LatencyFigures(name, runs, round(cuts[49] * 1000, 1), round(cuts[94] * 1000, 1))


def _batches(changes: Iterator[DocumentChange]) -> Iterator[list[DocumentChange]]:
    batch: list[DocumentChange] = []
    for change in changes:
        batch.append(change)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _moment(rng: random.Random) -> str:
    moment = START + timedelta(
        seconds=rng.randrange(SPAN_SECONDS), milliseconds=rng.randrange(1000)
    )
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _user(rng: random.Random, n: int) -> dict[str, Any]:
    item = new_user(rng, f"usr_{n:07d}", _moment(rng))
    images = int(rng.expovariate(0.2))
    return {
        "user_id": item["userId"],
        "email": item["email"],
        "name": item["name"],
        "plan": item["plan"],
        "country": item["country"],
        "created_at": item["createdAt"],
        "marketing_opt_in": item["marketingOptIn"],
        "tags": sorted(item["tags"]) if "tags" in item else None,
        "bio": item.get("bio"),
        "image_count": images,
        "likes_received": int(rng.expovariate(0.05)) if images else 0,
        "likes_given": int(rng.expovariate(0.1)),
        "last_upload_at": _moment(rng) if images else None,
        "lifetime_value_cents": rng.choice([0, 0, 0, 900, 1900, 9900]) * rng.randint(0, 12),
        "payment_count": rng.randint(0, 12),
    }


def _image(rng: random.Random, n: int, owner: dict[str, Any]) -> dict[str, Any]:
    content = image_content(rng)
    image_id = f"img_{n:08d}"
    return {
        "image_id": image_id,
        "owner_id": owner["user_id"],
        "title": content["title"],
        "description": content.get("description"),
        "tags": sorted(content["tags"]) if "tags" in content else None,
        "image_url": f"https://cdn.images.example/i/{image_id}.jpg",
        "created_at": _moment(rng),
        "status": "active" if rng.random() < 0.9 else "hidden",
        "size_bytes": int(rng.lognormvariate(14.5, 0.7)),
        "like_count": int(rng.expovariate(0.15)),
        "owner": {key: owner[key] for key in ("user_id", "name", "email", "plan", "country")},
    }
