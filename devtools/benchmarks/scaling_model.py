"""A discrete-event model of N stream handlers, calibrated by one measured handler.

What it simulates, per handler and per batch, in the product's order:

1. the rest of the handler (parsing, telemetry): CPU, then waiting;
2. recording (``WritePipeline.record``): CPU of the handler and of PostgreSQL, round
   trips, then the events table's insert lock (``LOCK TABLE ... EXCLUSIVE``), held for
   the insert and the commit; the batch is recorded when the lock is released;
3. folding (``DocumentProjector.catch_up``): a round trip for the head, then the
   projection lock; whoever holds it folds every batch recorded and not yet folded
   (CPU per batch folded, handler and PostgreSQL) plus a fixed part (round trips, the
   commit); a session that finds everything folded holds it for two round trips;
4. writing (``SearchSync.flush``): CPU of the handler, PostgreSQL and the search server,
   then the requests' latency.

CPU work runs on pools of cores shared in equal parts by whatever runs on them
(processor sharing); on this machine every process shares one pool of 2 cores, and
the latency proxies' CPU is spread over the stages in proportion to their waiting. The
OpenSearch-compatible test server writes one request at a time: a queue in front of
its CPU work. Other users of a shared machine are always-runnable jobs on its pool
(`background_of` estimates them from a measured run's counters). In Lambda each
handler has its own CPU, PostgreSQL and the search cluster their own pools, and no
proxy runs. Locks are first come, first served. Service times vary by ``jitter``
(seeded), or identical handlers starting together would move in lock-step.

Every per-batch figure comes from one measured single-handler run (`calibrate`, from
what ``streamfold bench concurrency --json`` prints): the model is then asked for N
handlers and designs nobody measured. Simplifications, stated: CPU per batch folded
does not shrink when several batches fold together (so grouped folds are predicted no
cheaper than separate ones); a flush costs the same whichever documents it finds; the
run queue wait of the calibration run counts as waiting.

    python -m devtools.benchmarks.scaling_model devtools/benchmarks/measurements/concurrency.json
"""

from __future__ import annotations

import heapq
import json
import math
import random
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Command = tuple[Any, ...]
Handler = Generator[Command, Any, None]

RECORDS_PER_BATCH = 100
MACHINE = {"client": "machine", "database": "machine", "search": "machine", "proxy": "machine"}
LAMBDA = {"client": "private", "database": "database", "search": "search", "proxy": None}


@dataclass(frozen=True)
class BatchCosts:
    """Seconds per batch of one handler alone; ``cpu`` maps a process group to CPU seconds."""

    other_cpu: Mapping[str, float]
    other_wait: float
    record_cpu: Mapping[str, float]
    record_wait: float
    insert_hold: float  # the events table's lock: insert and commit, waiting only
    fold_before: float  # the head's round trip and the lock statement's
    fold_cpu: Mapping[str, float]  # per batch folded, under the projection lock
    fold_hold_wait: float  # fixed part of a session that folds: round trips, commit
    empty_hold: float  # a session that finds nothing to fold
    flush_cpu: Mapping[str, float]
    flush_wait: float

    def cpu_per_batch(self) -> float:
        parts = (self.other_cpu, self.record_cpu, self.fold_cpu, self.flush_cpu)
        return sum(sum(part.values()) for part in parts)


@dataclass(frozen=True)
class Design:
    """What is simulated: how many handlers, on which CPU, under which locking."""

    handlers: int
    pools: Mapping[str, float] = field(default_factory=lambda: {"machine": 2.0})
    placement: Mapping[str, str | None] = field(default_factory=lambda: dict(MACHINE))
    partitions: int = 1  # independent event stores + projections, handlers spread evenly
    position_waiters: bool = False  # wait for the position needed instead of the lock
    # Each CPU demand and wait varies uniformly by up to this share of its mean (seeded):
    # identical handlers starting together would otherwise move in lock-step.
    jitter: float = 0.0
    seed: int = 7
    # Other users' always-runnable jobs on the "machine" pool (a shared machine's load).
    background: float = 0.0
    # The search server works on one request at a time (the OpenSearch-compatible test
    # server does: its bulk throughput does not grow with concurrent clients).
    serial_search: bool = True


