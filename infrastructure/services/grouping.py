"""Grouped settling: a command records many batches and settles them a group at a time.

A Lambda invocation must leave its batch searchable before it returns, so it settles
(catches the projection up and flushes the search sync) once per batch. A command of the
command line (``ingest`` of many files, a ``poll`` cycle, ``demo``, ``bootstrap``, the
analytics import, ``dlq replay``) only has to leave its records searchable when it
returns: it records each batch in the event store (durable at once) and settles once per
group of batches, when the group holds ``max_records`` records or has been open
``max_seconds``, whichever comes first, and once more when it ends. Each settle costs the
embedded index one commit per kind, whatever it holds, and renders a document touched all
over the group once; see docs/adr/0024-grouped-commits.md.

When the pipeline has a settler (`background_settle.ProcessSettler`, which the
composition root gives every command), groups settle in a second process while the
command records the next one: an idle settler takes a group once it holds
``HAND_OVER_RECORDS``, a busy one is waited for only when the next group is full; the
settle at the end happens here, beside the one under way
(docs/adr/0029-settling-in-a-second-process.md), and once the settler has taken a group the
end's rendering is shared, the images here and the users there
(docs/adr/0035-the-end-rendered-by-both-processes.md). The settler folds every group it takes
but renders (and commits the index) only for a group handed over ``RENDER_SECONDS`` or
more after the last one that rendered: the others leave their documents to it, so that a
document changed in every group is rendered once per render rather than once per group
(docs/adr/0033-the-second-process-renders-every-few-seconds.md). A command that knows how
many records it will record (``ingest`` of files, ``demo``) starts the settler's process
as it starts when it will hand a group over, leaves a render due less than half of
``RENDER_SECONDS`` before its end to the settle at the end, and never hands over the group
its last record closes: the settle at the end folds that one here. A group's batches
commit together (docs/adr/0034-a-commands-batches-commit-together.md).

Nothing recorded is lost if a command stops between two settles: the events are in the
event store, and the next settle of any command (its catch-up starts from the projection's
tracking position) projects and writes them.

>>> with SettleGroups(app.pipeline) as groups:
...     for batch in batches:
...         groups.record(batch, report)   # settles when a group is full
>>> groups.last.documents_written          # the settle at the end: all searchable now
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from infrastructure.services.write_pipeline import (
    GroupSettler,
    Incoming,
    PipelineReport,
    WritePipeline,
)
from projections.documents import DocumentKind

# A group is one settle: one commit per kind of the embedded index (15-25 ms each) and one
# projection transaction, in which a document touched all over the group is rendered and
# written once. On the pipeline benchmark's workload (53,077 records, 7,432 final
# documents) settling every batch wrote 65,694 documents, groups of 5,000 records 34,774,
# of 10,000 23,749 and of 25,000 14,423 (docs/adr/0024-grouped-commits.md). Two
# seconds bound how long a trickle of records waits to become searchable, and how much a
# command cut short leaves for the next one's catch-up; on a machine that records about
# 10,000 records a second they, not the size, close most groups. The size bounds the
# events kept in memory for the fold and the length of its transaction.
GROUP_RECORDS = 25_000
GROUP_SECONDS = 2.0
# With a settler in a second process (ADR 0029), the least a group handed to it holds
# when it is idle: each settle costs a tantivy commit per kind and renders a document
# touched in two groups twice, so a group is not handed over for a few records; while the
# settler works, the next group grows up to GROUP_RECORDS.
HAND_OVER_RECORDS = 5_000
# With a settler, how long after a group that rendered the next group renders: those
# handed over sooner only fold, leaving their documents to it (and to the settle at the
# end). The same two seconds as a group's: a trickle of records, or a busy command's, waits
# about that long to become searchable either way. On the pipeline benchmark the settler
# rendered 19,862-23,091 documents for 7,432 rendering every group, nearly all of them
# again in each one.
RENDER_SECONDS = GROUP_SECONDS
# At a command's end, with the settler's process running, which kinds each process renders
# and writes once the last events are folded: the images (three in four of the benchmark's
# documents) here, as soon as the fold commits; the users there, while the images are
# written. See docs/adr/0035-the-end-rendered-by-both-processes.md.
COMMAND_RENDERS = (DocumentKind.IMAGES,)
SETTLER_RENDERS = (DocumentKind.USERS,)


@dataclass
class GroupCounts:
    """How often the groups settled, and why (what tests and benchmarks count)."""

    settles: int = 0
    by_size: int = 0  # the group reached its records
    by_time: int = 0  # the group was open its seconds
    at_end: int = 0  # the command ended (or asked to settle)
    records: int = 0  # recorded through the groups
    in_background: int = 0  # settled by the pipeline's settler while the command recorded
    by_settler: int = 0  # handed to an idle settler once it held HAND_OVER_RECORDS
    folded_only: int = 0  # of those in the background: folded, documents left to render
    rendered_in_both: int = 0  # ends whose documents both processes rendered, a kind each


class SettleGroups:
    """Records batches through the write pipeline and settles them a group at a time.

    Used as a context manager, the last group settles on a normal exit; after an
    exception nothing more is attempted (what was recorded waits for the next settle).
    """

    def __init__(
        self,
        pipeline: WritePipeline,
        *,
        max_records: int = GROUP_RECORDS,
        max_seconds: float = GROUP_SECONDS,
        settler: GroupSettler | None = None,
        hand_over_records: int = HAND_OVER_RECORDS,
        render_seconds: float = RENDER_SECONDS,
        expected_records: int | None = None,
    ) -> None:
        if max_records < 1 or max_seconds < 0 or render_seconds < 0:
            raise ValueError("a group holds at least one record and lasts no negative time")
        self._pipeline = pipeline
        # Full groups settle there (by default the pipeline's, if it has one) while the
        # next one is recorded; the settle at the end settles here.
        self._settler = settler if settler is not None else pipeline.settler
        self._max_records = max_records
        self._max_seconds = max_seconds
        self._hand_over_records = min(hand_over_records, max_records)
        self._render_seconds = render_seconds
        # How many records the command will record in all, when it knows (`ingest` of
        # files, `demo`); a `poll` never does.
        self._expected_records = expected_records
        self._first_record: float | None = None
        self._pending = 0  # records recorded since the last settle
        self._opened: float | None = None  # when the first of them was recorded
        # Since when the settler's groups have only folded: the first record, then the
        # hand-over of the last group that rendered.
        self._unrendered_since: float | None = None
        self.counts = GroupCounts()
        self.last = PipelineReport()  # what the settle at the end of the block did
        self.settled = PipelineReport()  # what every settle did: documents written, refused
        if self._settler is not None and self._will_hand_over():
            # Its process starts now (its imports take a few tenths of a second) rather
            # than half way through the first group: it is ready sooner for that group.
            self._settler.prepare()

    @property
    def pending(self) -> int:
        """Records recorded and not settled yet."""
        return self._pending

    def record(self, records: Sequence[Incoming], report: PipelineReport) -> None:
        """Record a batch; settle the group if it is full or has been open long enough."""
        if self._opened is None:
            self._opened = time.monotonic()
            if self._unrendered_since is None:
                self._unrendered_since = self._opened
            if self._first_record is None:
                self._first_record = self._opened
            # The group's batches commit together, when it is handed over or settled.
            self._pipeline.hold_commits()
        self._pipeline.record(records, report)
        self._pending += len(records)
        self.counts.records += len(records)
        open_for = time.monotonic() - self._opened
        if self._settler is not None:
            if self._recorded_all():
                # The settle at the end comes next and folds the group here, from the
                # events this process still holds: handed over, the group would be read
                # back from the store there while this process waited for it.
                return
            self._hand_over_when_due(open_for, report)
        elif self._pending >= self._max_records:
            self.counts.by_size += 1
            self._settle(report)
        elif open_for >= self._max_seconds:
            self.counts.by_time += 1
            self._settle(report)

    def _hand_over_when_due(self, open_for: float, report: PipelineReport) -> None:
        """With a settler: keep it busy, but never let a group outgrow its records.

        An idle settler takes the group as soon as it holds ``hand_over_records`` (or has
        been open its seconds), so that settling runs beside recording from early on and
        the group left for the end is small; a busy one is waited for only when the group
        is full. Groups grow while the settler is slower than the recording.
        """
        settler = self._settler
        assert settler is not None
        if settler.under_way and settler.done():
            self._collect(report)  # at once: it is done
        least = self._hand_over_records
        if self._pending >= self._max_records:
            self.counts.by_size += 1
            self._settle_group(report)  # waits for the settle under way, if any
        elif not settler.under_way and self._pending >= least:
            self.counts.by_settler += 1
            self._settle_group(report)
        elif not settler.under_way and open_for >= self._max_seconds:
            self.counts.by_time += 1
            self._settle_group(report)
        elif 2 * self._pending >= least or 2 * open_for >= self._max_seconds:
            # Half way: a command this long hands a group over; have the settler ready by
            # then (a command that ends sooner never starts it).
            settler.prepare()

    def settle(self, report: PipelineReport | None = None) -> PipelineReport:
        """Settle now: everything recorded so far (by anyone) becomes searchable.

        With a settler that has taken a group (`GroupSettler.running`), the two processes
        share the rendering: this one folds the rest leaving its documents to render, then
        renders and writes the images while the settler renders and writes the users
        (their index writes run at once, each kind under its own index lock).
        """
        report = PipelineReport() if report is None else report
        self.counts.at_end += 1
        self._pipeline.commit_held()  # what the settles fold must be in the store
        shared = self._settler is not None and self._settler.running
        # Beside the settler's settle under way, not after it: this one's fold waits for
        # the projection lock only until that one's transaction commits, then runs while
        # the settler writes its documents to the index. Both are waited for on return.
        self._settle(report, render=not shared)
        self._collect(report)
        if shared:
            assert self._settler is not None
            self._settler.begin_render(SETTLER_RENDERS)
            self.counts.rendered_in_both += 1
            try:
                rendered = PipelineReport()
                self._pipeline.render_left(rendered, COMMAND_RENDERS)
                self._count(rendered, report)
            finally:
                self._collect(report)
        # Nothing is left to render: the next records (a `poll` pass's) start the clock.
        self._unrendered_since = None
        return report

    def _events_at_once(self) -> int:
        # The group's events in one projection transaction (a record yields one event or
        # a few), so that each document it touched is rendered and written once; what an
        # earlier command left is folded GROUP_RECORDS events at a time.
        return max(2 * self._pending, GROUP_RECORDS)

    def _settle_group(self, report: PipelineReport) -> None:
        """A group handed to the settler, settled while the next one is recorded."""
        assert self._settler is not None
        # Committed before waiting for the settler, which may need the write lock (a
        # refused document's dead letter), and so that it can read the group.
        self._pipeline.commit_held()
        self._collect(report)  # one settle at a time: the one before this group's
        render = self._render_due()
        self._settler.begin(self._events_at_once(), self._pipeline.handing_over(), render)
        self.counts.settles += 1
        self.counts.in_background += 1
        self.counts.folded_only += not render
        self._closed()

    def _render_due(self) -> bool:
        """Whether the group handed over now renders: ``render_seconds`` have passed since
        the last one that did (or since the first record), and the command is not about to
        end.

        A command that knows how many records it will record (``expected_records``) and,
        at the pace it has recorded so far, will have recorded them all within half of
        ``render_seconds`` leaves the render to its settle at the end, which comes about
        as soon: nearly every document would be rendered twice, a few tenths of a second
        apart. The next group handed over asks again.
        """
        now = time.monotonic()
        since = self._unrendered_since
        if since is not None and now - since < self._render_seconds:
            return False
        if self._ends_within(self._render_seconds / 2, now):
            return False
        self._unrendered_since = now
        return True

    def _will_hand_over(self) -> bool:
        """Whether the command will surely hand a group over: it will record more than
        ``hand_over_records`` (it knows how many), so its first group reaches them before
        its last record, whose group the settle at the end folds here."""
        return self._expected_records is not None and (
            self._expected_records > self._hand_over_records
        )

    def _recorded_all(self) -> bool:
        """Whether the command has just recorded the last record it said it would (past
        it, an estimate fell short: the groups go on as if it knew none)."""
        return self.counts.records == self._expected_records

    def _ends_within(self, seconds: float, now: float) -> bool:
        """Whether the records still to come will be recorded within ``seconds``."""
        expected, first = self._expected_records, self._first_record
        recorded = self.counts.records
        if expected is None or first is None or recorded == 0 or now <= first:
            return False
        remaining = max(expected - recorded, 0)
        return remaining * (now - first) / recorded < seconds

    def _collect(self, report: PipelineReport) -> None:
        """Wait for the settler's settle under way, if any, and count what it did."""
        if self._settler is not None and self._settler.under_way:
            self._count(self._settler.finish(), report)

    def _settle(self, report: PipelineReport, render: bool = True) -> None:
        settled = PipelineReport()
        self._pipeline.settle(settled, events_at_once=self._events_at_once(), render=render)
        self._count(settled, report)
        self.counts.settles += 1
        self._closed()

    def _count(self, settled: PipelineReport, report: PipelineReport) -> None:
        for target in (report, self.settled):
            target.documents_written += settled.documents_written
            target.stale_writes_rejected += settled.stale_writes_rejected
            target.dead_lettered += settled.dead_lettered
            for stage, seconds in settled.seconds.items():
                target.seconds[stage] = target.seconds.get(stage, 0.0) + seconds

    def _closed(self) -> None:
        self._pending = 0
        self._opened = None

    def __enter__(self) -> SettleGroups:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.last = self.settle()
        else:
            self._pipeline.commit_held()  # what was recorded stays recorded
