"""Analytics files dropped in an S3 bucket, as S3's ``ObjectCreated`` notifications name them.

A notification names the bucket, the key (URL-encoded, ``+`` for a space) and the time of
the upload. The time is the file's version: a file uploaded later wins over an earlier one
for the same user, day and source, and a repeated notification (S3 delivers at least once)
imports nothing new.

>>> [created.url for created in created_objects(notification)]
['s3://drop-bucket/analytics/2024-05-01.csv.gz']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class CreatedObject:
    bucket: str
    key: str
    uploaded_at: datetime

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def created_objects(event: Mapping[str, Any]) -> Iterator[CreatedObject]:
    """The objects an S3 notification says were created (other records are skipped)."""
    for record in event.get("Records") or []:
        if not isinstance(record, Mapping) or record.get("eventSource") != "aws:s3":
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if bucket and key:
            yield CreatedObject(bucket, unquote_plus(key), _time(record.get("eventTime")))


def _time(text: object) -> datetime:
    if isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