@dataclass
class Outcome:
    handlers: int
    batches: int
    seconds: float
    projection_wait: float = 0.0
    projection_hold: float = 0.0
    insert_wait: float = 0.0
    sessions: int = 0
    batches_folded: int = 0
    empty_sessions: int = 0
    skipped_sessions: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.batches * RECORDS_PER_BATCH / self.seconds


class _Lock:
    def __init__(self) -> None:
        self.holder: int | None = None
        self.queue: deque[tuple[int, Callable[[], bool] | None, float]] = deque()


class Simulation:
    """Processor-sharing CPU pools, timers and first-come-first-served locks.

    A handler is a generator of commands: ``("cpu", pool, seconds)``, ``("wait",
    seconds)``, ``("acquire", lock, skip)`` (``skip``: None, or a test that lets a waiter
    leave without the lock; the generator then receives False), ``("release", lock)``.
    """

    def __init__(self, pools: Mapping[str, float], background: float = 0.0) -> None:
        self.now = 0.0
        self._capacity = dict(pools)
        self._background = {name: background if name == "machine" else 0.0 for name in pools}
        self._jobs: dict[str, dict[int, float]] = {name: {} for name in pools}
        self._timers: list[tuple[float, int, int]] = []
        self._sequence = 0
        self._locks: dict[str, _Lock] = {}
        self._handlers: dict[int, Handler] = {}
        self._ready: deque[tuple[int, Any]] = deque()
        self.lock_wait: dict[str, float] = {}
        self.cpu: dict[str, float] = {name: 0.0 for name in pools}

    def add(self, handler: Handler) -> None:
        number = len(self._handlers)
        self._handlers[number] = handler
        self._ready.append((number, None))

    def run(self) -> float:
        while True:
            while self._ready:
                number, value = self._ready.popleft()
                self._step(number, value)
            if not self._timers and not any(self._jobs.values()):
                return self.now
            self._advance()

    def _rate(self, pool: str) -> float:
        jobs = len(self._jobs[pool])
        if not jobs:
            return 0.0
        return min(1.0, self._capacity[pool] / (jobs + self._background[pool]))

    def _advance(self) -> None:
        until = self._timers[0][0] if self._timers else math.inf
        for pool, jobs in self._jobs.items():
            if jobs:
                until = min(until, self.now + min(jobs.values()) / self._rate(pool))
        elapsed = until - self.now
        for pool, jobs in self._jobs.items():
            rate = self._rate(pool)
            for number in list(jobs):
                jobs[number] -= rate * elapsed
                self.cpu[pool] += rate * elapsed
                if jobs[number] <= 1e-12:
                    del jobs[number]
                    self._ready.append((number, None))
        self.now = until
        while self._timers and self._timers[0][0] <= self.now + 1e-15:
            _, _, number = heapq.heappop(self._timers)
            self._ready.append((number, None))

    def _step(self, number: int, value: Any) -> None:
        try:
            command = self._handlers[number].send(value)
        except StopIteration:
            return
        kind = command[0]
        if kind == "cpu":
            _, pool, seconds = command
            if pool is None or seconds <= 0:
                self._ready.append((number, None))
            else:
                self._jobs[pool][number] = seconds
        elif kind == "wait":
            if command[1] <= 0:
                self._ready.append((number, None))
            else:
                self._sequence += 1
                heapq.heappush(self._timers, (self.now + command[1], self._sequence, number))
        elif kind == "acquire":
            _, name, skip = command
            lock = self._locks.setdefault(name, _Lock())
            if lock.holder is None:
                lock.holder = number
                self._ready.append((number, True))
            elif skip is not None and skip():
                self._ready.append((number, False))
            else:
                lock.queue.append((number, skip, self.now))
        elif kind == "release":
            lock = self._locks[command[1]]
            lock.holder = None
            self._ready.append((number, None))
            self._hand_over(command[1], lock)
        else:
            raise ValueError(f"unknown command {command!r}")

    def _hand_over(self, name: str, lock: _Lock) -> None:
        waiting: deque[tuple[int, Callable[[], bool] | None, float]] = deque()
        for number, skip, since in lock.queue:
            if skip is not None and skip():
                self.lock_wait[name] = self.lock_wait.get(name, 0.0) + self.now - since
                self._ready.append((number, False))
            else:
                waiting.append((number, skip, since))
        lock.queue = waiting
        if waiting:
            number, _, since = waiting.popleft()
            self.lock_wait[name] = self.lock_wait.get(name, 0.0) + self.now - since
            lock.holder = number
            self._ready.append((number, True))


