"""Partitioned rebuilds: N workers share one rebuild, each folding and rendering its slice.

Three worker processes on PostgreSQL race live ingestion, one of them killed and run again;
and the hand-over between slices (a worker that stops waiting, the last one that renders,
``--activate``) on SQLite with the OpenSearch-compatible test server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osmem_server import OsmemServer

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.eventstore.generations import SliceProgress
from infrastructure.composition import Streamfold
from infrastructure.services.rebuild import Rebuild
from infrastructure.services.rebuilding.slices import Partition
from infrastructure.settings import (
    EmbeddedSearch,
    OpenSearchTarget,
    PostgresStore,
    Settings,
    SQLiteStore,
)
from projections.documents import DocumentKind
from tests.conftest import event_store_url
from tests.e2e.documents import (
    assert_same_documents,
    assert_tombstones_hold,
    deleted_documents,
    searchable_documents,
)
from tests.support.reference import expected_documents


def ingest(app: Streamfold, events: list[dict[str, Any]]) -> None:
    for event in events:
        assert app.ingestion.handle(event).failed == []


def worker(environment: dict[str, str], partition: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "infrastructure.entrypoints.cli.main", "rebuild", "--json",
               "--partition", partition, "--batch-size", "40", "--wait", "120"]  # fmt: skip
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)


def slice_of(app: Streamfold, index: int) -> SliceProgress | None:
    slices = app.projection_store.registry.slices(2)
    return slices[index] if slices else None


def test_three_workers_racing_live_ingestion_converge_and_a_killed_slice_resumes(
    postgres_store: PostgresStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=21, users=120)
    events = lambda_events(workload.records, batch_size=100)
    half = len(events) // 2
    settings = Settings(postgres_store, EmbeddedSearch(tmp_path / "index"), {}, "streamfold")
    environment = {
        **os.environ,
        "STREAMFOLD_EVENT_STORE": event_store_url(postgres_store),
        "STREAMFOLD_SEARCH": f"embedded:///{tmp_path / 'index'}",
    }
    with Streamfold.from_settings(settings) as app:
        ingest(app, events[:half])
        victim = worker(environment, "1/3")
        deadline = time.monotonic() + 60
        while (progress := slice_of(app, 1)) is None or progress.buckets_folded < 2:
            assert time.monotonic() < deadline and victim.poll() is None, "slice 1 never began"
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed = slice_of(app, 1)
        assert killed is not None and not killed.folded  # killed part-way through its fold

        live = threading.Thread(target=ingest, args=(app, events[half:]))
        live.start()
        workers = [worker(environment, f"{k}/3") for k in range(3)]
        reports = [json.loads(w.communicate(timeout=180)[0]) for w in workers]
        live.join()

        assert [w.returncode for w in workers] == [0, 0, 0]
        assert sum(report["activated"] for report in reports) == 1
        assert reports[1]["resumed"] and not reports[0]["resumed"]
        slices = app.projection_store.registry.slices(2)
        assert all(s.folded and s.rendered for s in slices)
        # The resumed slice folded only what the killed run had not committed.
        resumed = reports[1]["events"] - reports[1]["events_caught_up"]
        assert resumed == slices[1].events_folded - killed.events_folded
        live_generation = app.projection_store.registry.live()
        assert live_generation is not None and live_generation.number == 2
        assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture
def opensearch_app(compatible_server: OsmemServer, tmp_path: Path) -> Iterator[Streamfold]:
    with compatible_server.clone() as clone:
        settings = Settings(
            SQLiteStore(tmp_path / "events.db"),
            OpenSearchTarget(clone.url, "none"),
            {},
            f"sf{uuid.uuid4().hex[:8]}",
        )
        with Streamfold.from_settings(settings) as app:
            yield app


def test_slices_hand_over_to_the_last_one_done_on_opensearch(opensearch_app: Streamfold) -> None:
    app = opensearch_app
    workload = CrmWorkload(seed=23, users=40)
    events = lambda_events(workload.records, batch_size=100)
    ingest(app, events[: len(events) // 2])
    old = {kind: app.index.alias_target(kind) for kind in DocumentKind}
    kinds = list(DocumentKind)

    def slice_worker(index: int) -> Rebuild:
        return app.rebuild(batch_size=200, partition=Partition(index, 2), wait_seconds=0)

    first = slice_worker(0).run(kinds)
    assert (first.waiting_to, first.waiting_for, first.activated) == ("fold", [1], False)
    second = slice_worker(1).run(kinds)  # every slice folded: it renders its own, then stops
    assert (second.waiting_to, second.waiting_for, second.activated) == ("render", [0], False)
    ingest(app, events[len(events) // 2 :])  # live updates while the rebuild is unfinished
    assert app.rebuild().finish().waiting_for == [0]  # --activate refuses: slice 0 not done
    assert {kind: app.index.alias_target(kind) for kind in DocumentKind} == old

    last = slice_worker(0).run(kinds)  # run again, it renders and activates

    assert last.resumed and last.activated and last.documents_written > 0
    assert {kind: app.index.alias_target(kind) for kind in DocumentKind} == {
        DocumentKind(kind): name for kind, name in last.indices.items()
    }
    assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))
    # Deleted before the rebuild: its fold left their tombstones in the new indices.
    before = events[: len(events) // 2]
    assert_tombstones_hold(app, deleted_documents(before, workload.final_items()))
    ingest(app, events[-2:])  # the new generation is live and keeps up
    assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))


def test_local_workers_share_a_rebuild_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infrastructure.entrypoints.cli.main import main

    workload = CrmWorkload(seed=25, users=30)
    settings = Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "streamfold"
    )
    with Streamfold.from_settings(settings) as app:
        ingest(app, lambda_events(workload.records, batch_size=200))
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")

    status = main(["rebuild", "--workers", "2", "--batch-size", "300", "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["activated"] and summary["partition"] == "all/2"
    with Streamfold.from_settings(settings) as app:
        assert summary["events"] == app.event_store.head()
        assert [s.rendered for s in app.projection_store.registry.slices(2)] == [True, True]
        assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))
