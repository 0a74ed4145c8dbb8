"""Folds that leave their documents to render: the next transaction that renders, in any
process, renders them, and nothing is left behind (projections/projector.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.intake import ChangeIntake
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import VERSION_STEP, DocumentKind
from projections.projector import DocumentProjector
from tests.integration.test_event_store import USER
from tests.integration.test_projection_rows import IMAGE, LIKE, change


@pytest.fixture
def store(event_store_target: SQLiteStore | PostgresStore) -> Iterator[EventStore]:
    event_store = EventStore(event_store_target)
    yield event_store
    event_store.close()


def record_user_image_and_like(store: EventStore, at: int = 1) -> None:
    ChangeIntake(EventSourcedItemLedger(store)).record(
        [
            change(TableKind.USERS, ("u-1",), USER, at),
            change(TableKind.IMAGES, ("i-1",), IMAGE, at + 1),
            change(TableKind.LIKES, ("i-1", "u-1"), LIKE, at + 2),
        ]
    )


def left_to_render(projections: SqlProjectionStore) -> tuple[set[str], set[str]]:
    with projections.session() as session:
        return session.unrendered()


def pending(projections: SqlProjectionStore) -> dict[tuple[DocumentKind, str], int]:
    return {(d.kind, d.doc_id): d.version for d in projections.pending_documents(100)}


def test_a_fold_that_does_not_render_leaves_its_documents_to_another_process(
    store: EventStore, event_store_target: SQLiteStore | PostgresStore
) -> None:
    record_user_image_and_like(store)
    projections = SqlProjectionStore(store)

    folded = DocumentProjector(projections).catch_up(render=False)

    assert (folded.events, folded.documents_rendered, folded.position) == (3, 0, 3)
    assert pending(projections) == {}
    assert left_to_render(projections) == ({"u-1"}, {"i-1"})
    # Another process (a later command, a Lambda invocation) with nothing new to fold.
    other_store = EventStore(event_store_target)
    try:
        other = SqlProjectionStore(other_store)
        rendered = DocumentProjector(other).catch_up()
        assert (rendered.events, rendered.documents_rendered) == (0, 2)
        assert pending(other) == {
            (DocumentKind.USERS, "u-1"): 3 * VERSION_STEP,
            (DocumentKind.IMAGES, "i-1"): 3 * VERSION_STEP,
        }
        assert left_to_render(other) == (set(), set())
        # Rendered once: the next catch-up has nothing to do.
        assert DocumentProjector(other).catch_up().documents_rendered == 0
    finally:
        other_store.close()


def test_the_next_fold_that_renders_renders_what_was_left_with_its_own(
    store: EventStore,
) -> None:
    ChangeIntake(EventSourcedItemLedger(store)).record(
        [
            change(TableKind.USERS, ("u-1",), USER, 1),
            change(TableKind.IMAGES, ("i-1",), IMAGE, 2),
        ]
    )
    projections = SqlProjectionStore(store)
    projector = DocumentProjector(projections)
    projector.catch_up(render=False)
    ChangeIntake(EventSourcedItemLedger(store)).record(
        [change(TableKind.USERS, ("u-2",), {**USER, "userId": "u-2"}, 3)]
    )

    report = projector.catch_up()

    assert (report.events, report.documents_rendered) == (1, 3)
    assert report.rendered is not None
    [(generation, rendered)] = report.rendered.items()
    assert generation == 1
    assert set(rendered) == {
        (DocumentKind.USERS, "u-1"),
        (DocumentKind.USERS, "u-2"),
        (DocumentKind.IMAGES, "i-1"),
    }
    assert left_to_render(projections) == (set(), set())
    body = next(d.body for d in projections.pending_documents(10) if d.doc_id == "u-1")
    assert body is not None and body["image_count"] == 1


def test_a_generation_without_the_table_reports_nothing_left_to_render(store: EventStore) -> None:
    """A generation retired before the table existed has none: its progress still reads."""
    projections = SqlProjectionStore(store)
    record_user_image_and_like(store)
    DocumentProjector(projections).catch_up(render=False)
    assert projections.progress(1).unrendered_documents == 2
    with store.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("DROP TABLE streamfold_unrendered")

    progress = projections.progress(1)

    assert (progress.position, progress.unrendered_documents) == (3, 0)
    assert progress.oldest_unrendered_position is None
