"""Where an export writes: a local directory or an S3 prefix, one file at a time, atomically.

Files are written to a local staging path first and only then published under their final
name, so a reader never sees half a file, whatever happens to the writer:

- in a local directory, staging files live in ``<root>/_staging/`` (same file system) and
  are moved into place with ``os.replace``, which is atomic;
- on S3, a staged file is uploaded with one ``PutObject`` (or a multipart upload, which
  S3 makes visible only once complete): readers see the old object or the new one.

Names starting with ``_`` hold bookkeeping (the staging area, the export's marker); Athena
and Hive skip them, and they sit outside the tables' directories anyway.

>>> destination = open_destination("s3://analytics-bucket/streamfold")
>>> destination.describe()
's3://analytics-bucket/streamfold'
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infrastructure.settings import ConfigError

STAGING = "_staging"
MARKER = "_streamfold_export.json"


class ExportDestination(ABC):
    """A place holding the exported tables under stable relative names."""

    @abstractmethod
    def describe(self) -> str:
        """The destination as a URL or path, also the key of its checkpoint."""

    @abstractmethod
    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh local path to write one file to before publishing it."""

    @abstractmethod
    def publish(self, staged: Path, name: str) -> None:
        """Make the staged file visible under ``name`` in one step (replacing any old one)."""

    @abstractmethod
    @contextmanager
    def fetched(self, name: str) -> Iterator[Path | None]:
        """A local copy of the file ``name`` to read, or None if there is none."""

    @abstractmethod
    def read_text(self, name: str) -> str | None: ...

    @abstractmethod
    def write_text(self, name: str, text: str) -> None: ...

    @abstractmethod
    def remove_tree(self, prefix: str) -> None:
        """Delete every file under ``prefix`` (a full export starts from nothing)."""

    def clean_staging(self) -> None:  # noqa: B027 - only local directories keep staging files
        """Forget staging files a killed export left behind."""


class LocalDirectory(ExportDestination):
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root.resolve())

    @contextmanager
    def staging(self) -> Iterator[Path]:
        directory = self.root / STAGING
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{uuid.uuid4().hex}.tmp"
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def publish(self, staged: Path, name: str) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.replace(target)  # atomic: os.replace on one file system

    @contextmanager
    def fetched(self, name: str) -> Iterator[Path | None]:
        path = self.root / name
        yield path if path.is_file() else None

    def read_text(self, name: str) -> str | None:
        path = self.root / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def write_text(self, name: str, text: str) -> None:
        with self.staging() as staged:
            staged.write_text(text, encoding="utf-8")
            self.publish(staged, name)

    def remove_tree(self, prefix: str) -> None:
        shutil.rmtree(self.root / prefix, ignore_errors=True)

    def clean_staging(self) -> None:
        shutil.rmtree(self.root / STAGING, ignore_errors=True)


class S3Prefix(ExportDestination):
    """An S3 bucket and key prefix; ``client`` is a boto3 S3 client (injected in tests)."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from infrastructure.adapters.aws_clients import aws_client

            self._client = aws_client("s3")
        return self._client

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    @contextmanager
    def staging(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="streamfold-export-") as directory:
            yield Path(directory) / "staged"

    def publish(self, staged: Path, name: str) -> None:
        self.client.upload_file(str(staged), self.bucket, self.key(name))

    @contextmanager
    def fetched(self, name: str) -> Iterator[Path | None]:
        with self.staging() as path:
            try:
                self.client.download_file(self.bucket, self.key(name), str(path))
            except Exception as error:
                if _is_missing(error):
                    yield None
                    return
                raise
            yield path

    def read_text(self, name: str) -> str | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(name))
        except Exception as error:
            if _is_missing(error):
                return None
            raise
        text: str = response["Body"].read().decode("utf-8")
        return text

    def write_text(self, name: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=text.encode())

    def remove_tree(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key(prefix) + "/"):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})


def _is_missing(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")


def open_destination(location: str, s3_client: Any = None) -> ExportDestination:
    """``s3://bucket/prefix`` or a local directory (a path or ``file://`` URL)."""
    if location.startswith("s3://"):
        parts = urlsplit(location)
        if not parts.netloc:
            raise ConfigError(f"{location!r} names no bucket; use s3://bucket/prefix")
        return S3Prefix(parts.netloc, parts.path, client=s3_client)
    if "://" in location and not location.startswith("file://"):
        raise ConfigError(
            f"cannot export to {location!r}: use a local directory or s3://bucket/prefix"
        )
    return LocalDirectory(Path(location.removeprefix("file://")))
