"""Bootstrap throughput: scanning the tables alone, and the rest of the bootstrap.

A moto DynamoDB server, started here as its own process on loopback, holds the four
reference tables filled with a CRM workload's final items (loading them is not timed).
The parallel scan is timed alone once, deserialization included, as the bootstrap does it,
and its answers are kept. Each run then bootstraps into a fresh target (the embedded
default: SQLite and the embedded index in a temporary directory; PostgreSQL, a scratch
database, and the OpenSearch test server, fresh indices) with those same Scan answers
served from memory: the run's time is the bootstrap without the scan, whatever the
emulator's own scan costs (moto re-reads a table from its start for every page, so its
scans of a large table take minutes and vary with the machine's load).

The first embedded run also gives the lower bound of the whole job, on one core
(`lower_bound`): the Scan answers' items deserialized as the bootstrap does it, the events
that run recorded inserted by `eventsourcing`'s SQLite recorder in transactions of 10,000,
and the documents it made live, encoded, added once to fresh indexes.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from opensearchpy import OpenSearch

from devtools.benchmarks.figures import spread
from devtools.benchmarks.index_share import Write
from devtools.benchmarks.lower_bound import LowerBound, lower_bound_of
from devtools.benchmarks.scratch import scratch_database
from devtools.demo import CrmWorkload
from devtools.demo.item_version import ItemVersion
from domain.kinds import TableKind
from infrastructure.adapters.embedded.codec import encode
from infrastructure.composition import Streamfold
from infrastructure.heap import frozen_while_running
from infrastructure.services.bootstrap import bootstrap, scan_segments
from infrastructure.settings import (
    EmbeddedSearch,
    OpenSearchTarget,
    Settings,
    SQLiteStore,
)
from projections.documents import DocumentKind

ITEMS_PER_USER = 20  # about, in a CrmWorkload's final tables (users, images, likes, payments)
KEYS: Mapping[TableKind, tuple[str, ...]] = {kind: kind.key_attributes for kind in TableKind}
SEGMENTS = 4
_WRITE_BATCH = 25  # BatchWriteItem's limit
_LOADERS = 4  # parallel BatchWriteItem calls while the tables are filled (not timed)


# The two ways a bootstrap builds documents (ADR 0030): into a fresh store, recorded first
# and built once; into a store that has folded, settled a group at a time.
FIRST_BUILD = "first build"
IN_GROUPS = "settled in groups"


@dataclass(frozen=True)
class BootstrapRun:
    items: int
    bootstrap_seconds: float  # on the scan's answers served from memory
    cpu_seconds: float  # of this process during the run
    path: str = FIRST_BUILD

    @property
    def items_per_second(self) -> float:
        return self.items / self.bootstrap_seconds


@dataclass(frozen=True)
class ScanAnswers:
    """Every answer of one parallel scan of the tables, by call, and what it took."""

    answers: dict[tuple[str, int, str], dict[str, Any]]
    items: int
    seconds: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds


class RecordingScans:
    """A DynamoDB client whose Scan answers are kept."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.answers: dict[tuple[str, int, str], dict[str, Any]] = {}

    def scan(self, **arguments: Any) -> Any:
        answer = self._client.scan(**arguments)
        self.answers[_call(arguments)] = answer
        return answer


class ReplayedScans:
    """A DynamoDB client that gives the kept answers of the same Scan calls."""

    def __init__(self, answers: ScanAnswers) -> None:
        self._answers = answers.answers

    def scan(self, **arguments: Any) -> Any:
        return self._answers[_call(arguments)]


def _call(arguments: Mapping[str, Any]) -> tuple[str, int, str]:
    start = json.dumps(arguments.get("ExclusiveStartKey"), sort_keys=True)
    return arguments["TableName"], arguments.get("Segment", 0), start


