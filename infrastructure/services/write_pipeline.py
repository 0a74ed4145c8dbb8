"""The one write pipeline: record changes, dead-letter the refused, catch up, flush.

Every command that changes documents applies its changes here (the stream handler,
``ingest``, ``poll``, ``bootstrap``, the analytics import, resync's reconcile), so the
rules of a write live in one place: a record that cannot become a change and a change
the domain rejects go to the dead-letter store, the projection folds every recorded
event, and the search sync writes the rendered documents (dead-lettering those the
backend refuses for good). On return the changes are searchable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from domain.changes import SourceChange
from domain.intake import ChangeIntake
from domain.values import quick_init
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter
from projections.documents import DocumentKind
from projections.projector import DocumentProjector, Rendered
from projections.sync import SearchSync, SyncReport

Letter = Callable[[str], NewDeadLetter]  # the record as a dead letter, given the reason


class RecordLetters(Protocol):
    """Where records that fail for good are kept (the dead-letter store)."""

    def put(self, letters: Sequence[NewDeadLetter]) -> None: ...


class GroupSettler(Protocol):
    """Settles a command's group somewhere else (`background_settle.ProcessSettler`).

    One settle at a time: `begin` returns at once, `finish` waits for it and returns its
    report (or raises what it raised). `prepare` readies it for a first group ahead.
    """

    @property
    def under_way(self) -> bool: ...

    @property
    def running(self) -> bool:
        """Whether it has taken work before, so that more starts at once."""
        ...

    def prepare(self) -> None: ...

    def begin(
        self, events_at_once: int, recorded: tuple[int, int] | None, render: bool = True
    ) -> None: ...

    def begin_render(self, kinds: Collection[DocumentKind]) -> None:
        """Start rendering and writing what folds left to render of ``kinds``
        (`WritePipeline.render_left`); `finish` waits for it."""
        ...

    def done(self) -> bool:
        """Whether the settle under way has ended (`finish` would not wait)."""
        ...

    def finish(self) -> PipelineReport: ...

    def close(self) -> None: ...


class HeldCommits(Protocol):
    """The event store's way of committing a command's batches together (`EventStore`)."""

    def hold_commits(self) -> None: ...

    def commit_held(self) -> None: ...


class Incoming(Protocol):
    """A parsed record as the pipeline takes it: the change it carries (or why it carries
    none), and its dead letter.

    Exactly one of ``change`` and ``error`` is set. ``letter`` builds the record's dead
    letter from a reason, so each source keeps its own raw record and letter id. A stream
    record is one itself (`StreamRecord`); other sources wrap theirs in an `IncomingChange`.
    """

    @property
    def change(self) -> SourceChange | None: ...

    @property
    def error(self) -> str | None: ...

    def letter(self, reason: str) -> NewDeadLetter: ...


@quick_init
@dataclass(frozen=True, slots=True)
class IncomingChange:
    """An `Incoming` made of its parts: the change (or the error) and the letter's maker."""

    change: SourceChange | None
    error: str | None
    letter: Letter


@dataclass
class PipelineReport:
    records: int = 0
    events_recorded: int = 0
    duplicates: int = 0  # changes at or behind their item's position
    settled_by_read: int = 0  # changes of unknown order, applied as their table holds them
    dead_lettered: int = 0  # records, rejected changes and refused documents
    documents_written: int = 0
    stale_writes_rejected: int = 0
    lag_seconds: float | None = None  # from the oldest change's time to its recording
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per stage

    def synced(self, report: SyncReport) -> None:
        self.documents_written += report.written
        self.stale_writes_rejected += report.stale_writes_rejected
        self.dead_lettered += len(report.dead_lettered)


