"""``streamfold poll``: a long-running DynamoDB Streams consumer with per-shard checkpoints.

>>> poller = StreamPoller(app.ingestion, ShardCheckpoints(app.event_store), streams, arns)
>>> poller.drain().records
120
"""

from infrastructure.services.poller.checkpoints import Checkpoint, ShardCheckpoints
from infrastructure.services.poller.poller import PassReport, PollSettings, StreamPoller

__all__ = ["Checkpoint", "PassReport", "PollSettings", "ShardCheckpoints", "StreamPoller"]
