"""A random workload delivered in rounds, with the source tables' states after each round.

The states are the oracle of a document's past: after round k every item has the state
the table held then, and every event of round k was recorded before ``moment`` k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.delivery import Turbulence, unreliable_delivery
from tests.support.fixtures import ReferenceTables
from tests.support.history_oracle import TTL_IDENTITY, HistoryOracle
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import Documents, expected_documents

Deliver = Callable[[list[dict[str, Any]]], None]


@dataclass
class Round:
    started: datetime  # before the first event of this round was recorded
    moment: datetime  # after every event of this round was recorded, before the next one's
    documents: Documents  # the oracle's documents from the tables' states then


@dataclass
class RoundHistory:
    rounds: list[Round] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)  # the Lambda events, in order
    expiries: int = 0  # REMOVE records delivered as TTL expiries

    def expected_at(self, moment: datetime) -> Documents:
        """The documents after the last round that ended at or before ``moment``."""
        assert not any(r.started <= moment < r.moment for r in self.rounds), "mid-round"
        ended = [r for r in self.rounds if r.moment <= moment]
        return ended[-1].documents if ended else {"users": {}, "images": {}}

    def quiet_moments(self) -> list[tuple[datetime, datetime]]:
        """The spans in which no event was recorded: before, between and after the rounds."""
        ends = [r.moment for r in self.rounds]
        starts = [r.started for r in self.rounds[1:]] + [ends[-1] + timedelta(seconds=5)]
        first = (self.rounds[0].started - timedelta(seconds=5), self.rounds[0].started)
        return [first, *zip(ends, starts, strict=True)]


def run_rounds(
    tables: ReferenceTables,
    deliver: Deliver,
    seeds: Sequence[int],
    operations: int,
    turbulence: Turbulence,
    after_round: Callable[[RoundHistory], None] | None = None,
) -> RoundHistory:
    """Each round's random writes, delivered unreliably; a third of the deletes arrive as
    DynamoDB's TTL expiries (``userIdentity`` of the DynamoDB service)."""
    dynamodb, streams = tables.endpoint.dynamodb(), tables.endpoint.streams()
    history = RoundHistory()
    seen: set[str] = set()
    for seed in seeds:
        apply_random_workload(dynamodb, tables.names, seed, operations)
        fresh = [
            record
            for arn in tables.stream_arns.values()
            for record in read_stream_records(streams, arn)
            if record["eventID"] not in seen
        ]
        seen.update(record["eventID"] for record in fresh)
        fresh = [_expired(record) if n % 3 == 0 else record for n, record in enumerate(fresh)]
        history.expiries += sum(record.get("userIdentity") == TTL_IDENTITY for record in fresh)
        events = unreliable_delivery(fresh, seed, turbulence)
        history.delivered += events
        started = datetime.now(UTC)
        deliver(events)
        states = {kind: scan_items(dynamodb, name) for kind, name in tables.names.items()}
        history.rounds.append(Round(started, datetime.now(UTC), expected_documents(states)))
        if after_round is not None:
            after_round(history)
    return history


def _expired(record: dict[str, Any]) -> dict[str, Any]:
    """A REMOVE record as DynamoDB writes it for an item its TTL expired."""
    if record["eventName"] != "REMOVE":
        return record
    return {**record, "userIdentity": dict(TTL_IDENTITY)}


def oracle_of(tables: ReferenceTables, history: RoundHistory) -> HistoryOracle:
    """The oracle of the events as delivered, one after the other."""
    oracle = HistoryOracle({name: kind for kind, name in tables.names.items()})
    for event in history.delivered:
        oracle.deliver(event)
    return oracle