@dataclass
class _Partition:
    recorded: int = 0
    folded: int = 0


def _reached(part: _Partition, position: int) -> Callable[[], bool]:
    return lambda: part.folded >= position


def simulate(costs: BatchCosts, design: Design, batches: int) -> Outcome:
    """Run ``batches`` batches spread evenly over ``design.handlers`` handlers."""
    simulation = Simulation(design.pools, design.background)
    partitions = [_Partition() for _ in range(design.partitions)]
    outcome = Outcome(design.handlers, batches, 0.0)
    hold = {"projection": 0.0}
    chance = random.Random(design.seed)

    def vary(seconds: float) -> float:
        if not design.jitter:
            return seconds
        return seconds * chance.uniform(1 - design.jitter, 1 + design.jitter)

    def cpu(parts: Mapping[str, float], times: int = 1) -> Iterable[Command]:
        for group, seconds in parts.items():
            yield ("cpu", design.placement.get(group), vary(seconds) * times)

    def wait(seconds: float) -> Command:
        return ("wait", vary(seconds))

    def handler(number: int, count: int) -> Handler:
        part = partitions[number % design.partitions]
        suffix = f"-{number % design.partitions}"
        for _ in range(count):
            yield from cpu(costs.other_cpu)
            yield wait(costs.other_wait)
            yield from cpu(costs.record_cpu)
            yield wait(costs.record_wait)
            yield ("acquire", "insert" + suffix, None)
            yield wait(costs.insert_hold)
            part.recorded += 1
            mine = part.recorded
            yield ("release", "insert" + suffix)
            yield wait(costs.fold_before)
            skip = _reached(part, mine) if design.position_waiters else None
            if (yield ("acquire", "projection" + suffix, skip)):
                started = simulation.now
                outcome.sessions += 1
                unfolded = part.recorded - part.folded
                if unfolded:
                    part.folded = part.recorded  # it reads every event recorded so far
                    outcome.batches_folded += unfolded
                    yield from cpu(costs.fold_cpu, unfolded)
                    yield wait(costs.fold_hold_wait)
                else:
                    outcome.empty_sessions += 1
                    yield wait(costs.empty_hold)
                hold["projection"] += simulation.now - started
                yield ("release", "projection" + suffix)
            else:
                outcome.skipped_sessions += 1
            flush = dict(costs.flush_cpu)
            search = flush.pop("search", 0.0)
            yield from cpu(flush)
            if design.serial_search:
                yield ("acquire", "search-server", None)
            yield from cpu({"search": search})
            if design.serial_search:
                yield ("release", "search-server")
            yield wait(costs.flush_wait)

    share, extra = divmod(batches, design.handlers)
    for number in range(design.handlers):
        simulation.add(handler(number, share + (1 if number < extra else 0)))
    outcome.seconds = simulation.run()
    outcome.projection_hold = hold["projection"]
    outcome.projection_wait = sum(
        v for k, v in simulation.lock_wait.items() if k.startswith("projection")
    )
    outcome.insert_wait = sum(v for k, v in simulation.lock_wait.items() if k.startswith("insert"))
    outcome.cpu = simulation.cpu
    return outcome


