"""Rebuild without downtime: new indices behind the aliases, live updates never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.eventstore.generations import SliceProgress
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from projections.documents import DocumentKind
from tests.e2e.documents import (
    assert_same_documents,
    assert_tombstones_hold,
    deleted_documents,
    searchable_documents,
)
from tests.support.reference import expected_documents


def settings_in(directory: Path) -> Settings:
    return Settings(
        event_store=SQLiteStore(directory / "events.db"),
        search=EmbeddedSearch(directory / "index"),
        tables={},
        index_prefix="streamfold",
    )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Streamfold]:
    streamfold = Streamfold.from_settings(settings_in(tmp_path))
    yield streamfold
    streamfold.close()


def ingest(app: Streamfold, events: list[dict[str, Any]]) -> None:
    for event in events:
        assert app.ingestion.handle(event).failed == []


def documents(app: Streamfold) -> dict[str, dict[str, Any]]:
    return searchable_documents(app)


def test_a_rebuild_fills_new_indices_and_swaps_the_aliases(app: Streamfold) -> None:
    workload = CrmWorkload(seed=2, users=40)
    ingest(app, lambda_events(workload.records, batch_size=200))
    before = documents(app)
    old = {kind: app.index.alias_target(kind) for kind in DocumentKind}

    report = app.rebuild(batch_size=500).run(list(DocumentKind))

    assert report.generation == 2 and report.events == app.event_store.head()
    for kind in DocumentKind:
        assert app.index.alias_target(kind) == report.indices[kind.value] != old[kind]
        assert report.previous_indices[kind.value] == old[kind]
    assert documents(app) == before == expected_documents(workload.final_items())


def test_live_updates_during_and_after_a_rebuild_are_not_lost(app: Streamfold) -> None:
    workload = CrmWorkload(seed=4, users=80)
    events = lambda_events(workload.records, batch_size=100)
    half = len(events) // 2
    ingest(app, events[:half])

    live = threading.Thread(target=ingest, args=(app, events[half:]))
    live.start()
    app.rebuild(batch_size=300).run(list(DocumentKind))
    live.join()

    assert_same_documents(documents(app), expected_documents(workload.final_items()))


def test_deleted_documents_keep_their_tombstones_in_the_rebuilt_indices(app: Streamfold) -> None:
    workload = CrmWorkload(seed=2, users=40)
    events = lambda_events(workload.records, batch_size=200)
    ingest(app, events)
    deleted = deleted_documents(events, workload.final_items())
    assert {kind for kind, _ in deleted} == {kind.value for kind in DocumentKind}

    app.rebuild(batch_size=500).run(list(DocumentKind))

    assert_tombstones_hold(app, deleted)
    assert documents(app) == expected_documents(workload.final_items())


def test_a_rollback_catches_up_the_old_indices_and_swaps_back(app: Streamfold) -> None:
    workload = CrmWorkload(seed=6, users=60)
    events = lambda_events(workload.records, batch_size=150)
    ingest(app, events[: len(events) // 2])
    old = {kind: app.index.alias_target(kind) for kind in DocumentKind}
    app.rebuild(batch_size=400).run(list(DocumentKind))
    ingest(app, events[len(events) // 2 :])  # written only to the new indices

    report = app.rebuild().rollback()

    assert {kind: app.index.alias_target(kind) for kind in DocumentKind} == old
    assert report.generation == 1
    assert_same_documents(documents(app), expected_documents(workload.final_items()))
    ingest(app, events[-3:])  # the old generation is live again and keeps up
    assert_same_documents(documents(app), expected_documents(workload.final_items()))


def test_rebuilding_one_kind_moves_only_its_alias(app: Streamfold) -> None:
    workload = CrmWorkload(seed=8, users=30)
    events = lambda_events(workload.records, batch_size=100)
    ingest(app, events[: len(events) // 2])
    images_before = app.index.alias_target(DocumentKind.IMAGES)
    report = app.rebuild().run([DocumentKind.USERS])
    assert app.index.alias_target(DocumentKind.IMAGES) == images_before
    assert app.index.alias_target(DocumentKind.USERS) == report.indices["users"]
    ingest(app, events[len(events) // 2 :])  # changes of both kinds after the swap
    assert_same_documents(documents(app), expected_documents(workload.final_items()))


def test_a_killed_rebuild_resumes_where_it_stopped(tmp_path: Path) -> None:
    workload = CrmWorkload(seed=9, users=300)
    with Streamfold.from_settings(settings_in(tmp_path)) as app:
        ingest(app, lambda_events(workload.records, batch_size=1000))
    environment = {
        **os.environ,
        "STREAMFOLD_EVENT_STORE": f"sqlite:///{tmp_path / 'events.db'}",
        "STREAMFOLD_SEARCH": f"embedded:///{tmp_path / 'index'}",
    }
    command = [
        sys.executable,
        "-m",
        "infrastructure.entrypoints.cli.main",
        "rebuild",
        "--batch-size",
        "100",
    ]
    worker = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    with Streamfold.from_settings(settings_in(tmp_path)) as app:
        deadline = time.monotonic() + 60
        while (progress := _progress(app)) is None or progress.buckets_folded < 3:
            assert time.monotonic() < deadline, "the rebuild never got going"
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        stopped = _progress(app)
        assert stopped is not None and not stopped.folded  # killed part-way through the fold

        report = app.rebuild(batch_size=100).run(list(DocumentKind))

        assert report.resumed and report.generation == 2 and report.activated
        # Only what the killed run had not committed is folded again.
        assert report.events == app.event_store.head() - stopped.events_folded
        assert_same_documents(documents(app), expected_documents(workload.final_items()))


def _progress(app: Streamfold) -> SliceProgress | None:
    slices = app.projection_store.registry.slices(2)
    return slices[0] if slices else None


def test_verify_finds_injected_drift_and_repair_rewrites_exactly_it(app: Streamfold) -> None:
    from projections.documents import DocumentChange

    workload = CrmWorkload(seed=12, users=20)
    ingest(app, lambda_events(workload.records, batch_size=200))
    assert app.verification().against_event_store(list(DocumentKind)).clean
    users = sorted(documents(app)["users"])
    tampered, vanished = users[0], users[1]
    huge = (app.event_store.head() * 1000) + 5  # drift written by something else, newer
    app.index.write(
        [
            DocumentChange(DocumentKind.USERS, tampered, huge, {"user_id": tampered, "name": "x"}),
            DocumentChange(DocumentKind.USERS, vanished, huge, None),
            DocumentChange(DocumentKind.USERS, "ghost", huge, {"user_id": "ghost"}),
        ]
    )
    untouched = {d: app.index.get(DocumentKind.USERS, d) for d in users[2:5]}

    report = app.verification().against_event_store(list(DocumentKind), repair=True)

    assert (report.count("missing"), report.count("extra"), report.count("differs")) == (1, 1, 1)
    assert report.repaired == 3 and not report.unrepairable
    assert app.verification().against_event_store(list(DocumentKind)).clean
    assert {d: app.index.get(DocumentKind.USERS, d) for d in users[2:5]} == untouched
    assert_same_documents(documents(app), expected_documents(workload.final_items()))
