"""Bootstrap throughput: scanning the tables alone, and the rest of the bootstrap.

A moto DynamoDB server, started here on loopback, holds the four reference tables filled
with a CRM workload's final items (loading them is not timed). Each run bootstraps them
into a fresh target (the embedded default: SQLite and the embedded index in a temporary
directory; PostgreSQL, a scratch database, and the OpenSearch test server, fresh indices)
and, in the same run, first times the parallel scan alone, deserialization included, as
the bootstrap does it. The rest of the bootstrap is its whole time minus the time its own
Scan calls took (the deserialization of the items stays in the rest).
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

from devtools.benchmarks.scratch import scratch_database
from devtools.demo import CrmWorkload
from domain.kinds import TableKind
from infrastructure.composition import Streamfold
from infrastructure.services.bootstrap import bootstrap, scan_segments
from infrastructure.settings import (
    EmbeddedSearch,
    OpenSearchTarget,
    Settings,
    SQLiteStore,
)

ITEMS_PER_USER = 20  # about, in a CrmWorkload's final tables (users, images, likes, payments)
KEYS: Mapping[TableKind, tuple[str, ...]] = {kind: kind.key_attributes for kind in TableKind}
SEGMENTS = 4
_WRITE_BATCH = 25  # BatchWriteItem's limit


@dataclass(frozen=True)
class BootstrapRun:
    items: int
    scan_seconds: float
    bootstrap_seconds: float
    # The bootstrap's own wall time in DynamoDB Scan calls (their intervals' union): the
    # in-process moto server's answers vary from one scan to the next on a busy machine
    # by more than the rest of the bootstrap takes, so the scan alone, timed before,
    # cannot be subtracted.
    scanning_seconds: float = 0.0

    @property
    def scan_items_per_second(self) -> float:
        return self.items / self.scan_seconds

    @property
    def rest_items_per_second(self) -> float:
        return self.items / (self.bootstrap_seconds - self.scanning_seconds)


class TimedScans:
    """A DynamoDB client whose Scan calls are timed: the union of their intervals."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._intervals: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def scan(self, **arguments: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._client.scan(**arguments)
        finally:
            with self._lock:
                self._intervals.append((started, time.perf_counter()))

    @property
    def seconds(self) -> float:
        total, reached = 0.0, float("-inf")
        for start, end in sorted(self._intervals):
            if end > reached:
                total += end - max(start, reached)
                reached = end
        return total


@contextmanager
def moto_tables(items: int, seed: int = 3) -> Iterator[tuple[Any, dict[TableKind, str], int]]:
    """A moto server on loopback holding at least ``items`` items; (client, tables, count)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client(
            "dynamodb", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",  # noqa: S106 - moto's
            # On a busy machine the in-process server can take a minute to answer a page.
            config=Config(read_timeout=600, retries={"max_attempts": 10, "mode": "standard"}),
        )  # fmt: skip
        tables = {kind: kind.value for kind in TableKind}
        count = fill_tables(client, tables, items, seed)
        yield client, tables, count
    finally:
        server.stop()


def fill_tables(client: Any, tables: Mapping[TableKind, str], items: int, seed: int) -> int:
    users = max(items // ITEMS_PER_USER + 1, 1)
    contents = CrmWorkload(seed=seed, users=users).final_items()
    while sum(len(rows) for rows in contents.values()) < items:
        users = users * 5 // 4 + 1
        contents = CrmWorkload(seed=seed, users=users).final_items()
    serializer = TypeSerializer()
    for kind, name in tables.items():
        create_table(client, name, KEYS[kind])
        rows = [dynamodb_item(serializer, row) for row in contents.get(kind.value, [])]
        for start in range(0, len(rows), _WRITE_BATCH):
            requests = [{"PutRequest": {"Item": row}} for row in rows[start : start + _WRITE_BATCH]]
            pending: dict[str, Any] = {name: requests}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
    return sum(len(rows) for rows in contents.values())


def create_table(client: Any, name: str, keys: Sequence[str]) -> None:
    schema = [{"AttributeName": keys[0], "KeyType": "HASH"}]
    schema += [{"AttributeName": key, "KeyType": "RANGE"} for key in keys[1:]]
    client.create_table(
        TableName=name, KeySchema=schema, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
    )  # fmt: skip


def dynamodb_item(serializer: TypeSerializer, row: Mapping[str, Any]) -> dict[str, Any]:
    # DynamoDB numbers are Decimals; the workload's rows are plain JSON values.
    plain = json.loads(json.dumps(row, default=sorted), parse_float=Decimal)
    return {name: serializer.serialize(value) for name, value in plain.items()}


def time_scan(client: Any, tables: Mapping[TableKind, str]) -> tuple[int, float]:
    deserializer = TypeDeserializer()
    started = time.perf_counter()
    count = 0
    for table in tables.values():
        for page in scan_segments(client, table, SEGMENTS):
            for raw in page:
                {name: deserializer.deserialize(value) for name, value in raw.items()}
                count += 1
    return count, time.perf_counter() - started


def time_bootstrap(
    app: Streamfold, client: Any, tables: Mapping[TableKind, str]
) -> tuple[float, float]:
    """Seconds of the whole bootstrap, and of its Scan calls."""
    app.index.prepare()  # as a deployment's indices exist before a bootstrap
    scans = TimedScans(client)
    started = time.perf_counter()
    bootstrap(app.pipeline, scans, tables, segments=SEGMENTS)
    app.index.make_searchable()  # the CLI's bootstrap returns searchable
    return time.perf_counter() - started, scans.seconds


Target = Callable[[], AbstractContextManager[Settings]]


@contextmanager
def embedded_target() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="streamfold-bench-") as directory:
        root = Path(directory)
        yield Settings(SQLiteStore(root / "events.db"), EmbeddedSearch(root / "index"), {}, "bench")


def opensearch_target(postgres_admin: str, search_url: str) -> Target:
    @contextmanager
    def target() -> Iterator[Settings]:
        with scratch_database(postgres_admin) as database:
            prefix = f"boot-{uuid.uuid4().hex[:8]}"
            yield Settings(database, OpenSearchTarget(search_url, "none"), {}, prefix)

    return target


def measure_bootstrap(
    client: Any, tables: Mapping[TableKind, str], target: Target, runs: int
) -> list[BootstrapRun]:
    results = []
    for _ in range(runs):
        with target() as settings, Streamfold.from_settings(settings) as app:
            items, scan_seconds = time_scan(client, tables)
            whole, scanning = time_bootstrap(app, client, tables)
            results.append(BootstrapRun(items, scan_seconds, whole, scanning))
    return results


def describe(name: str, runs: Sequence[BootstrapRun]) -> dict[str, Any]:
    scan = [run.scan_items_per_second for run in runs]
    rest = [run.rest_items_per_second for run in runs]
    return {
        "target": name,
        "items": runs[0].items,
        "runs": len(runs),
        "scan_items_per_second": _spread(scan),
        "bootstrap_without_scan_items_per_second": _spread(rest),
    }


def _spread(values: Sequence[float]) -> dict[str, int]:
    return {
        "median": round(statistics.median(values)),
        "min": round(min(values)),
        "max": round(max(values)),
    }
