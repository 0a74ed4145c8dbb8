"""`streamfold migrate`: blue/green and in place, racing live ingestion, resumed, rolled back,
and never twice at once; on both search backends and both event stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osmem_server import OsmemServer

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.eventstore.migration_leases import MigrationLeases, MigrationRunning
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.migrations.plan import Verdict
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import DocumentKind
from projections.versions import projection_version
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.integration.test_migrate_older_indices import (
    BACKENDS,
    Earlier,
    Installation,
    ingest,
    installation,
    running_compatible_server,
)
from tests.support.reference import expected_documents

USERS, IMAGES = DocumentKind.USERS, DocumentKind.IMAGES
# An earlier release analyzed bios otherwise and rendered version-1 user documents: the
# users index must be replaced (blue/green).
REPLACED = {"embedded": Earlier(projection=1, analyzer={"bio": "en_stem"}),
            "opensearch": Earlier(projection=1, analyzer={"bio": "standard"})}  # fmt: skip
BEHIND = Earlier(projection=1)  # same fields, older documents: re-rendered in place


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    """The OpenSearch-compatible test server, shared by the module's tests."""
    yield from running_compatible_server()


@pytest.fixture(params=BACKENDS)
def install(
    request: pytest.FixtureRequest, tmp_path: Path, compatible_server: OsmemServer
) -> Iterator[Installation]:
    with compatible_server.clone() as clone:
        yield installation(request.param, SQLiteStore(tmp_path / "events.db"), tmp_path, clone.url)


# Each search backend once and each event store once: the lease, the positions and the
# documents live in the event store, the indices in the backend.
@pytest.fixture(params=[("embedded", "sqlite"), ("opensearch", "postgres")],
                ids=lambda p: f"{p[0]}-{p[1]}")  # fmt: skip
def every_install(
    request: pytest.FixtureRequest, tmp_path: Path, compatible_server: OsmemServer
) -> Iterator[Installation]:
    backend, store = request.param
    target: SQLiteStore | PostgresStore = (
        SQLiteStore(tmp_path / "events.db")
        if store == "sqlite"
        else request.getfixturevalue("postgres_store")
    )
    with compatible_server.clone() as clone:
        yield installation(backend, target, tmp_path, clone.url)


class LiveIngestion:
    """Handler invocations on a container of their own, from the migration's start on.

    Once the migration has begun (``go``), it delivers the new batches one by one, then
    keeps delivering earlier ones again (duplicates, which change nothing) until the
    migration is over. ``while_migrating`` is the migration's stage callback: at each of
    its steps it waits until the next new batch was delivered, so new events are recorded
    while each step runs. A batch whose records come back in ``batchItemFailures`` is
    delivered again, as Lambda does.
    """

    def __init__(self, install: Installation, events: list[dict[str, Any]]) -> None:
        self._install = install
        self._events = events
        self.go = threading.Event()
        self.stop = threading.Event()
        self.delivered = threading.Semaphore(0)  # one release per new batch delivered
        self.during = 0  # new batches delivered before the migration was over
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run)

    def while_migrating(self, step: str) -> None:
        self.go.set()
        if not self.errors:
            # No transaction of the migration is open between steps: the batch goes in.
            assert self.delivered.acquire(timeout=60), f"no live batch during {step!r}"

    def __enter__(self) -> LiveIngestion:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.go.set()
        self.stop.set()
        self._thread.join()
        assert not self.errors, self.errors

    def _run(self) -> None:
        try:
            with self._install.open() as app:
                self.go.wait(60)
                for event in self._events:
                    _deliver(app, event)
                    self.during += not self.stop.is_set()
                    self.delivered.release()
                repeat = 0
                while not self.stop.is_set():
                    _deliver(app, self._events[repeat % len(self._events)])
                    repeat += 1
                    self.delivered.release()
        except BaseException as error:  # reported by __exit__
            self.errors.append(error)
            self.delivered.release()


def _deliver(app: Streamfold, event: dict[str, Any], attempts: int = 20) -> None:
    for _ in range(attempts):
        if not app.ingestion.handle(event).failed:
            return
    raise AssertionError(f"a batch still failed after {attempts} deliveries")


def converged(app: Streamfold, workload: CrmWorkload) -> None:
    app.sync.flush()
    assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))


