"""A fresh store's documents, built the way a rebuild builds them: once.

A bootstrap into a store whose projection has folded nothing records every item first
and then builds the documents as a rebuild does (`Rebuild`): each aggregate folded from
its first event to its last in one go, each document rendered once and written once into
new indices, which then go live. Settled group by group instead, each group folds its
events into state read back and saved again, and renders every document the group touched,
so a user document is rendered once per group its images' likes fall into.

With a second process (the command's `ProcessSettler`) that process records pages while
the command records, and the rebuild is cut into two slices that fold and render at once.
Fewer events than a command's group (`GROUP_RECORDS`) are settled as one group instead:
that too renders each document once, without a build's fixed steps (new indices, their
activation). See docs/adr/0030-a-fresh-bootstrap-builds-its-documents-once.md.

>>> build = FirstBuild(app.rebuild, app.projection_store, second_process)
>>> if build.applies():
...     ...                               # record every item, settling nothing
...     build.run().documents_written
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.services.background_settle import SLICE_POLL_SECONDS
from infrastructure.services.bootstrap import PageRecorder
from infrastructure.services.grouping import GROUP_RECORDS
from infrastructure.services.rebuild import Rebuild, RebuildReport, Stage
from infrastructure.services.rebuilding.slices import Partition
from infrastructure.services.rebuilding.workers import WorkerFailed
from projections.documents import DocumentKind


class SliceHelper(PageRecorder, Protocol):
    """A second process that records pages while the command records, then builds a slice
    of the rebuild (`ProcessSettler`)."""

    def begin_slice(self, index: int, count: int) -> None: ...

    def finish_slice(self) -> RebuildReport: ...

    def abandon(self) -> None: ...


class FirstBuild:
    """Builds the documents of a store whose live projection has folded nothing."""

    def __init__(
        self,
        rebuild: Callable[..., Rebuild],
        projection_store: SqlProjectionStore,
        helper: SliceHelper | None = None,
        settle_below: int = GROUP_RECORDS,
    ) -> None:
        self._rebuild = rebuild
        self._settle_below = settle_below
        self._store = projection_store
        self._helper = helper
        self._most_slices = 1 if helper is None else 2

    @property
    def helper(self) -> SliceHelper | None:
        """The second process, which may record pages while the command records."""
        return self._helper

    def applies(self) -> bool:
        """Whether the live projection has folded nothing yet, and no rebuild that this
        one could not join is under way (one it could join: a first build cut short)."""
        registry = self._store.registry
        live = registry.live()
        if self._store.tracking_position(1 if live is None else live.number) > 0:
            return False
        building = registry.building()
        if building is None:
            return True
        every_kind = {kind.value for kind in DocumentKind}
        slices = len(registry.slices(building.number))
        return set(building.kinds) == every_kind and 1 <= slices <= self._most_slices

    def run(self, stage: Stage | None = None) -> RebuildReport | None:
        """Fold every recorded event once and make the documents live; None, having done
        nothing, if fewer than ``settle_below`` events were recorded (and no first build is
        left to finish): the caller settles them as one group."""
        registry = self._store.registry
        building = registry.building()
        if building is not None:  # a first build cut short: resumed in as many slices
            slices = len(registry.slices(building.number))
        elif self._store.head() < self._settle_below:
            return None
        else:
            slices = self._most_slices
        kinds = list(DocumentKind)
        helper = self._helper
        if helper is None or slices == 1:
            return self._rebuild(stage=stage).run(kinds)

        def check_on_helper() -> None:
            # Called while a slice has not folded: the helper cannot have ended well then.
            if helper.done():
                helper.finish_slice()  # raises what it raised
                raise WorkerFailed("the second process ended before its slice was folded")

        helper.begin_slice(1, 2)
        try:
            mine = self._rebuild(
                partition=Partition(0, 2),
                poll_seconds=SLICE_POLL_SECONDS,
                peers=check_on_helper,
                stage=stage,
            ).run(kinds)
        except BaseException:
            helper.abandon()  # what both slices committed stays: running again resumes
            raise
        return _together(mine, helper.finish_slice())


def _together(*reports: RebuildReport) -> RebuildReport:
    """The slices' reports as one: the activating slice's generation and indices."""
    activating = next((r for r in reports if r.activated), reports[0])
    summed: dict[str, Any] = {
        name: sum(getattr(r, name) for r in reports)
        for name in ("events", "documents_written", "documents_dead_lettered", "caught_up")
    }
    return RebuildReport(
        generation=activating.generation,
        kinds=activating.kinds,
        seconds=max(r.seconds for r in reports),
        indices=activating.indices,
        previous_indices=activating.previous_indices,
        resumed=any(r.resumed for r in reports),
        partition=f"all/{len(reports)}",
        activated=any(r.activated for r in reports),
        **summed,
    )
