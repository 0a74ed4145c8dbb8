"""A simulated DynamoDB with real-shaped change streams, and a CRM workload to drive it.

Powers ``streamfold demo`` and the benchmark without any server:

>>> from infrastructure.demo import CrmWorkload, lambda_events
>>> workload = CrmWorkload(seed=1, users=10)
>>> events = lambda_events(workload.records, batch_size=100)
>>> sorted(workload.final_items())
['images', 'likes', 'payments', 'users']
"""

from infrastructure.demo.clock import SimulatedClock
from infrastructure.demo.kinesis import (
    decode_kinesis_data,
    kinesis_lambda_events,
    to_kinesis_records,
)
from infrastructure.demo.lambda_batches import lambda_events
from infrastructure.demo.stream_records import (
    StreamRecord,
    stream_arn,
    table_of_stream_arn,
)
from infrastructure.demo.tables import SimulatedTables
from infrastructure.demo.workload import CrmWorkload

__all__ = [
    "CrmWorkload",
    "SimulatedClock",
    "SimulatedTables",
    "StreamRecord",
    "decode_kinesis_data",
    "kinesis_lambda_events",
    "lambda_events",
    "stream_arn",
    "table_of_stream_arn",
    "to_kinesis_records",
]