class WritePipeline:
    """Applies changes end to end; what fails for good is dead-lettered, never dropped.

    >>> report = pipeline.apply([IncomingChange(change, None, letter_of_record)])
    >>> report.events_recorded, report.dead_lettered
    (3, 0)

    A command that records many batches settles once at the end:

    >>> for batch in batches:
    ...     pipeline.record(batch, report)
    >>> pipeline.settle(report)
    """

    def __init__(
        self,
        intake: ChangeIntake,
        projector: DocumentProjector,
        sync: SearchSync,
        dead_letters: RecordLetters,
        settler: GroupSettler | None = None,
        commits: HeldCommits | None = None,
    ) -> None:
        # Settles a command's full groups elsewhere while it records (`SettleGroups`).
        self.settler = settler
        self._commits = commits
        self._intake = intake
        self._projector = projector
        self._sync = sync
        self._dead_letters = dead_letters

    def apply(self, records: Sequence[Incoming]) -> PipelineReport:
        """Record, catch up and flush one batch; on return it is searchable."""
        report = PipelineReport()
        self.record(records, report)
        self.settle(report)
        return report

    def record(self, records: Sequence[Incoming], report: PipelineReport) -> None:
        """Record the batch's events; dead-letter what cannot be parsed or is rejected."""
        clock = _StageClock(report.seconds)
        letters = [r.letter(r.error or "") for r in records if r.change is None]
        changes = [r.change for r in records if r.change is not None]
        outcome = self._intake.record(changes)
        letters += [r.letter(reason) for r, reason in _rejected(records, outcome.rejected)]
        self._dead_letters.put(letters)
        clock.lap("intake")
        report.records += len(records)
        report.events_recorded += outcome.events_recorded
        report.duplicates += len(outcome.duplicates)
        report.settled_by_read += len(outcome.settled)
        report.dead_lettered += len(letters)
        lag = _lag(changes)
        if lag is not None:
            report.lag_seconds = max(lag, report.lag_seconds or 0.0)

    def hold_commits(self) -> None:
        """Let the batches recorded from now on commit together, at `commit_held` (a
        command's group, `SettleGroups`). Where the store cannot hold commits, each batch
        commits as it is recorded. Settling, handing over and closing commit first."""
        if self._commits is not None:
            self._commits.hold_commits()

    def commit_held(self) -> None:
        """Commit the batches recorded since `hold_commits` (nothing if none are held)."""
        if self._commits is not None:
            self._commits.commit_held()

    def keep(self, letters: Sequence[NewDeadLetter]) -> None:
        """Dead-letter what a caller recording on its own terms refused (resync's reconcile)."""
        self._dead_letters.put(letters)

    def settle(
        self,
        report: PipelineReport,
        events_at_once: int | None = None,
        recorded: tuple[int, int] | None = None,
        render: bool = True,
    ) -> None:
        """Fold every recorded event and write the documents it rendered.

        ``events_at_once`` is how many events one projection transaction folds (the
        projector's own batch size by default): a command's group folds in one, so that a
        document touched all over the group is rendered and written once. ``recorded``:
        the positions another process recorded and hands over to settle here
        (`handing_over`); the settle then goes as far as they do. Without ``render`` the
        documents the events change are left to the next settle that renders
        (`DocumentProjector.catch_up`): they stay searchable as they were until then.
        """
        self.commit_held()  # what this settle folds must be in the store
        clock = _StageClock(report.seconds)
        projection = self._projector.catch_up(
            batch_size=events_at_once, recorded=recorded, render=render
        )
        clock.lap("projection")
        # Unless every event recorded here was folded here (its documents are then in
        # memory), some were folded by another writer, which may not have written them yet,
        # or a writer stopped before its sync (this batch is then delivered again): what is
        # pending in the outbox is written too.
        self._write(report, projection.rendered if projection.complete else None)
        clock.lap("search")

    def render_left(
        self, report: PipelineReport, kinds: Collection[DocumentKind] | None = None
    ) -> None:
        """Render what folds left to render (of ``kinds`` only, if given) and write it,
        folding nothing: a command's end shares this between its two processes, a kind each
        (`SettleGroups.settle`)."""
        self.commit_held()
        clock = _StageClock(report.seconds)
        projection = self._projector.render_left(kinds)
        clock.lap("projection")
        # All it rendered is in memory, unless more than the projection keeps there.
        self._write(report, projection.rendered)
        clock.lap("search")

    def _write(self, report: PipelineReport, rendered: Rendered | None) -> None:
        """Write the documents rendered, from memory; without them, what is pending in the
        outbox."""
        if rendered is not None:
            report.synced(self._sync.flush_rendered(rendered))
        else:
            report.synced(self._sync.flush())

    def handing_over(self) -> tuple[int, int] | None:
        """The positions recorded here since the last settle, for a settle elsewhere
        (committed first, so that it can read them)."""
        self.commit_held()
        return self._projector.take_recorded()

    def close(self) -> None:
        """Commit what is held; stop the background settler, if there is one (after its
        settle under way)."""
        self.commit_held()
        if self.settler is not None:
            self.settler.close()


def _rejected(
    records: Sequence[Incoming], rejected: Sequence[tuple[SourceChange, str]]
) -> Iterator[tuple[Incoming, str]]:
    """Each rejected change's record: the intake reports them in the batch's order."""
    pending = iter(rejected)
    current = next(pending, None)
    for record in records:
        if current is not None and record.change is current[0]:
            yield record, current[1]
            current = next(pending, None)
    if current is not None:
        raise AssertionError("the intake rejected a change that is not in the batch")


class _StageClock:
    def __init__(self, laps: dict[str, float]) -> None:
        self._laps = laps
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self._laps[stage] = self._laps.get(stage, 0.0) + now - self._last
        self._last = now


def _lag(changes: Sequence[SourceChange]) -> float | None:
    times = [c.occurred_micros for c in changes if c.occurred_micros is not None]
    if not times:
        return None
    return max(0.0, time.time() - min(times) / 1_000_000)
