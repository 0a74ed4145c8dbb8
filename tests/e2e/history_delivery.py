"""Delivery for the end-to-end history tests: turbulent batches through the stream handler."""

from __future__ import annotations

from typing import Any

from infrastructure import lambda_handlers
from tests.support.delivery import Turbulence

ROUGH = Turbulence(
    max_batch_size=25, duplicate_record_rate=0.1, retry_batch_rate=0.15, late_replay_rate=0.1
)


def deliver(events: list[dict[str, Any]]) -> None:
    for event in events:
        assert lambda_handlers.stream_handler(event, None) == {"batchItemFailures": []}