def test_a_blue_green_migration_racing_live_ingestion_converges(
    every_install: Installation,
) -> None:
    earlier = REPLACED[every_install.backend]
    old = every_install.install_earlier(USERS, earlier)
    workload = CrmWorkload(seed=51, users=25)
    events = lambda_events(workload.records, batch_size=50)
    with every_install.open() as app:
        ingest(app, events[: len(events) // 3])
        head = app.event_store.head()
        with LiveIngestion(every_install, events[len(events) // 3 :]) as live:
            migration = app.migration(batch_size=100, stage=live.while_migrating)
            report = migration.run([USERS, IMAGES])
        assert live.during >= 2  # new batches went in while it folded and caught up
        assert report.events > head  # so the new generation folded events it did not start with
        users, images = report.outcomes
        assert (users.method, images.method) == ("new index", "none")
        assert users.from_index == old != users.to_index == app.index.alias_target(USERS)
        assert users.to_version == app.migration_backend().wanted_version(USERS).label
        assert users.to_index is not None
        assert users.to_index.endswith(f"-{users.to_version}-g{report.generation}")
        assert not app.migration().plan([USERS, IMAGES]).needed
        converged(app, workload)


def test_an_in_place_migration_racing_live_ingestion_converges(install: Installation) -> None:
    old = install.install_earlier(USERS, BEHIND)
    workload = CrmWorkload(seed=52, users=20)
    events = lambda_events(workload.records, batch_size=50)
    with install.open() as app:
        ingest(app, events[: len(events) // 3])
        before = {d: app.index.get(USERS, d) for d in searchable_documents(app)["users"]}
        with LiveIngestion(install, events[len(events) // 3 :]) as live:
            report = app.migration(batch_size=100, stage=live.while_migrating).run([USERS])
        assert live.during >= 2  # new batches went in while it added fields and re-rendered
        (users,) = report.outcomes
        assert users.method == "in place" and users.to_index == old
        assert users.documents_rewritten >= len(before)
        assert app.migration_backend().live(USERS).projection == projection_version(USERS)  # type: ignore[union-attr]
        for doc_id, earlier in before.items():  # every document was rewritten, newer
            now = app.index.get(USERS, doc_id)
            assert now is None or earlier is None or now.version > earlier.version
        converged(app, workload)


def test_opensearch_takes_new_fields_in_place_and_the_rerender_repairs_refused_documents(
    compatible_server: OsmemServer, tmp_path: Path
) -> None:
    # An earlier release had no likes_given: today's documents are refused by the live
    # strict mapping until the migration adds the field and re-renders every document.
    with compatible_server.clone() as clone:
        install = installation("opensearch", SQLiteStore(tmp_path / "e.db"), tmp_path, clone.url)
        old = install.install_earlier(USERS, Earlier(drop=("likes_given",)))
        workload = CrmWorkload(seed=53, users=25)
        with install.open() as app:
            for event in lambda_events(workload.records, batch_size=100):
                app.ingestion.handle(event)
            assert app.dead_letters.count() > 0  # refused: a field the mapping lacks

            report = app.migration().run([USERS])

            (users,) = report.outcomes
            assert (users.method, users.to_index, users.fields_added_in_place) == (
                "in place", old, 1,
            )  # fmt: skip
            assert app.migration_backend().live(USERS).definition.fields["likes_given"].type == (  # type: ignore[union-attr]
                "integer"
            )
            assert not app.migration().plan([USERS]).needed
            converged(app, workload)


class Crash(Exception):
    """The migration's process dies here."""


def test_a_migration_that_died_part_way_resumes(install: Installation) -> None:
    install.install_earlier(USERS, REPLACED[install.backend])
    workload = CrmWorkload(seed=54, users=30)
    events = lambda_events(workload.records, batch_size=100)
    with install.open() as app:
        ingest(app, events)
        calls = 0

        def dies(done: int, total: int) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise Crash

        with pytest.raises(Crash):
            app.migration(batch_size=50, progress=dies).run([USERS])
        building = app.projection_store.registry.building()
        assert building is not None and building.kinds == ["users"]
        assert app.index.alias_target(USERS).endswith("-earlier")  # type: ignore[union-attr]

        report = app.migration(batch_size=50).run([USERS])

        assert report.resumed and report.generation == building.number
        assert app.projection_store.registry.building() is None
        assert not app.migration().plan([USERS]).needed
        converged(app, workload)


def test_rollback_returns_to_the_previous_version_and_keeps_it_up_to_date(
    install: Installation,
) -> None:
    old = install.install_earlier(USERS, REPLACED[install.backend])
    workload = CrmWorkload(seed=55, users=25)
    events = lambda_events(workload.records, batch_size=80)
    third = len(events) // 3
    with install.open() as app:
        ingest(app, events[:third])
        old_definition = app.migration_backend().live(USERS).definition  # type: ignore[union-attr]
        app.migration(batch_size=200).run([USERS])
        ingest(app, events[third : 2 * third])  # written to the new version only

        report = app.migration().rollback()

        (users,) = report.outcomes
        assert (users.method, users.to_index) == ("rolled back", old)
        assert app.index.alias_target(USERS) == old
        rolled_back = app.migration_backend().live(USERS)
        assert rolled_back is not None and rolled_back.definition == old_definition
        # Its documents from before the code changed are rendered as the code renders now.
        assert (
            users.documents_rewritten > 0
            and app.verification().against_event_store([USERS, IMAGES]).clean
        )
        assert app.migration().plan([USERS]).kinds[0].verdict is Verdict.NEW_INDEX
        ingest(app, events[2 * third :])  # the previous index is live and keeps up
        converged(app, workload)


def test_a_second_migration_of_the_same_kind_is_refused_while_one_runs(
    every_install: Installation, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    every_install.install_earlier(USERS, REPLACED[every_install.backend])
    workload = CrmWorkload(seed=56, users=12)
    with every_install.open() as app:
        ingest(app, lambda_events(workload.records, batch_size=100))
        inside, carry_on = threading.Event(), threading.Event()

        def pauses(done: int, total: int) -> None:
            inside.set()
            assert carry_on.wait(60)

        first = threading.Thread(
            target=lambda: app.migration(batch_size=50, progress=pauses).run([USERS])
        )
        first.start()
        assert inside.wait(60)
        try:
            with pytest.raises(MigrationRunning, match="a migration of users is already running"):
                app.migration().run([USERS, IMAGES])
            for name, value in every_install.environment().items():
                monkeypatch.setenv(name, value)
            assert main(["migrate", "users"]) == 2
            message = capsys.readouterr().err
            assert "a migration of users is already running" in message
            assert "lease until" in message and "\n" not in message.strip()
            assert app.migration().run([IMAGES]).outcomes[0].method == "none"  # other kind: free
        finally:
            carry_on.set()
            first.join()
        assert MigrationLeases(app.event_store).held() == []  # released at the end
        assert not app.migration().plan([USERS]).needed
        converged(app, workload)
