"""Structured logs and CloudWatch metrics of ingested batches, and the pipeline's status.

>>> telemetry = BatchTelemetry.from_environment()
>>> with telemetry.batch(correlation_id="req-1"):
...     telemetry.record(app.ingestion.handle(event))
"""

from infrastructure.services.observability.telemetry import BatchTelemetry

__all__ = ["BatchTelemetry"]
