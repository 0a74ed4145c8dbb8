"""Delivering stream records the way Lambda does on a bad day.

DynamoDB Streams promise order per item only. These helpers keep exactly that promise
and nothing more: each table's records are cut into batches of random size and its
batches go out in order, but the batches of different tables interleave at random, some
records come twice in a batch, some batches are retried at once, and some are replayed
much later (after newer changes of the same items were delivered).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Record = Mapping[str, Any]
LambdaEvent = dict[str, list[Record]]


@dataclass(frozen=True)
class Turbulence:
    """How badly delivery behaves; every rate is a probability per record or batch."""

    max_batch_size: int = 10
    duplicate_record_rate: float = 0.05
    retry_batch_rate: float = 0.1
    late_replay_rate: float = 0.05


CALM = Turbulence(duplicate_record_rate=0.0, retry_batch_rate=0.0, late_replay_rate=0.0)


def unreliable_delivery(
    records: Iterable[Record], seed: int, turbulence: Turbulence = Turbulence()
) -> list[LambdaEvent]:
    """DynamoDB Streams Lambda events that deliver every record at least once.

    >>> records = [{"eventSourceARN": f"arn:aws:dynamodb:r:1:table/{t}/stream/x", "n": n}
    ...            for n, t in enumerate("ababab")]
    >>> events = unreliable_delivery(records, seed=4, turbulence=CALM)
    >>> sorted(record["n"] for event in events for record in event["Records"])
    [0, 1, 2, 3, 4, 5]
    """
    rng = random.Random(seed)
    queues = {
        table: deque(_batches(table_records, rng, turbulence))
        for table, table_records in split_by_table(records).items()
    }
    delivered: list[list[Record]] = []
    replays: list[tuple[int, list[Record]]] = []
    while any(queues.values()):
        table = rng.choice([name for name, queue in queues.items() if queue])
        batch = queues[table].popleft()
        delivered.append(batch)
        if rng.random() < turbulence.retry_batch_rate:
            delivered.append(list(batch))
        if rng.random() < turbulence.late_replay_rate:
            replays.append((len(delivered) + rng.randint(1, 20), list(batch)))
    for position, batch in sorted(replays, key=lambda replay: replay[0], reverse=True):
        delivered.insert(min(position, len(delivered)), batch)
    return [{"Records": batch} for batch in delivered]


def split_by_table(records: Iterable[Record]) -> dict[str, list[Record]]:
    """Records grouped by the table named in their ``eventSourceARN``, order kept."""
    tables: dict[str, list[Record]] = {}
    for record in records:
        tables.setdefault(table_of(record), []).append(record)
    return tables


def table_of(record: Record) -> str:
    """The table name in a DynamoDB Streams record's ``eventSourceARN``.

    >>> table_of({"eventSourceARN": "arn:aws:dynamodb:r:1:table/prod-users/stream/x"})
    'prod-users'
    """
    return str(record["eventSourceARN"]).split(":", 5)[5].split("/")[1]


def item_of(record: Record) -> tuple[str, str]:
    """The table and the key of the item a record changes, for order checks."""
    keys = record["dynamodb"]["Keys"]
    return table_of(record), repr(sorted(keys.items()))


def first_deliveries(events: Iterable[Mapping[str, Sequence[Record]]]) -> list[Record]:
    """The records in the order each one was delivered for the first time."""
    seen: set[str] = set()
    first: list[Record] = []
    for event in events:
        for record in event["Records"]:
            if record["eventID"] not in seen:
                seen.add(record["eventID"])
                first.append(record)
    return first


def _batches(
    records: Sequence[Record], rng: random.Random, turbulence: Turbulence
) -> list[list[Record]]:
    batches: list[list[Record]] = []
    start = 0
    while start < len(records):
        size = rng.randint(1, turbulence.max_batch_size)
        batch: list[Record] = []
        for record in records[start : start + size]:
            batch.append(record)
            if rng.random() < turbulence.duplicate_record_rate:
                batch.append(record)
        batches.append(batch)
        start += size
    return batches
