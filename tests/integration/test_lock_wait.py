"""The benchmark's lock and stage timers count real acquisitions and leave nothing behind."""

from __future__ import annotations

from pathlib import Path

from devtools.benchmarks.lock_wait import timing_handler, timing_projection_lock
from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.eventstore import postgres_recorder
from infrastructure.adapters.eventstore.postgres_dialect import PostgresDialect
from infrastructure.adapters.eventstore.postgres_pipeline import PipelinedTransaction
from infrastructure.adapters.eventstore.postgres_recorder import PostgresSourceRecorder
from infrastructure.composition import Streamfold
from infrastructure.services.write_pipeline import WritePipeline
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings
from projections.projector import DocumentProjector
from projections.sync import SearchSync


def test_each_projection_session_is_one_timed_acquisition(
    postgres_store: PostgresStore, tmp_path: Path
) -> None:
    original = (
        PostgresDialect.open_locked,
        PipelinedTransaction.commit,
        PipelinedTransaction.rollback,
    )
    settings = Settings(postgres_store, EmbeddedSearch(tmp_path / "index"), {}, "locks")
    with Streamfold.from_settings(settings) as app:
        with timing_projection_lock() as lock:
            for _ in range(2):
                with app.projection_store.session():
                    pass
        with app.projection_store.session():
            pass

    assert lock.acquisitions == 2
    assert lock.seconds > 0
    assert lock.hold_seconds > 0  # held until each transaction's commit answered
    assert (
        PostgresDialect.open_locked,
        PipelinedTransaction.commit,
        PipelinedTransaction.rollback,
    ) == original


def test_every_insert_and_every_stage_of_each_batch_is_timed(
    postgres_store: PostgresStore, tmp_path: Path
) -> None:
    originals = (
        PostgresSourceRecorder.insert_events, PostgresSourceRecorder._events_insert,
        postgres_recorder.pipelined,
        WritePipeline.record, DocumentProjector.catch_up,
        SearchSync.flush, SearchSync.flush_rendered,
    )  # fmt: skip
    batches = lambda_events(CrmWorkload(seed=5, users=4).records, 25)[:3]
    settings = Settings(postgres_store, EmbeddedSearch(tmp_path / "index"), {}, "stages")
    with Streamfold.from_settings(settings) as app:
        app.index.prepare()
        with timing_handler() as timings:
            outcomes = [app.ingestion.handle(batch) for batch in batches]
            app.ingestion.handle({"Records": []})  # catches up, and finds nothing new

    events = sum(outcome.events_recorded for outcome in outcomes)
    assert events > 0
    assert timings.insert.inserts == len(batches)  # one recorder call, one lock, per batch
    assert timings.insert.wait_seconds >= 0  # on the server's clock: nobody else inserted
    assert timings.insert.hold_seconds > 0
    assert timings.projection.events_folded == events
    assert timings.projection.empty_catch_ups == 1  # the empty batch's
    assert {name: stage.calls for name, stage in timings.stages.items()} == {
        "record": len(batches) + 1, "fold": len(batches) + 1, "flush": len(batches) + 1,
    }  # fmt: skip
    assert timings.documents_written == sum(o.documents_written for o in outcomes)
    assert (
        PostgresSourceRecorder.insert_events, PostgresSourceRecorder._events_insert,
        postgres_recorder.pipelined,
        WritePipeline.record, DocumentProjector.catch_up,
        SearchSync.flush, SearchSync.flush_rendered,
    ) == originals  # fmt: skip