@contextmanager
def moto_tables(items: int, seed: int = 3) -> Iterator[tuple[Any, dict[TableKind, str], int]]:
    """A moto server on loopback holding at least ``items`` items; (client, tables, count)."""
    with _moto_server() as endpoint:
        client = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",  # noqa: S106 - moto's
            # On a busy machine the emulator can take minutes to answer a scan's page.
            config=Config(
                read_timeout=900, max_pool_connections=_LOADERS * 2,
                retries={"max_attempts": 10, "mode": "standard"},
            ),
        )  # fmt: skip
        tables = {kind: kind.value for kind in TableKind}
        count = fill_tables(client, tables, items, seed)
        yield client, tables, count


@contextmanager
def _moto_server() -> Iterator[str]:
    """moto's server in a process of its own: it neither shares this one's interpreter
    lock with the bootstrap nor slows the loading by answering on the loading threads' core."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    message = "moto's server did not start (pip install 'moto[server]')"
                    raise RuntimeError(message) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still answering a scan's page
            server.kill()
            server.wait()


def fill_tables(client: Any, tables: Mapping[TableKind, str], items: int, seed: int) -> int:
    users = max(items // ITEMS_PER_USER + 1, 1)
    contents = CrmWorkload(seed=seed, users=users).final_items()
    while sum(len(rows) for rows in contents.values()) < items:
        users = users * 5 // 4 + 1
        contents = CrmWorkload(seed=seed, users=users).final_items()
    for kind, name in tables.items():
        create_table(client, name, KEYS[kind])
        rows = [dynamodb_item(row) for row in contents.get(kind.value, [])]
        chunks = [rows[start : start + _WRITE_BATCH] for start in range(0, len(rows), _WRITE_BATCH)]
        with ThreadPoolExecutor(max_workers=_LOADERS) as loaders:
            list(loaders.map(partial(_write, client, name), chunks))
    return sum(len(rows) for rows in contents.values())


def _write(client: Any, table: str, rows: Sequence[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table: [{"PutRequest": {"Item": row}} for row in rows]}
    while pending:
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")


def create_table(client: Any, name: str, keys: Sequence[str]) -> None:
    schema = [{"AttributeName": keys[0], "KeyType": "HASH"}]
    schema += [{"AttributeName": key, "KeyType": "RANGE"} for key in keys[1:]]
    client.create_table(
        TableName=name, KeySchema=schema, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
    )  # fmt: skip


def dynamodb_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """The item as DynamoDB stores it: the image a stream record of it carries (string
    sets stay sets, numbers are numbers, absent and empty values are left out)."""
    return ItemVersion.of(row).image


def time_scan(client: Any, tables: Mapping[TableKind, str]) -> ScanAnswers:
    """The parallel scan alone, deserialization included, as the bootstrap does it."""
    deserializer = TypeDeserializer()
    recording = RecordingScans(client)
    started = time.perf_counter()
    count = 0
    for table in tables.values():
        for page in scan_segments(recording, table, SEGMENTS):
            for raw in page:
                {name: deserializer.deserialize(value) for name, value in raw.items()}
                count += 1
    return ScanAnswers(recording.answers, count, time.perf_counter() - started)


def time_bootstrap(
    app: Streamfold, scans: ScanAnswers, tables: Mapping[TableKind, str], path: str = FIRST_BUILD
) -> float:
    """Seconds of the whole bootstrap, its Scan calls answered from memory."""
    app.index.prepare()  # as a deployment's indices exist before a bootstrap
    started = time.perf_counter()
    report = bootstrap(
        app.pipeline, ReplayedScans(scans), tables, segments=SEGMENTS,
        first_build=app.first_build() if path == FIRST_BUILD else None,
    )  # fmt: skip
    app.index.make_searchable()  # the CLI's bootstrap returns searchable
    refused = report.rejected + report.documents_dead_lettered
    if refused:
        # A figure of items turned into dead letters would not be a bootstrap's.
        raise RuntimeError(f"the bootstrap refused {refused} of the benchmark's items")
    return time.perf_counter() - started


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
            try:
                yield Settings(database, OpenSearchTarget(search_url, "none"), {}, prefix)
            finally:
                # Dropped as the scratch database is: the runs do not pile up in the server.
                OpenSearch(search_url, timeout=120).indices.delete(
                    index=f"{prefix}*", ignore_unavailable=True
                )

    return target


@dataclass
class Measured:
    runs: list[BootstrapRun]
    lower_bound: LowerBound | None = None  # from the first embedded first build


def measure_bootstrap(
    scans: ScanAnswers,
    tables: Mapping[TableKind, str],
    target: Target,
    runs: int,
    paths: Sequence[str] = (FIRST_BUILD,),
) -> Measured:
    """``runs`` bootstraps of each path into fresh targets, the paths alternated."""
    measured = Measured([])
    for _ in range(runs):
        for path in paths:
            with target() as settings:
                with Streamfold.from_settings(settings) as app:
                    gc.collect()
                    # The Scan answers held for the replay are the benchmark's, not the
                    # bootstrap's: kept out of the collector's passes, as a real scan's are.
                    with frozen_while_running():
                        cpu = _cpu_seconds()
                        seconds = time_bootstrap(app, scans, tables, path)
                    store = settings.event_store
                    if measured.lower_bound is None and isinstance(store, SQLiteStore):
                        bound_started = _cpu_seconds()
                        measured.lower_bound = lower_bound_of(
                            decode_seconds(scans),
                            store.path,
                            app.event_store.recorder.events_table_name,
                            live_documents(app),
                            store.path.parent / "lower-bound",
                        )
                        cpu += _cpu_seconds() - bound_started  # not the bootstrap's
                # Closed: the second process has ended and its CPU is counted.
                cpu = _cpu_seconds() - cpu
                measured.runs.append(BootstrapRun(scans.items, seconds, cpu, path))
    return measured


def decode_seconds(scans: ScanAnswers) -> float:
    """The least time deserializing every scanned item takes, as the bootstrap does it."""
    pages = [answer["Items"] for answer in scans.answers.values()]
    deserializer = TypeDeserializer()
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        for page in pages:
            for raw in page:
                {name: deserializer.deserialize(value) for name, value in raw.items()}
        timings.append(time.perf_counter() - started)
    return min(timings)


def live_documents(app: Streamfold) -> Write:
    """The live documents the bootstrap made, encoded for the embedded index."""
    final: Write = {}
    for kind in DocumentKind:
        documents = final.setdefault(kind, [])
        after = ""
        while page := app.projection_store.documents_page(kind, after, 5000):
            after = page[-1].doc_id
            documents += [(c.doc_id, encode(c)) for c in page if c.body is not None]
    return final


def _cpu_seconds() -> float:
    """CPU of this process and of its ended children (the background settler's)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def describe(name: str, scans: ScanAnswers, measured: Measured) -> dict[str, Any]:
    """The first build's figures; with runs settled in groups beside them, theirs too and
    the ratio of the medians; the lower bound when it was measured."""
    built = [r for r in measured.runs if r.path == FIRST_BUILD]
    grouped = [r for r in measured.runs if r.path == IN_GROUPS]
    row: dict[str, Any] = {
        "target": name,
        "items": scans.items,
        "runs": len(built),
        "scan_items_per_second": round(scans.items_per_second),  # timed once, before the runs
        "bootstrap_without_scan_items_per_second": spread([r.items_per_second for r in built]),
        "bootstrap_cpu_seconds": spread([r.cpu_seconds for r in built], digits=2),
    }
    if grouped:
        rate = spread([r.items_per_second for r in grouped])
        row["settled_in_groups_items_per_second"] = rate
        row["settled_in_groups_cpu_seconds"] = spread([r.cpu_seconds for r in grouped], 2)
        first = row["bootstrap_without_scan_items_per_second"]["median"]
        row["first_build_over_groups"] = round(first / rate["median"], 2)
    if (bound := measured.lower_bound) is not None:
        row["lower_bound_items_per_second"] = round(scans.items / bound.seconds)
        row["lower_bound_seconds"] = {
            "decode": round(bound.decode_seconds, 2),
            "store_events": round(bound.store_seconds, 2),
            "index_documents": round(bound.index_seconds, 2),
        }
        row["lower_bound_events_documents"] = [bound.events, bound.documents]
        median_seconds = scans.items / row["bootstrap_without_scan_items_per_second"]["median"]
        row["bootstrap_to_lower_bound"] = round(median_seconds / bound.seconds, 2)
    return row
