"""``streamfold poll``: a long-running DynamoDB Streams consumer with per-shard checkpoints.

>>> poller = StreamPoller(app.ingestion, app.shard_checkpoints(), streams, arns)
>>> poller.drain().records
120
"""

from infrastructure.adapters.eventstore.shard_checkpoints import Checkpoint, ShardCheckpoints
from infrastructure.services.poller.poller import PassReport, PollSettings, StreamPoller

__all__ = ["Checkpoint", "PassReport", "PollSettings", "ShardCheckpoints", "StreamPoller"]
