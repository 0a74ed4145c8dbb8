"""Grouped settling over fakes of the pipeline's ports: when a group settles, and why."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest
from freezegun import freeze_time

from domain.errors import TransientFailure
from domain.intake import ChangeIntake
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.write_pipeline import IncomingChange, PipelineReport, WritePipeline
from projections.documents import DocumentKind
from projections.projector import DocumentProjector
from projections.sync import SearchSync, SyncReport
from tests.unit.fakes import FakeLedger, FakeProjectionStore
from tests.unit.test_write_pipeline import KeptLetters, RefusingIndex, incoming, user, wired


def batch(first: int, size: int) -> list[IncomingChange]:
    return [incoming(user(f"u-{n}", n), f"r{n}") for n in range(first, first + size)]


def test_a_group_settles_when_it_holds_its_records_and_not_before() -> None:
    pipeline, index, _, _ = wired()
    groups = SettleGroups(pipeline, max_records=5, max_seconds=3600)
    report = PipelineReport()

    groups.record(batch(1, 2), report)
    groups.record(batch(3, 2), report)
    assert groups.counts.settles == 0 and index.documents == {}  # recorded, not yet written
    assert groups.pending == 4

    groups.record(batch(5, 2), report)  # 6 records: the group is full
    assert (groups.counts.settles, groups.counts.by_size, groups.pending) == (1, 1, 0)
    assert len(index.documents) == 6 and report.documents_written == 6

    groups.record(batch(7, 1), report)
    groups.settle(report)  # the command ends
    assert (groups.counts.settles, groups.counts.at_end, groups.counts.records) == (2, 1, 7)
    assert len(index.documents) == 7 and report.documents_written == 7
    assert report.records == 7 and report.events_recorded == 7


def test_a_group_settles_once_it_has_been_open_its_seconds() -> None:
    pipeline, index, _, _ = wired()
    groups = SettleGroups(pipeline, max_records=1000, max_seconds=1.0)
    report = PipelineReport()
    with freeze_time("2026-01-01T00:00:00") as clock:
        groups.record(batch(1, 1), report)  # opens the group
        clock.tick(0.6)
        groups.record(batch(2, 1), report)
        assert groups.counts.settles == 0
        clock.tick(0.4)  # the group has been open one second
        groups.record(batch(3, 1), report)
        assert (groups.counts.settles, groups.counts.by_time) == (1, 1)
        assert len(index.documents) == 3

        clock.tick(5.0)  # an idle while with nothing pending opens no group
        groups.record(batch(4, 1), report)  # opens a new group at this moment
        assert groups.counts.settles == 1 and groups.pending == 1
        clock.tick(0.99)
        groups.record(batch(5, 1), report)
        assert groups.counts.settles == 1
    assert groups.counts.by_size == 0


def test_the_block_settles_what_is_left_on_a_normal_exit_only() -> None:
    pipeline, index, _, _ = wired()
    with SettleGroups(pipeline, max_records=100) as groups:
        groups.record(batch(1, 3), PipelineReport())
        assert index.documents == {}
    assert groups.last.documents_written == 3 and groups.counts.at_end == 1

    other = SettleGroups(pipeline, max_records=100)
    with pytest.raises(RuntimeError), other:
        other.record(batch(10, 2), PipelineReport())
        raise RuntimeError("the command stopped")
    assert other.counts.settles == 0 and len(index.documents) == 3
    # Recorded all the same: the next settle, by any command, writes them.
    SettleGroups(pipeline).settle()
    assert {doc_id for _, doc_id in index.documents} >= {"u-10", "u-11"}
    assert all(kind is DocumentKind.USERS for kind, _ in index.documents)


def test_a_document_touched_all_over_a_group_is_written_once() -> None:
    pipeline, index, _, _ = wired()
    writes: list[int] = []
    write = index.write

    def counted(changes, into=None):  # type: ignore[no-untyped-def]
        writes.append(len(changes))
        return write(changes, into)

    index.write = counted  # type: ignore[method-assign]
    groups = SettleGroups(pipeline, max_records=10, max_seconds=3600)
    report = PipelineReport()
    plans = ["free", "pro", "team", "free", "pro"]
    for position, plan in enumerate(plans, 1):  # one user changed in five batches
        groups.record([incoming(user("u-1", position, plan), f"r{position}")], report)
    groups.settle(report)

    assert writes == [1]  # one write of one document for the whole group
    assert index.documents[(DocumentKind.USERS, "u-1")].body["plan"] == "pro"  # type: ignore[index]


def test_a_group_needs_a_record_and_no_negative_time() -> None:
    pipeline, *_ = wired()
    with pytest.raises(ValueError):
        SettleGroups(pipeline, max_records=0)
    with pytest.raises(ValueError):
        SettleGroups(pipeline, max_seconds=-1)


def test_a_group_folds_all_its_events_in_one_projection_transaction() -> None:
    ledger = FakeLedger()
    store = FakeProjectionStore()
    store.events = ledger.log
    letters = KeptLetters(store)
    # The projector's own batches hold 2 events: the stream handler's catch-up folds 2 at a time.
    pipeline = WritePipeline(
        ChangeIntake(ledger), DocumentProjector(store, batch_size=2),
        SearchSync(store, RefusingIndex(), letters), letters,
    )  # fmt: skip
    sessions = 0
    opened = store.session

    def counted() -> Any:
        nonlocal sessions
        sessions += 1
        return opened()

    store.session = counted  # type: ignore[method-assign]
    groups = SettleGroups(pipeline, max_records=6, max_seconds=3600)
    groups.record(batch(1, 3), PipelineReport())
    groups.record(batch(4, 3), PipelineReport())  # full: six events settle
    assert groups.counts.by_size == 1
    assert sessions == 1  # one transaction for the group, not three of two events

    sessions = 0
    pipeline.apply([incoming(user(f"u-{n}", n), f"r{n}") for n in range(7, 12)])
    assert sessions == 3  # a batch settled on its own folds the projector's batches


class DeferredSettler:
    """A settler port that settles a group only when finished (a fake for the process)."""

    def __init__(self, pipeline: WritePipeline, fails: Exception | None = None) -> None:
        self._pipeline = pipeline
        self._fails = fails
        self.begun: list[tuple[int, tuple[int, int] | None]] = []
        self.rendering: list[bool] = []  # whether each settle begun renders
        self.renders: list[tuple[DocumentKind, ...]] = []  # the kinds of each render begun
        self.render_fails: Exception | None = None  # what its render at the end raises
        self.finished = 0
        self.closed = False
        self.prepared = 0

    def prepare(self) -> None:
        self.prepared += 1

    def done(self) -> bool:
        return self.settled_ahead  # the fake settles when finished, whatever it answers

    settled_ahead = False

    @property
    def under_way(self) -> bool:
        return len(self.begun) + len(self.renders) > self.finished

    @property
    def running(self) -> bool:
        return bool(self.begun)  # started by its first group

    def begin_render(self, kinds: Collection[DocumentKind]) -> None:
        assert not self.under_way, "one task at a time"
        self.renders.append(tuple(kinds))

    def begin(
        self, events_at_once: int, recorded: tuple[int, int] | None, render: bool = True
    ) -> None:
        assert not self.under_way, "one settle at a time"
        self.begun.append((events_at_once, recorded))
        self.rendering.append(render)

    def finish(self) -> PipelineReport:
        if self.renders and len(self.begun) + len(self.renders) == self.finished + 1:
            self.finished += 1  # the render at a command's end, begun last
            if self.render_fails is not None:
                raise self.render_fails
            report = PipelineReport()
            self._pipeline.render_left(report, self.renders[-1])
            return report
        events_at_once, recorded = self.begun[self.finished]
        render = self.rendering[self.finished]
        self.finished += 1
        if self._fails is not None:
            raise self._fails
        report = PipelineReport()
        self._pipeline.settle(
            report, events_at_once=events_at_once, recorded=recorded, render=render
        )
        return report

    def close(self) -> None:
        self.closed = True


def handing_over(
    pipeline: WritePipeline, *, settled_ahead: bool = False, **options: Any
) -> tuple[DeferredSettler, SettleGroups]:
    """Groups of up to 100 records, open for an hour, handed over to a `DeferredSettler`
    once they hold two records (``options`` override any of these)."""
    settler = DeferredSettler(pipeline)
    settler.settled_ahead = settled_ahead
    settings: dict[str, Any] = {"max_records": 100, "max_seconds": 3600, "hand_over_records": 2}
    return settler, SettleGroups(pipeline, settler=settler, **(settings | options))


def test_full_groups_settle_in_the_settler_while_the_next_one_is_recorded() -> None:
    pipeline, index, _, _ = wired()
    settler = DeferredSettler(pipeline)
    groups = SettleGroups(
        pipeline, max_records=4, max_seconds=3600, settler=settler, render_seconds=0
    )
    report = PipelineReport()

    groups.record(batch(1, 2), report)  # half full: the settler gets ready
    assert settler.prepared == 1 and not settler.begun
    groups.record(batch(3, 2), report)  # full: handed to the settler, not settled here
    assert settler.begun == [(25_000, (1, 4))] and settler.under_way  # what it recorded
    assert groups.counts.in_background == 1 and index.documents == {}
    groups.record(batch(5, 2), report)  # the next group is recorded meanwhile
    assert settler.finished == 0

    groups.record(batch(7, 2), report)  # full again: the settle before it ends first
    assert settler.finished == 1 and settler.begun[1] == (25_000, (5, 8))
    assert report.documents_written >= 4  # what the first settle wrote counts here

    groups.record(batch(9, 1), report)
    groups.settle(report)  # the end: the settle under way ends, the rest settles here
    assert not settler.under_way and len(settler.begun) == 2
    assert (groups.counts.settles, groups.counts.in_background, groups.counts.at_end) == (3, 2, 1)
    assert len(index.documents) == 9 and report.documents_written == 9
    assert groups.settled.documents_written == 9


def test_a_settle_that_failed_elsewhere_fails_the_batch_that_waits_for_it() -> None:
    pipeline, index, _, _ = wired()
    settler = DeferredSettler(pipeline, fails=TransientFailure("the index is unreachable"))
    groups = SettleGroups(
        pipeline, max_records=3, max_seconds=3600, settler=settler, render_seconds=0
    )
    groups.record(batch(1, 3), PipelineReport())  # handed over
    with pytest.raises(TransientFailure, match="unreachable"):
        groups.record(batch(4, 3), PipelineReport())  # waits for it: the error is raised here
    # Everything is recorded: the next settle (here, at the end) folds and writes it all.
    groups.settle()
    assert len(index.documents) == 6


def test_a_pipeline_lends_its_settler_to_groups_and_closes_it() -> None:
    pipeline, _, _, _ = wired()
    settler = DeferredSettler(pipeline)
    pipeline.settler = settler
    groups = SettleGroups(pipeline, max_records=2, max_seconds=3600)
    groups.record(batch(1, 2), PipelineReport())
    assert settler.begun
    pipeline.close()
    assert settler.closed


def test_a_handed_over_settle_folds_exactly_what_it_was_handed_and_writes_from_memory() -> None:
    pipeline, index, _, store = wired()
    report = PipelineReport()
    pipeline.record(batch(1, 4), report)
    handed = pipeline.handing_over()
    assert handed == (1, 4)
    pipeline.record(batch(5, 3), report)  # recorded after the hand-over

    flushed_from_outbox = 0
    flush = pipeline._sync.flush

    def counted(max_rounds: int = 10_000) -> SyncReport:
        nonlocal flushed_from_outbox
        flushed_from_outbox += 1
        return flush(max_rounds)

    pipeline._sync.flush = counted  # type: ignore[method-assign]
    settled = PipelineReport()
    pipeline.settle(settled, events_at_once=25_000, recorded=handed)  # as the settler does
    assert store.tracking == 4 and settled.documents_written == 4  # not the 3 after it
    pipeline.settle(settled, recorded=pipeline.handing_over())  # the next hand-over
    assert store.tracking == 7 and len(index.documents) == 7
    assert flushed_from_outbox == 0  # each settle folded all it was handed: from memory


def test_an_idle_settler_takes_a_group_early_and_a_busy_one_is_waited_for_only_when_full() -> None:
    pipeline, index, _, _ = wired()
    settler, groups = handing_over(pipeline, max_records=10, hand_over_records=3, render_seconds=0)
    report = PipelineReport()
    groups.record(batch(1, 3), report)  # the settler is idle: it takes these three at once
    assert len(settler.begun) == 1 and groups.counts.by_settler == 1

    groups.record(batch(4, 4), report)  # it is busy: the next group grows, nobody waits
    groups.record(batch(8, 4), report)
    assert settler.finished == 0 and groups.pending == 8

    settler.settled_ahead = True  # its settle has ended: collected without waiting ...
    groups.record(batch(12, 1), report)  # ... and the 9 records pending go to it
    assert settler.finished == 1 and len(settler.begun) == 2 and groups.pending == 0
    assert settler.begun[1][1] == (4, 12)

    settler.settled_ahead = False
    groups.record(batch(13, 10), report)  # full while it is busy: waited for, handed over
    assert groups.counts.by_size == 1 and settler.finished == 2 and len(settler.begun) == 3
    groups.settle(report)
    assert len(index.documents) == 22 and report.documents_written == 22
    assert (groups.counts.by_settler, groups.counts.in_background) == (2, 3)


def test_the_settlers_groups_render_every_few_seconds_and_the_end_renders_the_rest() -> None:
    pipeline, index, _, store = wired()
    settler, groups = handing_over(pipeline, render_seconds=2.0)
    report = PipelineReport()
    with freeze_time("2026-01-01T00:00:00") as clock:
        groups.record(batch(1, 2), report)  # handed over at once: folded only
        settler.settled_ahead = True
        clock.tick(1.0)
        groups.record(batch(3, 2), report)  # a second later: folded only
        assert settler.rendering == [False, False] and settler.finished == 1
        assert index.documents == {}  # nothing rendered, nothing written yet

        clock.tick(1.0)  # two seconds since the first record
        groups.record(batch(5, 2), report)  # this group renders, with all that was left
        assert settler.rendering == [False, False, True]
        clock.tick(0.5)
        groups.record(batch(7, 2), report)  # the next one only folds again
        assert settler.rendering[3] is False and settler.finished == 3
        assert len(index.documents) == 6 and store.unrendered == set()

        groups.record(batch(9, 1), report)
        groups.settle(report)  # the end renders what the last groups left
        assert len(index.documents) == 9 and report.documents_written == 9
        assert store.unrendered == set()
        assert (groups.counts.in_background, groups.counts.folded_only) == (4, 3)

        clock.tick(60.0)  # a `poll` pass later: its records start the clock again
        settler.settled_ahead = False
        groups.record(batch(10, 2), report)
        assert settler.rendering[-1] is False and len(index.documents) == 9
        groups.settle(report)
    assert len(index.documents) == 11 and store.unrendered == set()


def test_without_a_settler_every_group_renders_where_it_settles() -> None:
    pipeline, index, _, store = wired()
    groups = SettleGroups(pipeline, max_records=2, max_seconds=3600, render_seconds=3600)
    report = PipelineReport()
    groups.record(batch(1, 2), report)
    assert len(index.documents) == 2 and store.unrendered == set()
    assert groups.counts.folded_only == 0


def test_the_end_settles_beside_the_settlers_settle_under_way_then_waits_for_it() -> None:
    pipeline, index, _, _ = wired()
    settler, groups = handing_over(pipeline)
    order: list[str] = []
    settle_here, finish_there = pipeline.settle, settler.finish

    def settling_here(*arguments: Any, **options: Any) -> None:
        order.append("here")
        settle_here(*arguments, **options)

    def finishing_there() -> PipelineReport:
        order.append("there")
        return finish_there()

    pipeline.settle = settling_here  # type: ignore[method-assign]
    settler.finish = finishing_there  # type: ignore[method-assign]
    report = PipelineReport()
    groups.record(batch(1, 2), report)  # handed over: under way in the settler
    groups.record(batch(3, 1), report)
    order.clear()
    groups.settle(report)
    # The settle here does not wait for the one under way to start: its fold waits only
    # for that one's projection transaction. On return both have ended.
    assert order[:2] == ["here", "there"] and not settler.under_way
    assert len(index.documents) == 3 and report.documents_written == 3


def renders_of_a_command(expected_records: int | None) -> tuple[list[bool], int]:
    """Which of a command's groups rendered: two records a second, 14 in all, handed over
    at once; three seconds between renders. Returns them, and the documents at the end."""
    pipeline, index, _, store = wired()
    settler, groups = handing_over(
        pipeline, settled_ahead=True, render_seconds=3.0, expected_records=expected_records
    )
    report = PipelineReport()
    with freeze_time("2026-01-01T00:00:00") as clock:
        for first, seconds in ((1, 1), (3, 1), (5, 1), (7, 1), (9, 1), (11, 2), (13, 1)):
            clock.tick(seconds)
            groups.record(batch(first, 2), report)
        groups.settle(report)
    assert store.unrendered == set()
    return settler.rendering, len(index.documents)


def test_a_command_about_to_end_leaves_a_due_render_to_its_end() -> None:
    # At 4 s (8 of 14 recorded, 2.25 s to go at that pace) the render is due and made. At
    # 7 s (12 recorded, 1 s to go) it is due again, and left to the end, less than half
    # the three seconds away; at 8 s nothing is left to record, and the last group is not
    # handed over: the settle at the end folds it.
    assert renders_of_a_command(expected_records=14) == (
        [False, False, False, True, False, False],
        14,
    )
    # A command that does not know how many records will come (a `poll`) renders when due.
    assert renders_of_a_command(expected_records=None) == (
        [False, False, False, True, False, True, False],
        14,
    )


def ending_with_a_running_settler() -> tuple[
    WritePipeline, Any, FakeProjectionStore, DeferredSettler, SettleGroups, PipelineReport
]:
    """A command whose first group was handed over (folded only: the settler's process
    runs) and which recorded one more record, about to end."""
    pipeline, index, _, store = wired()
    settler, groups = handing_over(pipeline, render_seconds=3600)
    report = PipelineReport()
    groups.record(batch(1, 2), report)
    groups.record(batch(3, 1), report)
    assert index.documents == {}
    return pipeline, index, store, settler, groups, report


def test_the_end_shares_its_render_with_a_running_settler_a_kind_each() -> None:
    pipeline, index, store, settler, groups, report = ending_with_a_running_settler()
    rendered_here: list[tuple[DocumentKind, ...]] = []
    render_here = pipeline.render_left

    def rendering_here(
        report: PipelineReport, kinds: Collection[DocumentKind] | None = None
    ) -> None:
        rendered_here.append(tuple(kinds or ()))
        render_here(report, kinds)

    pipeline.render_left = rendering_here  # type: ignore[method-assign]

    groups.settle(report)
    # The rest is folded here, then the images are rendered here and the users there (the
    # fake settler renders on the same pipeline, when it is finished).
    assert settler.renders == [(DocumentKind.USERS,)] and not settler.under_way
    assert rendered_here == [(DocumentKind.IMAGES,), (DocumentKind.USERS,)]
    assert len(index.documents) == 3 and report.documents_written == 3  # the users, there
    assert store.unrendered == set() and groups.counts.rendered_in_both == 1


def test_a_command_whose_settler_never_started_renders_its_end_alone() -> None:
    pipeline, index, _, store = wired()
    settler, groups = handing_over(pipeline, hand_over_records=100)
    report = PipelineReport()
    groups.record(batch(1, 3), report)  # too few records to hand a group over
    groups.settle(report)
    assert not settler.begun and not settler.renders  # no process started for the end
    assert len(index.documents) == 3 and store.unrendered == set()
    assert groups.counts.rendered_in_both == 0


def test_a_settler_that_fails_its_share_of_the_end_leaves_it_marked_to_render() -> None:
    _, index, store, settler, groups, report = ending_with_a_running_settler()
    settler.render_fails = TransientFailure("the settling process stopped")

    with pytest.raises(TransientFailure):
        groups.settle(report)
    # Its kind is still marked to render, nothing of it was written; nothing is under way.
    assert store.unrendered == {(DocumentKind.USERS, f"u-{n}") for n in (1, 2, 3)}
    assert index.documents == {} and not settler.under_way

    settler.render_fails = None
    groups.settle(report)  # the next settle (any writer's) renders them
    assert len(index.documents) == 3 and store.unrendered == set()


def test_a_command_that_recorded_all_it_expected_leaves_its_last_group_to_its_end() -> None:
    pipeline, index, _, _ = wired()
    settler, groups = handing_over(pipeline, settled_ahead=True, expected_records=6)
    report = PipelineReport()
    groups.record(batch(1, 2), report)  # handed over at once
    groups.record(batch(3, 2), report)  # the settler is done: handed over again
    assert len(settler.begun) == 2
    groups.record(batch(5, 2), report)  # the last records: the settle at the end is next
    assert len(settler.begun) == 2 and groups.pending == 2
    groups.settle(report)
    assert len(settler.begun) == 2 and groups.counts.at_end == 1
    assert len(index.documents) == 6 and report.records == 6


def test_a_command_that_will_hand_a_group_over_starts_the_settler_as_it_starts() -> None:
    pipeline, _, _, _ = wired()
    # More records than a group handed over holds: the settler's process starts at once.
    settler, _ = handing_over(pipeline, hand_over_records=4, expected_records=5)
    assert settler.prepared == 1 and not settler.begun

    # As many as a hand-over holds: the last record's group is folded at the end, nothing
    # is handed over, and no process is started for it.
    settler, groups = handing_over(pipeline, hand_over_records=4, expected_records=4)
    assert settler.prepared == 0
    groups.record(batch(1, 1), PipelineReport())
    assert settler.prepared == 0
    groups.record(batch(2, 3), PipelineReport())  # the last record: not handed over
    groups.settle()
    assert settler.prepared == 0 and not settler.begun

    # A `poll` never knows: readied half way through its first group, as before.
    settler, groups = handing_over(pipeline, hand_over_records=4)
    assert settler.prepared == 0
    groups.record(batch(5, 2), PipelineReport())
    assert settler.prepared == 1
