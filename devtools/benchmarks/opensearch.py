"""streamfold on PostgreSQL and OpenSearch against the tutorials' naive consumer.

The naive consumer is what the usual tutorials show: one ``index`` (or ``delete``) call per
stream record, the document straight from the record's NewImage, no event store, no
denormalization. streamfold does strictly more: it records domain events, folds them into
denormalized documents with fan-out, and writes them with version guards. Both run in one
process, on the same workload, against the same OpenSearch.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeDeserializer
from opensearchpy import NotFoundError, OpenSearch

from devtools.benchmarks.figures import median_item, spread
from devtools.demo import CrmWorkload, lambda_events
from devtools.latency_proxy import LatencyProxy
from infrastructure.composition import Streamfold
from infrastructure.settings import OpenSearchTarget, PostgresStore, Settings


@dataclass
class ComparisonFigures:
    records: int
    naive_seconds: float
    streamfold_seconds: float
    stage_seconds: dict[str, float]

    @property
    def naive_records_per_second(self) -> float:
        return self.records / self.naive_seconds

    @property
    def streamfold_records_per_second(self) -> float:
        return self.records / self.streamfold_seconds

    @property
    def speedup(self) -> float:
        return self.naive_seconds / self.streamfold_seconds


def run_naive(client: OpenSearch, records: list[dict[str, Any]], prefix: str) -> float:
    """One request per record, the tutorial way; returns the seconds it took."""
    deserializer = TypeDeserializer()
    started = time.perf_counter()
    for record in records:
        change = record["dynamodb"]
        table = record["eventSourceARN"].split("/")[1]
        keys = {k: deserializer.deserialize(v) for k, v in change["Keys"].items()}
        doc_id = "|".join(str(keys[k]) for k in sorted(keys))
        index = f"{prefix}-{table}"
        if record["eventName"] == "REMOVE":
            with contextlib.suppress(NotFoundError):
                client.delete(index=index, id=doc_id)
            continue
        image = {k: deserializer.deserialize(v) for k, v in change["NewImage"].items()}
        body = json.loads(json.dumps(image, default=_plain))
        client.index(index=index, id=doc_id, body=body)
    return time.perf_counter() - started


def _plain(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    return int(value) if value == int(value) else float(value)


def run_streamfold(
    events: list[dict[str, Any]], search_url: str, postgres: PostgresStore, prefix: str
) -> tuple[float, dict[str, float]]:
    """The stream handler's pipeline, batch by batch; the seconds and the seconds per stage."""
    settings = Settings(
        event_store=postgres,
        search=OpenSearchTarget(search_url, "none"),
        tables={},
        index_prefix=prefix,
    )
    app = Streamfold.from_settings(settings)
    stages: Counter[str] = Counter()
    try:
        app.index.prepare()  # a deployment creates its indices once, before any traffic
        started = time.perf_counter()
        for event in events:
            outcome = app.ingestion.handle(event)
            if outcome.failed:
                raise RuntimeError(f"a benchmark batch failed: {outcome.error}")
            stages.update(outcome.seconds)
        return time.perf_counter() - started, dict(stages)
    finally:
        app.close()


def create_naive_indices(client: OpenSearch, records: list[dict[str, Any]], prefix: str) -> None:
    """The naive consumer's indices, before its clock starts, as streamfold's are."""
    for table in sorted({record["eventSourceARN"].split("/")[1] for record in records}):
        client.indices.create(index=f"{prefix}-{table}")


def compare(
    search_url: str,
    postgres: PostgresStore,
    users: int,
    batch_size: int,
    seed: int = 5,
    latency_ms: float = 0.0,
    postgres_latency_ms: float = 0.0,
) -> ComparisonFigures:
    """Both consumers on the same records, ``latency_ms`` added to each OpenSearch request
    (both consumers) and ``postgres_latency_ms`` to each PostgreSQL round trip."""
    workload = CrmWorkload(seed=seed, users=users)
    records = workload.records
    suffix = uuid.uuid4().hex[:6]
    search = urlsplit(search_url)
    with (
        delayed(search.hostname or "127.0.0.1", search.port or 80, latency_ms) as search_at,
        delayed(postgres.host, postgres.port, postgres_latency_ms) as postgres_at,
    ):
        url = f"http://{search_at[0]}:{search_at[1]}"
        client = OpenSearch(hosts=[url])
        create_naive_indices(client, records, f"naive-{suffix}")
        try:
            naive = run_naive(client, records, f"naive-{suffix}")
            events = lambda_events(records, batch_size)
            store = replace(postgres, host=postgres_at[0], port=postgres_at[1])
            streamfold, stages = run_streamfold(events, url, store, f"bench-{suffix}")
        finally:
            # The next run finds the server as this one did.
            client.indices.delete(index=f"*-{suffix}*", ignore_unavailable=True)
    return ComparisonFigures(len(records), naive, streamfold, stages)


def describe_runs(runs: Sequence[ComparisonFigures]) -> dict[str, Any]:
    """The runs' figures as medians with their minimum and maximum, the stages of the run
    whose speedup is the median, and every run's figures."""
    median_run = median_item(runs, key=lambda run: run.speedup)
    return {
        "records": runs[0].records,
        "runs": len(runs),
        "naive_records_per_second": spread([run.naive_records_per_second for run in runs]),
        "streamfold_records_per_second": spread(
            [run.streamfold_records_per_second for run in runs]
        ),
        "speedup": spread([run.speedup for run in runs], digits=2),
        "median_run_stage_seconds": {k: round(v, 2) for k, v in median_run.stage_seconds.items()},
        "each_run": [
            {
                "naive_records_per_second": round(run.naive_records_per_second),
                "streamfold_records_per_second": round(run.streamfold_records_per_second),
                "speedup": round(run.speedup, 2),
            }
            for run in runs
        ],
    }


@contextlib.contextmanager
def delayed(host: str, port: int, latency_ms: float) -> Iterator[tuple[str, int]]:
    """Where to connect to reach ``host:port`` with ``latency_ms`` more per round trip."""
    if not latency_ms:
        yield host, port
        return
    with LatencyProxy((host, port), latency_ms=latency_ms) as proxy:
        yield "127.0.0.1", proxy.port
