"""AWS Lambda entry point: import web-analytics files as they land in an S3 bucket.

Subscribe the function to the bucket's ``s3:ObjectCreated:*`` notifications (the
deployment template does). Each created object is read as a stream, imported like
``streamfold import analytics``, and its effects are searchable when the invocation
returns. Bad rows and unreadable files go to the dead-letter store, so that a retry,
which could not fix them, is not asked for; a transient failure (event store or search
backend unreachable) raises, and Lambda retries the invocation, which imports nothing
twice.

Configure with the ``STREAMFOLD_*`` variables of the stream handler, plus
``STREAMFOLD_ANALYTICS_COLUMNS`` when the export names its columns otherwise.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from infrastructure.composition import Streamfold
from infrastructure.services.analytics.columns import ColumnMapping
from infrastructure.services.analytics.importer import AnalyticsImport, file_letter
from infrastructure.services.analytics.reader import AnalyticsFileError
from infrastructure.services.analytics.s3_files import created_objects
from infrastructure.settings import ANALYTICS_COLUMNS, Settings

logger = logging.getLogger("streamfold.analytics")

_streamfold: Streamfold | None = None
_s3: Any = None


def _app() -> Streamfold:
    global _streamfold
    if _streamfold is None:
        _streamfold = Streamfold.from_settings(Settings.from_environment())
    return _streamfold


def _client() -> Any:
    global _s3
    if _s3 is None:
        from infrastructure.adapters.aws_clients import aws_client

        _s3 = aws_client("s3")
    return _s3


def s3_import_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Import every object an ``ObjectCreated`` notification names.

    >>> s3_import_handler({"Records": [{"eventSource": "aws:s3",
    ...     "eventName": "ObjectCreated:Put", "eventTime": "2024-05-01T06:00:00.000Z",
    ...     "s3": {"bucket": {"name": "drop"}, "object": {"key": "ga/2024-04-30.csv"}}}]}, None)
    {'imported': [{'file': 's3://drop/ga/2024-04-30.csv', 'rows': 5210, ...}]}
    """
    return import_created_objects(event, _app(), _client(), os.environ)


def import_created_objects(
    event: Mapping[str, Any], app: Streamfold, s3: Any, environ: Mapping[str, str]
) -> dict[str, Any]:
    """The handler's work with its collaborators passed in (tests give real ones)."""
    columns = ColumnMapping.parse(environ.get(ANALYTICS_COLUMNS, ""))
    importer = AnalyticsImport(app.pipeline, columns)
    imported = []
    for created in created_objects(event):
        body = s3.get_object(Bucket=created.bucket, Key=created.key)["Body"]
        try:
            report = importer.run(created.url, body, created.uploaded_at)
        except AnalyticsFileError as unreadable:
            logger.warning("cannot import %s: %s", created.url, unreadable)
            app.dead_letters.put([file_letter(created.url, str(unreadable))])
            imported.append({"file": created.url, "error": str(unreadable)})
            continue
        finally:
            body.close()
        logger.info("imported %s", created.url, extra={"import": asdict(report)})
        imported.append(asdict(report))
    return {"imported": imported}


def reset() -> None:
    """Forget the composition root and the S3 client (tests and configuration changes)."""
    global _streamfold, _s3
    if _streamfold is not None:
        _streamfold.close()
    _streamfold, _s3 = None, None
