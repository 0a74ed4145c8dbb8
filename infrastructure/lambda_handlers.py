"""AWS Lambda entry points.

Configure with the ``STREAMFOLD_*`` environment variables (see ``infrastructure.settings``).
The composition root is built on the first invocation and reused while the container is
warm.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from domain.errors import TransientFailure
from infrastructure.adapters.eventstore.postgres_deadline import set_database_deadline
from infrastructure.adapters.streams import MalformedEvent, parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.services.observability import BatchTelemetry
from infrastructure.settings import ConfigError, Settings

logger = logging.getLogger("streamfold.lambda")
# JSON logs with a correlation id and EMF metrics, set up once per container.
_telemetry = BatchTelemetry.from_environment()

_streamfold: Streamfold | None = None
_ANSWER_MARGIN_SECONDS = 5.0


def _app() -> Streamfold:
    global _streamfold
    if _streamfold is None:
        _streamfold = Streamfold.from_settings(Settings.from_environment())
        # What the container has loaded and wired lives as long as it: out of the garbage
        # collector's full passes for good (see `infrastructure.heap`).
        gc.freeze()
    return _streamfold


@_telemetry.observe_lambda_batches
def stream_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Process a DynamoDB Streams or Kinesis batch; returns a partial batch response.

    >>> stream_handler({"Records": [...]}, context)
    {'batchItemFailures': []}
    """
    # Set first and on every invocation: a cold start's database work is bounded too, and
    # no deadline outlives the invocation it was for.
    deadline = _deadline(context)
    set_database_deadline(deadline)
    try:
        app = _app()
    except TransientFailure as failure:
        logger.warning("cannot start: %s; the whole batch will be retried", failure)
        return batch_item_failures(_every_record(event))
    except ConfigError as mistake:
        # Permanent until a fixed configuration is deployed, and then the records must be
        # processed: raising fails the invocation (the handler-errors alarm) and Lambda
        # retries the batch. Dead letters would bury every record of every table instead.
        logger.error("cannot start, the configuration is wrong: %s; fix it and redeploy", mistake)
        raise
    app.index.set_deadline(deadline)
    outcome = app.ingestion.handle(event)
    _telemetry.record(outcome)
    return batch_item_failures(outcome.failed)


def batch_item_failures(identifiers: Iterable[str]) -> dict[str, Any]:
    """Lambda's partial batch response: the records to deliver again, by item identifier."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in identifiers]}


def _deadline(context: Any) -> float | None:
    """When to give up on the components: a margin before Lambda times the invocation out."""
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    seconds = context.get_remaining_time_in_millis() / 1000 - _ANSWER_MARGIN_SECONDS
    return time.monotonic() + max(seconds, 0.0)


def _every_record(event: Mapping[str, Any]) -> list[str]:
    """Every record's identifier by the parsers' own rule, so each one is delivered again.

    The tables are not known before start-up; the identifier does not depend on them.
    """
    try:
        records = parse_lambda_event(event, lambda table: None)
    except MalformedEvent:
        return []  # not a stream event: no record can be told apart
    return [record.item_identifier for record in records]


def reset() -> None:
    """Forget the composition root (tests and configuration changes)."""
    global _streamfold, _http
    set_database_deadline(None)
    if _streamfold is not None:
        _streamfold.close()
        gc.unfreeze()  # the freeze was for the root's lifetime
    _streamfold = None
    _http = None


_http: Any = None


def http_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Serve the CRM search API behind API Gateway (HTTP API events, payload format 2.0).

    Authentication defaults to API Gateway's authorizer (``STREAMFOLD_API_AUTH``).

    >>> http_handler({"version": "2.0", "rawPath": "/v1/users/count", ...}, context)
    {'statusCode': 200, 'body': '{"count":3}', ...}
    """
    global _http
    set_database_deadline(_deadline(context))
    if _http is None:
        # Imported here so that the stream handler's cold start never loads the web stack.
        from infrastructure.entrypoints.http.lambda_adapter import api_gateway_handler

        _http = api_gateway_handler(
            lambda: _app().search, os.environ, history=lambda: _app().history
        )
    response: dict[str, Any] = _http(event, context)
    return response