def calibrate(first: Mapping[str, Any], postgres_ms: float = 1.0) -> BatchCosts:
    """Per-batch costs from one single-handler row of ``bench concurrency --json``."""
    if first["processes"] != 1:
        raise ValueError("the model is calibrated by a run of one handler")
    batches = first["inserts"]
    stages = {name: _per(stage, batches) for name, stage in first["stages"].items()}
    cpu = {k: (v or 0.0) / batches for k, v in first["cpu_seconds"].items()}
    wall = first["seconds"] / batches
    record, fold, flush = stages["record"], stages["fold"], stages["flush"]
    insert_hold = first["insert_hold_seconds"] / batches
    fold_hold = first["lock_hold_seconds"] / first["lock_acquisitions"]
    fold_cpu = {"client": fold["cpu"], "database": fold["server_cpu"]}
    flush_cpu = {
        "client": flush["cpu"],
        "database": flush["server_cpu"],
        "search": cpu["search_server"],
    }
    record_cpu = {
        "client": record["cpu"],
        "database": record["server_cpu"] + cpu["postgres_background"],
    }
    staged_wall = record["wall"] + fold["wall"] + flush["wall"]
    other_cpu = {
        "client": max(cpu["handlers"] - record["cpu"] - fold["cpu"] - flush["cpu"], 0.0),
        "database": max(
            cpu["postgres_backends"] - record["server_cpu"] - fold["server_cpu"]
            - flush["server_cpu"], 0.0,
        ),
    }  # fmt: skip
    waits = {
        "record": max(record["wall"] - sum(record_cpu.values()) - insert_hold, 0.0),
        "fold_before": max(fold["wall"] - fold_hold, 0.0),
        "fold_hold": max(fold_hold - sum(fold_cpu.values()), 0.0),
        "flush": max(flush["wall"] - sum(flush_cpu.values()), 0.0),
        "other": max(wall - staged_wall - sum(other_cpu.values()), 0.0),
    }
    # Waiting for a core is not latency: take the measured run-queue seconds out of the
    # waits, stage by stage in proportion to the CPU each group spent there. The model
    # puts contention back through its pools (and ``background`` for other users).
    queued = {
        "client": first["handler_run_queue_share"] * first["seconds"] / batches,
        **{
            {"postgres_backends": "database", "search_server": "search"}[name]: value / batches
            for name, value in first.get("server_run_queue_seconds", {}).items()
        },
    }
    stage_cpu = {
        "other": other_cpu, "record": record_cpu, "fold_hold": fold_cpu, "flush": flush_cpu,
    }  # fmt: skip
    for group, seconds in queued.items():
        spent = sum(parts.get(group, 0.0) for parts in stage_cpu.values())
        for stage, parts in stage_cpu.items():
            if spent and parts.get(group):
                waits[stage] = max(waits[stage] - seconds * parts[group] / spent, 0.0)
    # The proxies' CPU is spent relaying round trips: spread it in proportion to waiting.
    total_wait = sum(waits.values()) + insert_hold or 1.0
    proxy = cpu["proxies"] / total_wait

    def with_proxy(parts: Mapping[str, float], waited: float) -> dict[str, float]:
        return {**parts, "proxy": proxy * waited}

    return BatchCosts(
        other_cpu=with_proxy(other_cpu, waits["other"]),
        other_wait=waits["other"],
        record_cpu=with_proxy(record_cpu, waits["record"] + insert_hold),
        record_wait=waits["record"],
        insert_hold=insert_hold,
        fold_before=waits["fold_before"],
        fold_cpu=with_proxy(fold_cpu, waits["fold_before"] + waits["fold_hold"]),
        fold_hold_wait=waits["fold_hold"],
        empty_hold=2 * postgres_ms / 1000,  # the position read and the commit
        flush_cpu=with_proxy(flush_cpu, waits["flush"]),
        flush_wait=waits["flush"],
    )


def _per(stage: Mapping[str, float], batches: int) -> dict[str, float]:
    return {key: value / batches for key, value in stage.items()}


JITTER = 0.5  # what `predict` and `scenarios` simulate with


def predict(
    costs: BatchCosts, batches: int, handlers: Sequence[int] = (1, 2, 4, 8), **design: Any
) -> list[Outcome]:
    design.setdefault("jitter", JITTER)
    return [simulate(costs, Design(count, **design), batches) for count in handlers]


def lambda_design(
    handlers: int, database_vcpus: float = 2.0, search_vcpus: float = 2.0, **design: Any
) -> Design:
    """Each handler on its own CPU; PostgreSQL and the search cluster on theirs."""
    pools = {"private": math.inf, "database": database_vcpus, "search": search_vcpus}
    design.setdefault("serial_search", False)  # a cluster, not the test server
    return Design(handlers, pools, dict(LAMBDA), **design)


