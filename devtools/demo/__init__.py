"""A simulated DynamoDB with real-shaped change streams, and a CRM workload to drive it.

Powers ``streamfold demo`` and the benchmark without any server:

>>> from devtools.demo import CrmWorkload, lambda_events
>>> workload = CrmWorkload(seed=1, users=10)
>>> events = lambda_events(workload.records, batch_size=100)
>>> sorted(workload.final_items())
['images', 'likes', 'payments', 'users']
"""

from devtools.demo.clock import SimulatedClock
from devtools.demo.kinesis import (
    decode_kinesis_data,
    kinesis_lambda_events,
    to_kinesis_records,
)
from devtools.demo.lambda_batches import lambda_events
from devtools.demo.stream_records import (
    StreamRecord,
    stream_arn,
    table_of_stream_arn,
)
from devtools.demo.tables import SimulatedTables
from devtools.demo.workload import CrmWorkload

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
