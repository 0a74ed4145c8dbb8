"""A bounded soak: steady batches through several handler processes while the CRM queries.

Three handler processes on PostgreSQL and the OpenSearch test server take a paced stream
of batches for ``STREAMFOLD_SOAK_SECONDS`` (180 by default) while ``streamfold serve``
answers searches and counts over HTTP. It checks that no batch fails, that every query is
answered, that the resident memory of each process stays flat once warm, and that the
documents equal the fold of the tables at the end.

    make soak                                   # the documented command
    STREAMFOLD_SOAK_SECONDS=30 make soak        # a short run
"""

from __future__ import annotations

import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.composition import Streamfold
from infrastructure.settings import PostgresStore, Settings
from tests.chaos.figures import report_figures
from tests.chaos.handler_processes import REPOSITORY, HandlerProcess
from tests.conftest import event_store_url
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.reference import expected_documents

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("STREAMFOLD_SOAK_SECONDS") or 180)
HANDLERS = 3
RECORDS_PER_SECOND = 120
BATCH_SIZE = 40
SAMPLE_SECONDS = 2.0
Server = subprocess.Popen[bytes]
# Once warm, a process may grow by this much at most between the second quarter of the
# run and the last: caches fill early, and a leak keeps growing.
ALLOWED_GROWTH_BYTES = 40 * 1024 * 1024


@dataclass
class Memory:
    samples: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    def add(self, name: str, at: float, rss: int) -> None:
        self.samples.setdefault(name, []).append((at, rss))

    def growth(self, name: str, duration: float) -> tuple[int, int]:
        """Median RSS over the second quarter of the run and over the last quarter."""
        points = self.samples[name]
        second = [rss for at, rss in points if duration / 4 <= at < duration / 2]
        last = [rss for at, rss in points if at >= duration * 3 / 4]
        return int(statistics.median(second)), int(statistics.median(last))


@dataclass
class Queries:
    answered: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(postgres_store: PostgresStore, osmem_clone: Any) -> dict[str, str]:
    return {
        "STREAMFOLD_EVENT_STORE": event_store_url(postgres_store),
        "STREAMFOLD_SEARCH": osmem_clone.url,
        "STREAMFOLD_INDEX_PREFIX": "soak",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def api(
    environment: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    streamfold = Path(sys.executable).parent / "streamfold"
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [str(streamfold), "serve", "--port", str(port)],
            cwd=REPOSITORY,
            env={**os.environ, **environment},
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _answers(f"{url}/health"):
            assert time.monotonic() < deadline, "streamfold serve did not start"
            time.sleep(0.2)
        yield url, server
        server.terminate()
        server.wait(10)


def test_steady_load_with_queries_keeps_memory_flat_and_loses_nothing(
    environment: dict[str, str], api: tuple[str, Server], tmp_path: Path
) -> None:
    url, server = api
    workload = CrmWorkload(seed=17, users=max(20, int(SECONDS * RECORDS_PER_SECOND / 27)))
    batches = lambda_events(workload.records, batch_size=BATCH_SIZE)
    handlers = [HandlerProcess.start(environment, tmp_path / f"h{n}.log") for n in range(HANDLERS)]
    for handler in handlers:
        handler.wait_ready(60)
    pending: queue.Queue[dict[str, Any] | None] = queue.Queue()
    answers: list[dict[str, Any]] = []
    memory, queries = Memory(), Queries()
    stop = threading.Event()
    started = time.monotonic()

    workers = [
        threading.Thread(target=_handle, args=(handler, pending, answers), daemon=True)
        for handler in handlers
    ]
    watchers = [
        threading.Thread(target=_query, args=(url, stop, queries), daemon=True),
        threading.Thread(
            target=_sample,
            args=({f"handler {n}": h.pid for n, h in enumerate(handlers)} | {"api": server.pid},
                  started, stop, memory),
            daemon=True,
        ),
    ]  # fmt: skip
    for thread in workers + watchers:
        thread.start()
    interval = SECONDS / len(batches)
    for number, batch in enumerate(batches):  # paced: a steady stream, not a flood
        time.sleep(max(0.0, started + number * interval - time.monotonic()))
        pending.put(batch)
    for _ in workers:
        pending.put(None)
    for thread in workers:
        thread.join(SECONDS + 300)
    elapsed = time.monotonic() - started
    stop.set()
    for thread in watchers:
        thread.join(30)
    for handler in handlers:
        handler.stop()

    assert len(answers) == len(batches)
    failed = [a for a in answers if a["response"]["batchItemFailures"]]
    assert not failed, f"{len(failed)} batches failed"
    assert queries.answered > 0 and not queries.failed, queries.failed[:5]
    growth = {name: memory.growth(name, elapsed) for name in memory.samples}
    for name, (warm, last) in growth.items():
        assert last - warm <= ALLOWED_GROWTH_BYTES, f"{name}: RSS {warm} -> {last} bytes"
    with Streamfold.from_settings(Settings.from_environment(environment)) as app:
        found = searchable_documents(app)
    expected = expected_documents(workload.final_items())
    assert_same_documents(found, expected)

    latencies = sorted(queries.seconds)
    report_figures(
        "soak",
        {
            "seconds": round(elapsed, 1),
            "handler_processes": HANDLERS,
            "batches_delivered": len(batches),
            "records_delivered": len(workload.records),
            "records_per_second": round(len(workload.records) / elapsed, 1),
            "batches_failed": 0,
            "queries_answered": queries.answered,
            "queries_failed": 0,
            "query_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "query_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
            "rss_mib_warm_to_end": {
                name: [round(warm / 2**20, 1), round(last / 2**20, 1)]
                for name, (warm, last) in growth.items()
            },
            "documents_checked": sum(len(docs) for docs in expected.values()),
            "documents_lost_or_wrong": 0,
        },
    )


def _handle(
    handler: HandlerProcess,
    pending: queue.Queue[dict[str, Any] | None],
    answers: list[dict[str, Any]],
) -> None:
    number = 0
    while (batch := pending.get()) is not None:
        number += 1
        handler.send(number, batch)
        handler.wait_for("started", 120)
        answers.append(handler.wait_for("done", 120))


def _query(url: str, stop: threading.Event, queries: Queries) -> None:
    requests = [
        ("/v1/users/count", {"filter": {"type": "term", "field": "plan", "value": "pro"}}),
        ("/v1/images/search", {"text": "mountains sunset", "size": 10}),
        ("/v1/users/search", {"sort": [{"field": "lifetime_value_cents", "order": "desc"}]}),
    ]
    turn = 0
    while not stop.wait(0.1):
        path, body = requests[turn % len(requests)]
        turn += 1
        started = time.monotonic()
        try:
            request = urllib.request.Request(
                url + path, data=json.dumps(body).encode(), method="POST",
                headers={"content-type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=10) as response:
                json.loads(response.read())
            queries.answered += 1
            queries.seconds.append(time.monotonic() - started)
        except Exception as error:
            queries.failed.append(f"{path}: {error}")


def _sample(pids: Mapping[str, int], started: float, stop: threading.Event, memory: Memory) -> None:
    while not stop.wait(SAMPLE_SECONDS):
        at = time.monotonic() - started
        for name, pid in pids.items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    memory.add(name, at, int(line.split()[1]) * 1024)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
