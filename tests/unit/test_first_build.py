"""A fresh store's first build over fakes of its ports: when it applies, how the two
slices are shared out, and what a failure on either side does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from domain.kinds import TableKind
from infrastructure.adapters.eventstore.generations import Generation, SliceProgress
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.services.bootstrap import BootstrapReport
from infrastructure.services.rebuild import Rebuild, RebuildReport
from infrastructure.services.rebuilding.first_build import FirstBuild
from infrastructure.services.rebuilding.slices import Partition
from projections.documents import DocumentKind

EVERY_KIND = [kind.value for kind in DocumentKind]


@dataclass
class FakeRegistry:
    live_generation: Generation | None = None
    building_generation: Generation | None = None
    slice_count: int = 0

    def live(self) -> Generation | None:
        return self.live_generation

    def building(self) -> Generation | None:
        return self.building_generation

    def slices(self, generation: int) -> list[SliceProgress]:
        return [
            SliceProgress(generation, n, self.slice_count, 10, 1) for n in range(self.slice_count)
        ]


@dataclass
class FakeStore:
    folded: int = 0
    recorded: int = 30_000  # enough to be built in two slices
    registry: FakeRegistry = field(default_factory=FakeRegistry)

    def tracking_position(self, generation: int) -> int:
        return self.folded

    def head(self) -> int:
        return self.recorded


@dataclass
class FakeHelper:
    """The second process: its slice's report, or the error its slice raised."""

    outcome: RebuildReport | Exception
    ended_early: bool = False  # `done` while the command's own slice waits
    calls: list[Any] = field(default_factory=list)

    pages_asked = 0  # no page is handed to it in these tests

    def prepare(self) -> None:
        self.calls.append("prepare")

    def begin_page(self, kind: TableKind, page: list[dict[str, Any]]) -> None:
        raise AssertionError("a build hands no page over")

    def finish_page(self) -> BootstrapReport:
        raise AssertionError("a build hands no page over")

    def begin_slice(self, index: int, count: int) -> None:
        self.calls.append(("begin_slice", index, count))

    def done(self) -> bool:
        return self.ended_early

    def finish_slice(self) -> RebuildReport:
        self.calls.append("finish_slice")
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def abandon(self) -> None:
        self.calls.append("abandon")


class FakeRebuilds:
    """Makes the command's own slice: it waits once for the others (calling ``peers``)."""

    def __init__(self, outcome: RebuildReport | Exception) -> None:
        self.outcome = outcome
        self.options: list[dict[str, Any]] = []

    def __call__(self, **options: Any) -> Rebuild:
        self.options.append(options)
        return cast(Rebuild, self)

    def run(self, kinds: list[DocumentKind]) -> RebuildReport:
        assert kinds == list(DocumentKind)
        peers = self.options[-1].get("peers")
        if peers is not None:
            peers()
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def report(activated: bool, events: int, written: int) -> RebuildReport:
    return RebuildReport(
        generation=2, kinds=EVERY_KIND, events=events, documents_written=written,
        activated=activated, indices={"users": "u-g2"} if activated else {},
    )  # fmt: skip


def build(store: FakeStore, rebuilds: FakeRebuilds, helper: FakeHelper | None = None) -> FirstBuild:
    return FirstBuild(rebuilds, cast(SqlProjectionStore, store), helper)


def test_with_a_second_process_each_builds_one_of_two_slices_and_the_reports_add_up() -> None:
    helper = FakeHelper(report(activated=True, events=40, written=7))
    rebuilds = FakeRebuilds(report(activated=False, events=60, written=5))
    built = build(FakeStore(), rebuilds, helper).run()

    assert helper.calls == [("begin_slice", 1, 2), "finish_slice"]
    [options] = rebuilds.options
    assert options["partition"] == Partition(0, 2)
    assert built is not None
    assert (built.events, built.documents_written, built.activated) == (100, 12, True)
    assert built.indices == {"users": "u-g2"}  # the activating slice's
    assert built.partition == "all/2"


def test_without_a_second_process_one_rebuild_builds_everything() -> None:
    rebuilds = FakeRebuilds(report(activated=True, events=100, written=12))
    built = build(FakeStore(), rebuilds).run()

    [options] = rebuilds.options
    assert "partition" not in options and "peers" not in options
    assert built is not None and built.documents_written == 12


def test_fewer_events_than_a_group_are_left_to_be_settled_as_one() -> None:
    helper = FakeHelper(report(activated=False, events=0, written=0))
    rebuilds = FakeRebuilds(report(activated=True, events=24_999, written=12))
    assert build(FakeStore(recorded=24_999), rebuilds, helper).run() is None
    assert rebuilds.options == [] and helper.calls == []


def test_a_first_build_cut_short_resumes_in_as_many_slices() -> None:
    helper = FakeHelper(report(activated=True, events=40, written=7))
    rebuilds = FakeRebuilds(report(activated=False, events=60, written=5))
    build(building(EVERY_KIND, 2, recorded=10), rebuilds, helper).run()  # small, yet two
    assert rebuilds.options[0]["partition"] == Partition(0, 2)
    assert helper.calls == [("begin_slice", 1, 2), "finish_slice"]


def test_nothing_recorded_builds_nothing() -> None:
    rebuilds = FakeRebuilds(report(activated=True, events=0, written=0))
    helper = FakeHelper(report(activated=False, events=0, written=0))
    assert build(FakeStore(recorded=0), rebuilds, helper).run() is None
    assert rebuilds.options == [] and helper.calls == []


def test_a_second_process_that_fails_stops_the_wait_for_its_slice_with_its_error() -> None:
    helper = FakeHelper(ValueError("disk full"), ended_early=True)
    rebuilds = FakeRebuilds(report(activated=False, events=60, written=5))
    with pytest.raises(ValueError, match="disk full"):
        build(FakeStore(), rebuilds, helper).run()
    assert helper.calls == [("begin_slice", 1, 2), "finish_slice", "abandon"]


def test_a_failure_of_the_commands_own_slice_ends_the_second_process() -> None:
    helper = FakeHelper(report(activated=True, events=40, written=7))
    rebuilds = FakeRebuilds(RuntimeError("index gone"))
    with pytest.raises(RuntimeError, match="index gone"):
        build(FakeStore(), rebuilds, helper).run()
    assert helper.calls == [("begin_slice", 1, 2), "abandon"]  # never waited for


def building(kinds: list[str], slices: int, recorded: int = 30_000) -> FakeStore:
    """A store with a rebuild of ``kinds`` in ``slices`` under way, nothing folded live."""
    registry = FakeRegistry(None, Generation(2, "building", kinds, {}), slices)
    return FakeStore(recorded=recorded, registry=registry)


@pytest.mark.parametrize(
    ("store", "applies"),
    [
        (FakeStore(), True),
        (FakeStore(folded=1), False),  # the projection has folded: settle in groups
        # A first build cut short is joined; a rebuild cut otherwise or of some kinds is not.
        (building(EVERY_KIND, 2), True),
        (building(EVERY_KIND, 1), True),
        (building(EVERY_KIND, 3), False),
        (building(["users"], 2), False),
    ],
    ids=["fresh", "folded", "cut-short", "cut-short-alone", "other-slices", "other-kinds"],
)
def test_it_applies_only_to_a_projection_that_has_folded_nothing(
    store: FakeStore, applies: bool
) -> None:
    helper = FakeHelper(report(activated=True, events=0, written=0))
    assert build(store, FakeRebuilds(report(True, 0, 0)), helper).applies() is applies