def scenarios(costs: BatchCosts, batches: int) -> list[tuple[str, list[Outcome]]]:
    """Today's design and the alternatives, on this machine and in Lambda."""
    counts = (1, 2, 4, 8, 16, 32)
    on_machine: list[tuple[str, dict[str, Any]]] = [
        ("this machine (2 quiet cores), one projection lock, one folds for everyone", {}),
        ("this machine, waiters wait for their position", {"position_waiters": True}),
        ("this machine, 4 partitions", {"partitions": 4}),
    ]
    in_lambda: list[tuple[str, dict[str, Any]]] = [
        ("Lambda, PostgreSQL 2 vCPU, search 2 vCPU, one projection lock", {}),
        ("Lambda, PostgreSQL 2 vCPU, search 2 vCPU, waiters wait for their position",
         {"position_waiters": True}),
        ("Lambda, PostgreSQL 8 vCPU, search 8 vCPU, one projection lock",
         {"database_vcpus": 8.0, "search_vcpus": 8.0}),
        ("Lambda, PostgreSQL 8 vCPU, search 8 vCPU, 8 partitions",
         {"database_vcpus": 8.0, "search_vcpus": 8.0, "partitions": 8}),
    ]  # fmt: skip
    results = [
        (name, [simulate(costs, Design(n, jitter=JITTER, **options), batches) for n in counts])
        for name, options in on_machine
    ]
    results += [
        (name, [simulate(costs, lambda_design(n, jitter=JITTER, **options), batches)
                for n in counts])
        for name, options in in_lambda
    ]  # fmt: skip
    return results


def lock_bound(costs: BatchCosts, handlers: int) -> float:
    """Records/s one projection lock allows when each session folds ``handlers`` batches.

    The lock passes around: one session folds the batches recorded meanwhile, and each
    other handler then holds it for an empty session (waiters that wait for their
    position skip those). No proxy in Lambda: its CPU is left out.
    """
    fold_cpu = sum(seconds for group, seconds in costs.fold_cpu.items() if group != "proxy")
    folding = costs.fold_hold_wait + handlers * fold_cpu
    cycle = folding + (handlers - 1) * costs.empty_hold
    return handlers * RECORDS_PER_BATCH / cycle


def load_runs(path: Path) -> list[list[dict[str, Any]]]:
    """The runs of a measurements file: a list of ``bench concurrency --json`` outputs."""
    data = json.loads(path.read_text())
    return data["runs"] if isinstance(data, dict) else data


