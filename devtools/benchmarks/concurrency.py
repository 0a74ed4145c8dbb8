"""Several stream-handler processes at once on PostgreSQL and OpenSearch, over a slow network.

Each of N processes runs the real Lambda entry point
(``infrastructure.lambda_handlers.stream_handler``) on its share of the same workload's
batches (DynamoDB Streams shape, 100 records each), all starting together. Between them
and the servers sit latency proxies (`devtools.latency_proxy`): ``postgres_ms`` per
PostgreSQL round trip, ``search_ms`` per OpenSearch request. Every N starts from an empty
database and fresh indices, created before the clock starts, as a deployment's are.

Reported per N: records per second over all processes (wall clock, first batch to the
last answer) and the ratio to N=1; the waits on the projection lock and on the events
table's insert lock (`devtools.benchmarks.lock_wait`); and the CPU seconds of every
process involved (`devtools.benchmarks.process_cpu`): the handlers, the database's
PostgreSQL backends (sampled from ``pg_stat_activity`` pids while they live), the
PostgreSQL background processes, the search server and this process (the latency
proxies are its threads). From N=1's figures follows a bound no design can beat on
this machine: ``cores x wall seconds / CPU seconds of everything`` times N=1's
throughput, were every core busy with this work alone.

Records a handler answers to retry (a search request timed out on a loaded machine,
say) are handled again, as Lambda redelivers them; ``redeliveries`` counts the batches
that needed it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from devtools.benchmarks import process_cpu
from devtools.benchmarks.figures import median_item, shown, spread
from devtools.benchmarks.scratch import scratch_database
from devtools.demo import CrmWorkload, lambda_events
from devtools.latency_proxy import LatencyProxy
from infrastructure.composition import Streamfold
from infrastructure.settings import OpenSearchTarget, PostgresStore, Settings

BATCH_SIZE = 100
_SAMPLE_SECONDS = 0.25  # how often the backends' CPU is read while the handlers run
_MONITOR = "streamfold-bench-monitor"  # the connections that read pids, not counted
_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND application_name <> '" + _MONITOR + "'"
)
_BACKGROUND = (
    "SELECT pid FROM pg_stat_activity WHERE backend_type IN "
    "('checkpointer', 'background writer', 'walwriter')"
)


@dataclass(frozen=True)
class ConcurrencyRow:
    processes: int
    records: int
    seconds: float
    lock_wait_seconds: float
    lock_acquisitions: int
    lock_hold_seconds: float = 0.0
    events_folded: int = 0
    empty_catch_ups: int = 0  # catch-ups that found every event already folded
    insert_wait_seconds: float = 0.0
    insert_hold_seconds: float = 0.0
    inserts: int = 0
    insert_call_seconds: float = 0.0
    documents_written: int = 0
    redeliveries: int = 0  # batches whose failed records were handled again
    # CPU seconds over the timed run, by process group; None where not measurable.
    cpu: dict[str, float | None] = field(default_factory=dict)
    handler_on_cpu: float = 0.0  # the handlers' threads on a core (schedstat)
    handler_run_queue: float = 0.0  # runnable, waiting for a core
    server_run_queue: dict[str, float] = field(default_factory=dict)  # same, of the servers
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    machine_busy: float | None = None  # share of all cores busy, any user's processes
    load: tuple[float, float, float] | None = None  # at the start

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_total(self) -> float:
        """CPU seconds of every process that was measured."""
        return sum(value for value in self.cpu.values() if value is not None)

    @property
    def handler_seconds(self) -> float:
        """Wall seconds of all handlers together (each ran for the whole run, or nearly)."""
        return self.processes * self.seconds


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
    search_host, search_port = search.hostname or "127.0.0.1", search.port or 80
    search_pid = (
        process_cpu.listening_pid(search_port) if search_host in ("127.0.0.1", "localhost")
        else None
    )  # fmt: skip
    rows = []
    for count in processes:
        with scratch_database(postgres_admin) as database, LatencyProxy(
            (database.host, database.port), latency_ms=postgres_ms
        ) as pg_wire, LatencyProxy((search_host, search_port), latency_ms=search_ms
        ) as search_wire:  # fmt: skip
            environ = {
                "STREAMFOLD_EVENT_STORE": f"postgresql://{database.user}@127.0.0.1:"
                f"{pg_wire.port}/{database.dbname}",
                "STREAMFOLD_SEARCH": search_wire.url,
                "STREAMFOLD_INDEX_PREFIX": f"conc-{uuid.uuid4().hex[:8]}",
            }
            prepare(database, search_url, environ["STREAMFOLD_INDEX_PREFIX"])
            rows.append(run_processes(count, events, environ, database, search_pid))
    return rows


def prepare(database: PostgresStore, search_url: str, prefix: str) -> None:
    """Tables and indices, as a deployment creates them before any traffic."""
    settings = Settings(database, OpenSearchTarget(search_url, "none"), {}, prefix)
    with Streamfold.from_settings(settings) as app:
        app.index.prepare()


def _connect(database: PostgresStore) -> psycopg.Connection[Any]:
    """A direct connection, not through the latency proxy, for reading pids."""
    return psycopg.connect(
        host=database.host, port=database.port, user=database.user,
        password=database.password, dbname=database.dbname, autocommit=True,
        application_name=_MONITOR,
    )  # fmt: skip


class _ServerSampler:
    """Reads the CPU of the database's backends every quarter second while the run lasts."""

    def __init__(self, database: PostgresStore) -> None:
        self._connection = _connect(database)
        self.backends = process_cpu.CpuLedger()
        self.background = process_cpu.CpuLedger()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _pids(self, statement: str) -> list[int]:
        return [row[0] for row in self._connection.execute(statement).fetchall()]

    def sample(self, *, at_start: bool = False) -> None:
        self.backends.sample(self._pids(_BACKENDS), at_start=at_start)
        self.background.sample(self._pids(_BACKGROUND), at_start=at_start)

    @contextlib.contextmanager
    def running(self) -> Iterator[_ServerSampler]:
        self.sample(at_start=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self.sample()
            self._connection.close()

    def _run(self) -> None:
        while not self._stop.wait(_SAMPLE_SECONDS):
            self.sample()


def run_processes(
    count: int,
    events: list[dict[str, Any]],
    environ: dict[str, str],
    database: PostgresStore,
    search_pid: int | None = None,
) -> ConcurrencyRow:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(count + 1)
    measured = context.Barrier(count + 1)  # the handlers live until their backends are read
    results = context.Queue()
    shares = [events[number::count] for number in range(count)]
    # With one handler the database's backends are its own: their CPU per stage is exact.
    direct = database if count == 1 else None
    workers = [
        context.Process(
            target=handle_share, args=(share, environ, direct, ready, measured, results)
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    sampler = _ServerSampler(database)
    load = process_cpu.load_average()
    with contextlib.suppress(threading.BrokenBarrierError):  # a process failed: reported below
        ready.wait()  # every process has wired its handler
    with sampler.running():
        started = time.perf_counter()
        machine = process_cpu.machine_time()
        search = process_cpu.CpuLedger()
        search.sample([search_pid] if search_pid else [], at_start=True)
        own = resource.getrusage(resource.RUSAGE_SELF)
        answers = [results.get() for _ in workers]
        seconds = time.perf_counter() - started
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        search.sample([search_pid] if search_pid else [])
        machine_after = process_cpu.machine_time()
    with contextlib.suppress(threading.BrokenBarrierError):
        measured.wait()
    for worker in workers:
        worker.join()
    failed = [answer["error"] for answer in answers if answer.get("error")]
    if failed:
        raise RuntimeError(f"a handler process failed: {failed[0]}")
    timings = [answer["timings"] for answer in answers]
    cpu: dict[str, float | None] = {
        "handlers": sum(answer["cpu"] for answer in answers),
        "postgres_backends": sampler.backends.spent,
        "postgres_background": sampler.background.spent,
        "search_server": search.spent if search.latest else None,
        "proxies": (own_after.ru_utime + own_after.ru_stime) - (own.ru_utime + own.ru_stime),
    }  # fmt: skip
    busy = None
    if machine is not None and machine_after is not None:
        spent = machine_after - machine
        busy = spent.busy / spent.total if spent.total else None
    return ConcurrencyRow(
        processes=count,
        records=sum(answer["records"] for answer in answers),
        seconds=seconds,
        lock_wait_seconds=_sum(timings, "projection_lock", "seconds"),
        lock_acquisitions=int(_sum(timings, "projection_lock", "acquisitions")),
        lock_hold_seconds=_sum(timings, "projection_lock", "hold_seconds"),
        events_folded=int(_sum(timings, "projection_lock", "events_folded")),
        empty_catch_ups=int(sum(t["projection_lock"].get("empty_catch_ups", 0) for t in timings)),
        insert_wait_seconds=_sum(timings, "insert_lock", "wait_seconds"),
        insert_hold_seconds=_sum(timings, "insert_lock", "hold_seconds"),
        inserts=int(_sum(timings, "insert_lock", "inserts")),
        insert_call_seconds=_sum(timings, "insert_lock", "call_seconds"),
        documents_written=sum(t["documents_written"] for t in timings),
        redeliveries=sum(answer.get("retries", 0) for answer in answers),
        cpu=cpu,
        handler_on_cpu=sum(answer["on_cpu"] for answer in answers),
        handler_run_queue=sum(answer["run_queue"] for answer in answers),
        server_run_queue={
            "postgres_backends": sampler.backends.run_queue,
            "search_server": search.run_queue,
        },
        stages={
            name: {key: sum(t["stages"][name][key] for t in timings) for key in stage}
            for name, stage in timings[0]["stages"].items()
        },
        machine_busy=busy,
        load=load,
    )


def _sum(timings: list[dict[str, Any]], part: str, key: str) -> float:
    return float(sum(timing[part][key] for timing in timings))


def handle_share(
    events: list[dict[str, Any]],
    environ: dict[str, str],
    direct: PostgresStore | None,
    ready: Any,
    measured: Any,
    results: Any,
) -> None:
    """One handler process: wire the handler, wait for the others, handle its batches."""
    os.environ.update(environ)
    # The handler logs a JSON line and metrics per batch, as in Lambda; not wanted here.
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - for the life of the process
    from devtools.benchmarks.lock_wait import timing_handler
    from infrastructure.lambda_handlers import stream_handler

    try:
        stream_handler({"Records": []}, None)  # wires the composition root, untimed
        backends = _BackendClock(direct) if direct is not None else None
        with timing_handler(backends.seconds if backends else None) as timings:
            ready.wait()
            schedule = process_cpu.schedule()
            cpu = time.process_time()
            records = retries = 0
            for event in events:
                retries += _handle(stream_handler, event)
                records += len(event["Records"])
            cpu = time.process_time() - cpu
            now = process_cpu.schedule()
            spent = now - schedule if now is not None and schedule is not None else None
        results.put(
            {"records": records, "cpu": cpu, "timings": timings.as_dict(), "retries": retries,
             "on_cpu": spent.on_cpu if spent else cpu,
             "run_queue": spent.run_queue if spent else 0.0}
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises
        results.put({"error": f"{type(error).__name__}: {error}"})
        ready.abort()
    with contextlib.suppress(threading.BrokenBarrierError):
        measured.wait()  # the parent reads this process's backends before they close


_REDELIVERIES = 5


def _handle(handler: Any, event: dict[str, Any]) -> int:
    """Handle a batch as Lambda does: the records it answers to retry come again.

    Returns how many times some came again; raises if they still fail after that.
    """
    for again in range(_REDELIVERIES + 1):
        answer = handler(event, None)
        failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
        if not failed:
            return again
        records = [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] in failed]
        event = {**event, "Records": records}
    raise RuntimeError(f"{len(failed)} records still to retry after {_REDELIVERIES} deliveries")


class _BackendClock:
    """CPU seconds of the database's backends so far (all of them: exact with one handler)."""

    def __init__(self, database: PostgresStore) -> None:
        self._connection = _connect(database)
        self._pids: list[int] = []
        self._calls = 0

    def seconds(self) -> float:
        if self._calls % 16 == 0:  # the pool may open a connection: look again now and then
            self._pids = [row[0] for row in self._connection.execute(_BACKENDS).fetchall()]
        self._calls += 1
        return sum(process_cpu.cpu_seconds(pid) or 0.0 for pid in self._pids)


def bound_ratio(first: ConcurrencyRow, cores: int | None = None) -> float | None:
    """The most any design could gain over ``first`` on this machine's cores.

    ``first`` spent ``cpu_total`` CPU seconds on ``records`` in ``seconds``: with every
    core busy with this work alone, records per second cannot exceed
    ``cores / (cpu_total / records)``; divided by ``first``'s records per second that is
    ``cores x seconds / cpu_total``. None when nothing was measured.
    """
    cores = cores or os.cpu_count() or 1
    if not first.cpu_total:
        return None
    return cores * first.seconds / first.cpu_total


def search_bound_ratio(first: ConcurrencyRow) -> float | None:
    """The most the search server allows over ``first``, serving one request at a time.

    The OpenSearch-compatible test server writes bulk requests one after the other (its
    documents per second do not grow with concurrent clients): it cannot spend more than
    one CPU second per second, so records per second cannot exceed ``records /
    search CPU seconds``; over ``first``'s that is ``seconds / search CPU seconds``.
    """
    spent = first.cpu.get("search_server")
    return first.seconds / spent if spent else None


def describe(rows: Sequence[ConcurrencyRow]) -> list[dict[str, Any]]:
    base = rows[0].records_per_second if rows else 1.0
    bound = bound_ratio(rows[0]) if rows else None
    search_bound = search_bound_ratio(rows[0]) if rows else None
    cores = os.cpu_count() or 1
    figures: list[dict[str, Any]] = [
        {
            "processes": row.processes,
            "records": row.records,
            "records_per_second": round(row.records_per_second),
            "ratio_to_first": round(row.records_per_second / base, 2),
            "cpu_bound_ratio": None if bound is None else round(bound, 2),
            "search_bound_ratio": None if search_bound is None else round(search_bound, 2),
            "lock_wait_seconds": round(row.lock_wait_seconds, 2),
            "lock_acquisitions": row.lock_acquisitions,
            "lock_hold_seconds": round(row.lock_hold_seconds, 2),
            "events_folded": row.events_folded,
            "empty_catch_ups": row.empty_catch_ups,
            "insert_wait_seconds": round(row.insert_wait_seconds, 2),
            "insert_hold_seconds": round(row.insert_hold_seconds, 2),
            "inserts": row.inserts,
            "insert_call_seconds": round(row.insert_call_seconds, 2),
            "documents_written": row.documents_written,
            "redeliveries": row.redeliveries,
            "seconds": round(row.seconds, 2),
            "cpu_seconds": {k: None if v is None else round(v, 2) for k, v in row.cpu.items()},
            "cpu_ms_per_record": round(1000 * row.cpu_total / row.records, 3),
            "cpu_busy_share": round(row.cpu_total / (cores * row.seconds), 2),
            "machine_busy_share": None if row.machine_busy is None else round(row.machine_busy, 2),
            # Each handler's wall time: on a core, runnable but waiting for one, blocked
            # (network round trips and lock waits, which are round trips too).
            "handler_on_cpu_share": round(row.handler_on_cpu / row.handler_seconds, 2),
            "handler_run_queue_share": round(row.handler_run_queue / row.handler_seconds, 2),
            "server_run_queue_seconds": {
                name: round(value, 2) for name, value in row.server_run_queue.items()
            },
            "handler_blocked_share": round(
                1 - (row.handler_on_cpu + row.handler_run_queue) / row.handler_seconds, 2
            ),
            "stages": {
                name: {key: round(value, 3) for key, value in stage.items()}
                for name, stage in row.stages.items()
            },
            "load_average": row.load,
        }
        for row in rows
    ]
    if figures and figures[0]["processes"] == 1:
        # What the model calibrated by this N=1 predicts for the others: under the other
        # users' load measured while each N ran, and on a quiet machine.
        from devtools.benchmarks import scaling_model

        costs = scaling_model.calibrate(figures[0])
        quiet = scaling_model.predict(
            costs, figures[0]["inserts"], [row["processes"] for row in figures],
            pools={"machine": float(cores)},
        )  # fmt: skip
        loaded = scaling_model.predicted_ratios(figures)
        for row, outcome, ratio in zip(figures, quiet, loaded, strict=True):
            row["model_ratio"] = round(ratio, 2)
            row["model_quiet_ratio"] = round(
                outcome.records_per_second / quiet[0].records_per_second, 2
            )
    return figures


# The figures of each N given as a median with their minimum and maximum over the runs,
# and their decimals; each run's ratios are to that run's own first N.
SPREAD_FIGURES: dict[str, int] = {
    "records_per_second": 0,
    "ratio_to_first": 2,
    "cpu_bound_ratio": 2,
    "lock_wait_seconds": 2,
}


def summarize(runs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Runs described by `describe` (the same N in each) as one row per N: each figure
    of ``SPREAD_FIGURES`` as its median, minimum and maximum over the runs."""
    if not runs:
        return []
    counts = [row["processes"] for row in runs[0]]
    if any([row["processes"] for row in run] != counts for run in runs):
        raise ValueError("every run must measure the same numbers of processes")
    summary = []
    for position, count in enumerate(counts):
        rows = [run[position] for run in runs]
        row: dict[str, Any] = {"processes": count, "runs": len(rows)}
        for name, digits in SPREAD_FIGURES.items():
            values = [r[name] for r in rows if r.get(name) is not None]
            row[name] = spread(values, digits) if values else None
        summary.append(row)
    return summary


def median_run(runs: Sequence[Sequence[dict[str, Any]]]) -> Sequence[dict[str, Any]]:
    """The run whose last N reached the median ratio to its first (the run the detailed
    lines are printed from)."""
    return median_item(runs, key=lambda run: run[-1]["ratio_to_first"])


def summary_lines(summary: Sequence[dict[str, Any]]) -> list[str]:
    """One line per N: its figures' medians with their minimum and maximum."""
    return [
        f"  N={row['processes']:<2} {shown(row['records_per_second'])} records/s, "
        f"ratio to N={summary[0]['processes']} {shown(row['ratio_to_first'], 'x')}, "
        f"CPU bound {shown(row['cpu_bound_ratio'], 'x')}, "
        f"projection lock wait {shown(row['lock_wait_seconds'], ' s')}"
        for row in summary
    ]


def report_lines(figures: Sequence[dict[str, Any]]) -> list[str]:
    """The table `streamfold bench concurrency` prints, from `describe`'s figures."""
    if not figures:
        return []
    first = figures[0]
    bound = first["cpu_bound_ratio"]
    cpu = first["cpu_seconds"]
    lines = [
        f"  N={first['processes']} CPU seconds: "
        + ", ".join(f"{k} {'not measured' if v is None else v}" for k, v in cpu.items())
        + f" over {first['seconds']} s wall",
        f"  CPU bound: {os.cpu_count()} cores x {first['seconds']} s / "
        f"{sum(v for v in cpu.values() if v is not None):.2f} CPU s = "
        f"{bound}x N={first['processes']} at most, whatever the design",
        f"  search server at N={first['processes']}'s cost per record (one request at a time): "
        f"{first['seconds']} s / {cpu.get('search_server')} CPU s = "
        f"{first.get('search_bound_ratio')}x N={first['processes']}, a bound only while that "
        "cost does not fall with fuller bulk requests",
    ]
    for row in figures:
        waits = (
            f"projection lock wait {row['lock_wait_seconds']} s over "
            f"{row['lock_acquisitions']} acquisitions (held {row['lock_hold_seconds']} s, "
            f"{row.get('empty_catch_ups')} catch-ups found nothing to fold), "
            f"insert lock wait {row['insert_wait_seconds']} s over {row['inserts']} inserts "
            f"(held {row['insert_hold_seconds']} s)"
        )
        lines.append(
            f"  N={row['processes']:<2} {row['records_per_second']:>7,} records/s "
            f"{row['ratio_to_first']:>5}x (CPU bound {bound}x, search server "
            f"{row.get('search_bound_ratio')}x; "
            f"model {row.get('model_ratio')}x, quiet machine {row.get('model_quiet_ratio')}x)  "
            f"CPU {row['cpu_ms_per_record']} ms/record, cores {row['cpu_busy_share']:.0%} "
            f"busy with it ({row['machine_busy_share']} all users)  "
            f"handler: CPU {row['handler_on_cpu_share']:.0%}, run queue "
            f"{row['handler_run_queue_share']:.0%}, blocked {row['handler_blocked_share']:.0%}"
        )
        queued = row.get("server_run_queue_seconds", {})
        if row.get("redeliveries"):
            waits += f"; {row['redeliveries']} batches redelivered"
        lines.append(
            f"        {waits}; servers waiting for a core: "
            + ", ".join(f"{k} {v} s" for k, v in queued.items())
            + f"; load {row['load_average']}"
        )
    return lines
