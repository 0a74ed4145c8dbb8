"""The shards of a DynamoDB stream, and which of them may be read now.

A shard splits into children when DynamoDB rotates or repartitions it; an item's changes
continue in a child, so a child is read only once its parent has been read to its end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infrastructure.adapters.eventstore.shard_checkpoints import Checkpoint


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_shard_id: str | None
    closed: bool  # has an ending sequence number: no record will be added


def list_shards(streams: Any, stream_arn: str) -> list[Shard]:
    """Every shard ``DescribeStream`` lists, following its pages.

    >>> list_shards(boto3.client("dynamodbstreams"), stream_arn)
    [Shard(shard_id='shardId-00000001-…', parent_shard_id=None, closed=False)]
    """
    shards: list[Shard] = []
    arguments: dict[str, str] = {"StreamArn": stream_arn}
    while True:
        description = streams.describe_stream(**arguments)["StreamDescription"]
        shards.extend(_shard(listed) for listed in description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        arguments["ExclusiveStartShardId"] = last


def readable_shards(shards: Sequence[Shard], checkpoints: Mapping[str, Checkpoint]) -> list[Shard]:
    """The shards not read to their end whose parent is finished or no longer listed.

    >>> parent, child = Shard("p", None, closed=True), Shard("c", "p", closed=False)
    >>> [s.shard_id for s in readable_shards([child, parent], {})]
    ['p']
    """
    listed = {shard.shard_id for shard in shards}

    def finished(shard_id: str) -> bool:
        checkpoint = checkpoints.get(shard_id)
        return checkpoint is not None and checkpoint.finished

    return [
        shard
        for shard in shards
        if not finished(shard.shard_id)
        and (
            shard.parent_shard_id is None
            or shard.parent_shard_id not in listed  # trimmed: nothing left to read first
            or finished(shard.parent_shard_id)
        )
    ]


def _shard(listed: Mapping[str, Any]) -> Shard:
    numbers = listed.get("SequenceNumberRange") or {}
    return Shard(
        shard_id=listed["ShardId"],
        parent_shard_id=listed.get("ParentShardId"),
        closed=bool(numbers.get("EndingSequenceNumber")),
    )
