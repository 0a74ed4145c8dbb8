"""Grouping stream records into the events an AWS Lambda event source mapping sends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from devtools.demo.stream_records import StreamRecord

LambdaEvent = dict[str, list[StreamRecord]]


def lambda_events(records: Iterable[StreamRecord], batch_size: int = 100) -> list[LambdaEvent]:
    """DynamoDB Streams Lambda events: ``{"Records": [...]}`` of at most ``batch_size``.

    As with a real event source mapping, one invocation carries records of one stream
    only, in stream order. Events come in the order of their first record, so the
    streams of different tables interleave roughly as the changes happened.

    >>> records = [{"eventSourceARN": arn} for arn in ("a", "b", "a", "a")]
    >>> [[r["eventSourceARN"] for r in e["Records"]] for e in lambda_events(records, 2)]
    [['a', 'a'], ['b'], ['a']]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    open_batches: dict[Any, list[StreamRecord]] = {}
    batches: list[list[StreamRecord]] = []
    for record in records:
        source = record.get("eventSourceARN")
        batch = open_batches.get(source)
        if batch is None or len(batch) >= batch_size:
            batch = open_batches[source] = []
            batches.append(batch)
        batch.append(record)
    return [{"Records": batch} for batch in batches]
