"""AWS Lambda entry points.

Configure with the ``STREAMFOLD_*`` environment variables (see ``infrastructure.settings``).
The composition root is built on the first invocation and reused while the container is
warm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from infrastructure.composition import Streamfold
from infrastructure.settings import Settings
from projections.ports import TransientFailure

logger = logging.getLogger("streamfold.lambda")

_streamfold: Streamfold | None = None
_ANSWER_MARGIN_SECONDS = 5.0


def _app() -> Streamfold:
    global _streamfold
    if _streamfold is None:
        _streamfold = Streamfold.from_settings(Settings.from_environment())
    return _streamfold


def stream_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Process a DynamoDB Streams or Kinesis batch; returns a partial batch response.

    >>> stream_handler({"Records": [...]}, context)
    {'batchItemFailures': []}
    """
    try:
        app = _app()
    except TransientFailure as failure:
        logger.warning("cannot start: %s; the whole batch will be retried", failure)
        return {"batchItemFailures": _every_record(event)}
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        # Leave a margin to answer Lambda before it times out the invocation.
        seconds = context.get_remaining_time_in_millis() / 1000 - _ANSWER_MARGIN_SECONDS
        app.index.set_deadline(time.monotonic() + max(seconds, 0.0))
    return app.ingestion.handle(event).batch_item_failures()


def _every_record(event: Mapping[str, Any]) -> list[dict[str, str]]:
    failures = []
    for record in event.get("Records") or []:
        if isinstance(record, Mapping):
            identifier = (record.get("dynamodb") or {}).get("SequenceNumber") or (
                record.get("kinesis") or {}
            ).get("sequenceNumber")
            if identifier:
                failures.append({"itemIdentifier": str(identifier)})
    return failures


def reset() -> None:
    """Forget the composition root (tests and configuration changes)."""
    global _streamfold
    if _streamfold is not None:
        _streamfold.close()
    _streamfold = None