def median_run(runs: Sequence[Sequence[Mapping[str, Any]]]) -> Mapping[str, Any]:
    """The single-handler row of the run whose N=1 throughput is the median."""
    firsts = sorted((run[0] for run in runs), key=lambda row: row["records_per_second"])
    return firsts[len(firsts) // 2]


def table(costs: BatchCosts, batches: int) -> list[str]:
    base = simulate(costs, Design(1, jitter=JITTER), batches).records_per_second
    lines = [
        f"calibration: {1000 * costs.cpu_per_batch():.1f} ms CPU per batch of "
        f"{RECORDS_PER_BATCH}, projection lock held {1000 * costs.fold_hold_wait:.1f} ms + "
        f"{1000 * sum(costs.fold_cpu.values()):.1f} ms per batch folded, insert lock "
        f"{1000 * costs.insert_hold:.1f} ms; {batches} batches",
        f"records/s (ratio to one handler on this machine, {base:,.0f} records/s):",
    ]
    for name, outcomes in scenarios(costs, batches):
        cells = "  ".join(
            f"N={o.handlers}: {o.records_per_second:,.0f} ({o.records_per_second / base:.2f}x)"
            for o in outcomes
        )
        lines.append(f"  {name}\n    {cells}")
    lines.append(
        "one projection lock alone, folding N batches per session (Lambda limit): "
        + "  ".join(f"N={n}: {lock_bound(costs, n):,.0f}" for n in (1, 2, 4, 8, 16, 32))
    )
    return lines


def spread(values: Sequence[float]) -> str:
    ordered = sorted(values)
    middle = ordered[len(ordered) // 2] if len(ordered) % 2 else (
        (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
    )  # fmt: skip
    return f"{middle:.3g} ({ordered[0]:.3g}-{ordered[-1]:.3g})"


def predicted_ratios(run: Sequence[Mapping[str, Any]]) -> list[float]:
    """The model's ratios for a measured run: calibrated by its N=1, each N under the
    other users' load measured while that N ran (`background_of`)."""
    costs = calibrate(run[0])
    batches = run[0]["inserts"]
    speeds = [
        simulate(
            costs, Design(row["processes"], jitter=JITTER, background=background_of(row)),
            batches,
        ).records_per_second
        for row in run
    ]  # fmt: skip
    return [speed / speeds[0] for speed in speeds]


def search_bound(row: Mapping[str, Any]) -> float:
    """The search server's bound over this row (see `concurrency.search_bound_ratio`)."""
    spent = row["cpu_seconds"].get("search_server")
    return row["seconds"] / spent if spent else math.inf


def summary(runs: Sequence[Sequence[Mapping[str, Any]]]) -> list[str]:
    """Median (min-max) over the runs of each N's figures, measured and modelled."""
    lines = [f"{len(runs)} runs; median (min-max):"]
    predicted = [predicted_ratios(run) for run in runs]
    firsts = [(run[0]["cpu_bound_ratio"], search_bound(run[0])) for run in runs]
    for index, row in enumerate(runs[0]):
        rows = [run[index] for run in runs]

        def of(key: str, rows: list[Mapping[str, Any]] = rows) -> str:
            return spread([float(r[key]) for r in rows])

        lines.append(
            f"  N={row['processes']}: {of('records_per_second')} records/s, "
            f"{of('ratio_to_first')}x; model {spread([p[index] for p in predicted])}x; "
            f"bounds: CPU {spread([bounds[0] for bounds in firsts])}x, search server "
            f"{spread([bounds[1] for bounds in firsts])}x; search server busy "
            f"{spread([r['cpu_seconds']['search_server'] / r['seconds'] for r in rows])} cores; "
            f"CPU {of('cpu_ms_per_record')} ms/record; projection lock wait "
            f"{of('lock_wait_seconds')} s, held {of('lock_hold_seconds')} s; insert lock wait "
            f"{of('insert_wait_seconds')} s, held {of('insert_hold_seconds')} s; handler CPU "
            f"{of('handler_on_cpu_share')}, run queue {of('handler_run_queue_share')}, "
            f"blocked {of('handler_blocked_share')}; machine busy "
            f"{of('machine_busy_share')}, this work {of('cpu_busy_share')}; 1-min load "
            f"{spread([r['load_average'][0] for r in rows])}; other users' runnable jobs "
            f"{spread([background_of(r) for r in rows])}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m devtools.benchmarks.scaling_model MEASUREMENTS.json")
        return 2
    runs = load_runs(Path(args[0]))
    for line in summary(runs):
        print(line)
    first = median_run(runs)
    print(
        f"\nthe model, calibrated by the median single-handler run ({first['records']} "
        "records), on a quiet machine and in Lambda:"
    )
    for line in table(calibrate(first), first["inserts"]):
        print(line)
    return 0


def background_of(row: Mapping[str, Any], cores: float = 2.0) -> float:
    """Other users' runnable jobs during a measured run, from the machine's counters.

    Under fair sharing, other users' jobs and ours get cores in proportion to how many
    are runnable: ``others / ours = background / runnable``. ``ours`` and ``others``
    are the cores busy with this work and with the rest (``/proc/stat``); ``runnable``
    is this work's CPU plus its run-queue seconds over the wall time.
    """
    ours = row["cpu_busy_share"] * cores
    others = max((row.get("machine_busy_share") or 0.0) * cores - ours, 0.0)
    if not ours:
        return 0.0
    cpu = sum(v for v in row["cpu_seconds"].values() if v is not None)
    queued = row["handler_run_queue_share"] * row["processes"] * row["seconds"]
    queued += sum(row.get("server_run_queue_seconds", {}).values())
    runnable = (cpu + queued) / row["seconds"]
    return runnable * others / ours


if __name__ == "__main__":
    raise SystemExit(main())
