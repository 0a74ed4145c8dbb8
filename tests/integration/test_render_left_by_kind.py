"""Documents that folds left to render are rendered one kind at a time, as a command's end
shares them between its two processes (`WritePipeline.render_left`), on both event stores."""

from __future__ import annotations

from pathlib import Path

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.composition import Streamfold
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.write_pipeline import PipelineReport
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import DocumentKind
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.integration.test_grouped_settling import settings_of
from tests.support.reference import expected_documents


def test_each_kind_left_to_render_is_rendered_and_written_on_its_own(
    event_store_target: SQLiteStore | PostgresStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=17, users=8)
    with Streamfold.from_settings(settings_of(event_store_target, tmp_path), settler=None) as app:
        # Recorded as a command records, nothing settled yet.
        groups = SettleGroups(app.pipeline, max_records=10**6, max_seconds=3600)
        for event in lambda_events(workload.records, batch_size=40):
            assert not app.ingestion.handle(event, groups).failed
        assert groups.counts.settles == 0
        # What a command's end does before sharing the render: fold, leaving it.
        app.pipeline.settle(PipelineReport(), render=False)
        [folded] = app.status().projections
        assert folded.unrendered_documents > 0 and folded.behind == 0
        before = searchable_documents(app)

        users = PipelineReport()
        app.pipeline.render_left(users, [DocumentKind.USERS])
        [left] = app.status().projections
        after_users = searchable_documents(app)
        images = PipelineReport()
        app.pipeline.render_left(images, [DocumentKind.IMAGES])
        [done] = app.status().projections
        found = searchable_documents(app)

    expected = expected_documents(workload.final_items())
    # The users' render wrote the users only; the images were left for theirs.
    assert users.documents_written == len(expected["users"]) > 0
    assert after_users["images"] == before["images"]
    assert 0 < left.unrendered_documents < folded.unrendered_documents
    assert images.documents_written > 0
    assert (done.unrendered_documents, done.pending_documents) == (0, 0)
    assert_same_documents(found, expected)
