"""Lambda's delivery on a bad day, to several handler processes, some killed mid-batch.

A `ChaosDelivery` plays an event source mapping: it hands batches to handler processes,
re-sends every batch that was not answered with success (from the first failed record,
as Lambda does with a partial batch response), re-sends a whole batch whose handler was
killed, and now and then re-sends a batch that had succeeded, from a record in its middle
(the retry Powertools' batch processor causes). Every decision comes from the seed, so a
failing run can be replayed; the exact interleaving of processes cannot be.

>>> delivery = ChaosDelivery(environment, seed=7, handlers=3, log_dir=tmp_path)
>>> figures = delivery.run(chaos_events(records, bad, seed=7), timeout=120)
>>> figures.kills_mid_batch
2
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infrastructure.adapters.streams import parse_lambda_event
from tests.chaos.handler_processes import HandlerProcess
from tests.support.delivery import Turbulence, unreliable_delivery

Record = Any
ROUGH = Turbulence(
    max_batch_size=25, duplicate_record_rate=0.1, retry_batch_rate=0.15, late_replay_rate=0.1
)
START_SECONDS = 60.0
ANSWER_SECONDS = 90.0


def chaos_events(records: Sequence[Record], bad: Sequence[Record], seed: int) -> list[list[Record]]:
    """The batches to deliver: a rough delivery of ``records`` with ``bad`` ones mixed in."""
    batches = [list(e["Records"]) for e in unreliable_delivery(records, seed, ROUGH)]
    rng = random.Random(f"{seed}:bad")
    for record in bad:
        batch = rng.choice(batches)
        batch.insert(rng.randint(0, len(batch)), record)
    return batches


@dataclass
class ChaosFigures:
    """What a chaos run did, for the report."""

    seed: int
    handler_processes: int
    batches_delivered: int = 0
    records_delivered: int = 0
    distinct_records: int = 0
    duplicate_deliveries: int = 0
    batches_delivered_again: int = 0  # every record of the batch had been delivered before
    retries_after_a_reported_failure: int = 0
    retries_from_a_record_mid_batch: int = 0
    kills_mid_batch: int = 0
    handler_processes_started: int = 0
    seen: Counter[str] = field(default_factory=Counter, repr=False)

    def as_dict(self) -> dict[str, Any]:
        figures = asdict(self)
        figures.pop("seen")
        return figures


class ChaosDelivery:
    """Delivers batches to ``handlers`` handler processes with retries and SIGKILLs."""

    def __init__(
        self,
        environment: Mapping[str, str],
        seed: int,
        handlers: int,
        log_dir: Path,
        kills: int = 2,
        redelivery_rate: float = 0.08,
    ) -> None:
        self._environment = dict(environment)
        self._seed = seed
        self._handlers = handlers
        self._log_dir = log_dir
        self._kills = kills
        self._kill_numbers: set[int] = set()
        self._missed = 0
        self._redelivery_rate = redelivery_rate
        self._queue: deque[list[Record]] = deque()
        self._in_flight = 0
        self._dispatched = 0
        self._changed = threading.Condition()
        self._errors: list[BaseException] = []
        self.figures = ChaosFigures(seed=seed, handler_processes=handlers)

    def run(self, batches: Sequence[list[Record]], timeout: float) -> ChaosFigures:
        self._queue.extend(batches)
        rng = random.Random(f"{self._seed}:kills")
        span = max(4, len(batches) * 2 // 3)
        self._kill_numbers = set(rng.sample(range(2, span), min(self._kills, span - 2)))
        threads = [
            threading.Thread(target=self._slot, args=(slot,), daemon=True)
            for slot in range(self._handlers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError(f"chaos delivery (seed {self._seed}) did not drain in time")
        if self._errors:
            error = self._errors[0]
            raise RuntimeError(f"chaos delivery (seed {self._seed}): {error!r}") from error
        self.figures.distinct_records = len(self.figures.seen)
        self.figures.duplicate_deliveries = (
            self.figures.records_delivered - self.figures.distinct_records
        )
        return self.figures

    # -- one handler slot -----------------------------------------------------------------

    def _slot(self, slot: int) -> None:
        handler = self._start(slot)
        try:
            while True:
                job = self._take()
                if job is None:
                    return
                number, records = job
                handler = self._deliver(slot, handler, number, records)
        except BaseException as error:
            self._errors.append(error)
            with self._changed:
                self._queue.clear()
                self._in_flight = 0
                self._changed.notify_all()
        finally:
            handler.stop()

    def _deliver(
        self, slot: int, handler: HandlerProcess, number: int, records: list[Record]
    ) -> HandlerProcess:
        handler.send(number, {"Records": records})
        handler.wait_for("started", ANSWER_SECONDS)
        self._count(records)
        delay = self._kill_delay(number)
        answer: dict[str, Any] | None
        if delay is None:
            answer = handler.wait_for("done", ANSWER_SECONDS)
        else:
            answer = handler.poll_for("done", delay)
            if answer is None:
                handler.kill()  # mid-batch: Lambda will send the whole batch again
                with self._changed:
                    self.figures.kills_mid_batch += 1
                self._settle(records, retry_from=0)
                return self._start(slot)
            with self._changed:
                self._missed += 1  # answered before the kill: kill a later batch instead
        self._settle(records, retry_from=self._retry_from(number, records, answer["response"]))
        return handler

    def _start(self, slot: int) -> HandlerProcess:
        log = self._log_dir / f"handler-{slot}.log"
        handler = HandlerProcess.start(self._environment, log)
        handler.wait_ready(START_SECONDS)
        with self._changed:
            self.figures.handler_processes_started += 1
        return handler

    # -- the shared queue -----------------------------------------------------------------

    def _take(self) -> tuple[int, list[Record]] | None:
        with self._changed:
            while not self._queue and self._in_flight:
                self._changed.wait()
            if not self._queue:
                return None
            self._in_flight += 1
            self._dispatched += 1
            return self._dispatched, self._queue.popleft()

    def _settle(self, records: list[Record], retry_from: int | None) -> None:
        with self._changed:
            if retry_from is not None:
                self._queue.appendleft(records[retry_from:])
            self._in_flight -= 1
            self._changed.notify_all()

    def _count(self, records: list[Record]) -> None:
        ids = [_record_id(record) for record in records]
        with self._changed:
            figures = self.figures
            figures.batches_delivered += 1
            figures.records_delivered += len(records)
            if all(figures.seen[i] for i in ids):
                figures.batches_delivered_again += 1
            figures.seen.update(ids)

    # -- decisions from the seed ----------------------------------------------------------

    def _kill_delay(self, number: int) -> float | None:
        """How long after the start to kill this batch's handler, if it is to be killed."""
        rng = random.Random(f"{self._seed}:kill:{number}")
        with self._changed:
            if number in self._kill_numbers:
                return rng.uniform(0.0, 0.25)
            if self._missed:  # a planned kill came too late: kill the next batch sooner
                self._missed -= 1
                return rng.uniform(0.0, 0.05)
        return None

    def _retry_from(self, number: int, records: list[Record], response: Any) -> int | None:
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        if failed:
            parsed = parse_lambda_event({"Records": records}, lambda _: None)
            identifiers = [record.item_identifier for record in parsed]
            with self._changed:
                self.figures.retries_after_a_reported_failure += 1
            return min(i for i, identifier in enumerate(identifiers) if identifier in failed)
        rng = random.Random(f"{self._seed}:again:{number}")
        if len(records) > 1 and rng.random() < self._redelivery_rate:
            with self._changed:
                self.figures.retries_from_a_record_mid_batch += 1
            return rng.randint(1, len(records) - 1)
        return None


def _record_id(record: Record) -> str:
    if isinstance(record, Mapping) and isinstance(record.get("eventID"), str):
        return str(record["eventID"])
    return repr(record)
