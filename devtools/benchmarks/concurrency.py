"""Several stream-handler processes at once on PostgreSQL and OpenSearch, over a slow network.

Each of N processes runs the real Lambda entry point
(``infrastructure.lambda_handlers.stream_handler``) on its share of the same workload's
batches (DynamoDB Streams shape, 100 records each), all starting together. Between them
and the servers sit latency proxies (`devtools.latency_proxy`): ``postgres_ms`` per
PostgreSQL round trip, ``search_ms`` per OpenSearch request. Every N starts from an empty
database and fresh indices, created before the clock starts, as a deployment's are.

Reported per N: records per second over all processes (wall clock, first batch to the
last answer), the ratio to N=1, and the seconds the processes spent acquiring the
projection lock (summed over processes; see `devtools.benchmarks.lock_wait`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devtools.benchmarks.scratch import scratch_database
from devtools.demo import CrmWorkload, lambda_events
from devtools.latency_proxy import LatencyProxy
from infrastructure.composition import Streamfold
from infrastructure.settings import OpenSearchTarget, PostgresStore, Settings

BATCH_SIZE = 100


@dataclass(frozen=True)
class ConcurrencyRow:
    processes: int
    records: int
    seconds: float
    lock_wait_seconds: float
    lock_acquisitions: int

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds


def measure_concurrency(
    postgres_admin: str,
    search_url: str,
    *,
    processes: Sequence[int] = (1, 2, 4, 8),
    users: int = 1000,
    postgres_ms: float = 1.0,
    search_ms: float = 5.0,
    seed: int = 11,
) -> list[ConcurrencyRow]:
    events = lambda_events(CrmWorkload(seed=seed, users=users).records, BATCH_SIZE)
    search = urlsplit(search_url)
    rows = []
    for count in processes:
        with scratch_database(postgres_admin) as database, LatencyProxy(
            (database.host, database.port), latency_ms=postgres_ms
        ) as pg_wire, LatencyProxy(
            (search.hostname or "127.0.0.1", search.port or 80), latency_ms=search_ms
        ) as search_wire:  # fmt: skip
            environ = {
                "STREAMFOLD_EVENT_STORE": f"postgresql://{database.user}@127.0.0.1:"
                f"{pg_wire.port}/{database.dbname}",
                "STREAMFOLD_SEARCH": search_wire.url,
                "STREAMFOLD_INDEX_PREFIX": f"conc-{uuid.uuid4().hex[:8]}",
            }
            prepare(database, search_url, environ["STREAMFOLD_INDEX_PREFIX"])
            rows.append(run_processes(count, events, environ))
    return rows


def prepare(database: PostgresStore, search_url: str, prefix: str) -> None:
    """Tables and indices, as a deployment creates them before any traffic."""
    settings = Settings(database, OpenSearchTarget(search_url, "none"), {}, prefix)
    with Streamfold.from_settings(settings) as app:
        app.index.prepare()


def run_processes(
    count: int, events: list[dict[str, Any]], environ: dict[str, str]
) -> ConcurrencyRow:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(count + 1)
    results = context.Queue()
    shares = [events[number::count] for number in range(count)]
    workers = [
        context.Process(target=handle_share, args=(share, environ, ready, results))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    with contextlib.suppress(threading.BrokenBarrierError):  # a process failed: reported below
        ready.wait()  # every process has wired its handler
        started = time.perf_counter()
    answers = [results.get() for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    failed = [answer["error"] for answer in answers if answer.get("error")]
    if failed:
        raise RuntimeError(f"a handler process failed: {failed[0]}")
    return ConcurrencyRow(
        processes=count,
        records=sum(answer["records"] for answer in answers),
        seconds=seconds,
        lock_wait_seconds=sum(answer["lock_seconds"] for answer in answers),
        lock_acquisitions=sum(answer["lock_acquisitions"] for answer in answers),
    )


def handle_share(
    events: list[dict[str, Any]], environ: dict[str, str], ready: Any, results: Any
) -> None:
    """One handler process: wire the handler, wait for the others, handle its batches."""
    os.environ.update(environ)
    # The handler logs a JSON line and metrics per batch, as in Lambda; not wanted here.
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - for the life of the process
    from devtools.benchmarks.lock_wait import timing_projection_lock
    from infrastructure.lambda_handlers import stream_handler

    try:
        stream_handler({"Records": []}, None)  # wires the composition root, untimed
        with timing_projection_lock() as lock:
            ready.wait()
            records = 0
            for event in events:
                answer = stream_handler(event, None)
                if answer["batchItemFailures"]:
                    raise RuntimeError(f"{len(answer['batchItemFailures'])} records to retry")
                records += len(event["Records"])
        results.put(
            {"records": records, "lock_seconds": lock.seconds,
             "lock_acquisitions": lock.acquisitions}
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises
        results.put({"error": f"{type(error).__name__}: {error}"})
        ready.abort()


def describe(rows: Sequence[ConcurrencyRow]) -> list[dict[str, Any]]:
    base = rows[0].records_per_second if rows else 1.0
    return [
        {
            "processes": row.processes,
            "records": row.records,
            "records_per_second": round(row.records_per_second),
            "ratio_to_first": round(row.records_per_second / base, 2),
            "lock_wait_seconds": round(row.lock_wait_seconds, 2),
            "lock_acquisitions": row.lock_acquisitions,
            "seconds": round(row.seconds, 2),
        }
        for row in rows
    ]
