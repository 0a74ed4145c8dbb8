"""`migrate --plan` against real indices of both backends made by an earlier release."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch, RequestError
from osmem_server import OsmemServer

from infrastructure.adapters.opensearch.mappings import index_body
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.migrations.plan import Verdict
from infrastructure.settings import SQLiteStore
from projections.documents import DocumentKind
from projections.versions import projection_version
from tests.integration.test_migrate_older_indices import (
    BACKENDS,
    Earlier,
    Installation,
    installation,
    running_compatible_server,
)

USERS = DocumentKind.USERS
# (scenario, how the earlier index differs, where the plan sees it, verdict per backend)
SCENARIOS = {
    "added field": (
        Earlier(drop=("likes_given",)),
        "added",
        {"embedded": Verdict.NEW_INDEX, "opensearch": Verdict.IN_PLACE},
    ),
    "removed field": (
        Earlier(extra=("legacy_score",)),
        "removed",
        {"embedded": Verdict.NEW_INDEX, "opensearch": Verdict.NEW_INDEX},
    ),
    "type change": (
        Earlier(as_text=("likes_given",)),
        "retyped",
        {"embedded": Verdict.NEW_INDEX, "opensearch": Verdict.NEW_INDEX},
    ),
    "analyzer change": (
        Earlier(analyzer={"bio": "standard"}),
        "reconfigured",
        {"embedded": Verdict.NEW_INDEX, "opensearch": Verdict.NEW_INDEX},
    ),
    "projection behind": (
        Earlier(projection=1),
        "",
        {"embedded": Verdict.IN_PLACE, "opensearch": Verdict.IN_PLACE},
    ),
    "nothing": (
        Earlier(),
        "",
        {"embedded": Verdict.UP_TO_DATE, "opensearch": Verdict.UP_TO_DATE},
    ),
}
TANTIVY_ANALYZER = {"standard": "en_stem"}  # the embedded backend's other tokenizer


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


def earlier_for(install: Installation, earlier: Earlier) -> Earlier:
    if install.backend == "embedded" and earlier.analyzer:
        analyzers = {path: TANTIVY_ANALYZER[name] for path, name in earlier.analyzer.items()}
        return Earlier(earlier.projection, earlier.drop, earlier.extra, earlier.as_text, analyzers)
    return earlier


def changed_paths(plan_change: object, where: str) -> set[str]:
    found = getattr(plan_change, where)
    return set(found) if isinstance(found, dict) else {c.path for c in found}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_plan_finds_each_change_and_says_whether_it_fits_in_place(
    install: Installation, scenario: str
) -> None:
    earlier, where, verdicts = SCENARIOS[scenario]
    install.install_earlier(USERS, earlier_for(install, earlier))
    with install.open() as app:
        plan = app.migration().plan([USERS, DocumentKind.IMAGES])
    users, images = plan.kinds
    assert users.verdict is verdicts[install.backend], users.reasons
    assert images.verdict is Verdict.UP_TO_DATE  # created today, on first use
    if where:
        assert changed_paths(users.change, where)  # named in the plan, e.g. likes_given
        assert all("likes_given" in p or "bio" in p or "legacy_score" in p
                   for p in changed_paths(users.change, where))  # fmt: skip
    else:
        assert users.change.none
    if scenario == "projection behind":
        assert [r.version for r in users.revisions] == list(range(2, projection_version(USERS) + 1))
    assert users.live is not None and users.live.projection == earlier.version(USERS)
    assert users.wanted.label.startswith(f"v{projection_version(USERS)}-")


def test_the_plan_counts_what_a_rebuild_would_read_and_write(tmp_path: Path) -> None:
    from devtools.demo import CrmWorkload, lambda_events
    from tests.integration.test_migrate_older_indices import ingest

    install = installation("embedded", SQLiteStore(tmp_path / "events.db"), tmp_path, None)
    install.install_earlier(USERS, Earlier(projection=1))
    workload = CrmWorkload(seed=41, users=15)
    with install.open() as app:
        ingest(app, lambda_events(workload.records, batch_size=100))
        users = app.migration().plan([USERS]).kinds[0]
        assert users.events == app.event_store.head() > 0
        assert users.documents == len(workload.final_items()["users"])


def test_what_opensearch_refuses_in_place_is_exactly_what_the_plan_sends_to_a_new_index(
    compatible_server: OsmemServer, tmp_path: Path
) -> None:
    # The plan's verdict, checked against the server itself: an update of the live
    # mapping to the wanted field is accepted for an addition and refused otherwise.
    wanted = index_body(USERS)["mappings"]["properties"]
    for scenario, (earlier, _, verdicts) in SCENARIOS.items():
        if scenario in ("projection behind", "nothing", "removed field"):
            continue
        with compatible_server.clone() as clone:
            install = installation("opensearch", SQLiteStore(tmp_path / f"{scenario}.db"),
                                   tmp_path, clone.url)  # fmt: skip
            name = install.install_earlier(USERS, earlier)
            with install.open() as app:
                verdict = app.migration().plan([USERS]).kinds[0].verdict
            field = "bio" if earlier.analyzer else "likes_given"
            update = {"properties": {field: wanted[field]}}
            client = OpenSearch(hosts=[clone.url])
            if verdict is Verdict.IN_PLACE:
                client.indices.put_mapping(index=name, body=update)
            else:
                with pytest.raises(RequestError) as refused:
                    client.indices.put_mapping(index=name, body=update)
                assert refused.value.status_code == 400
            assert verdict is verdicts["opensearch"]


def test_migrate_plan_prints_json_for_scripts(
    install: Installation, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install.install_earlier(USERS, earlier_for(install, Earlier(analyzer={"bio": "standard"})))
    for name, value in install.environment().items():
        monkeypatch.setenv(name, value)

    assert main(["migrate", "users", "--plan", "--json"]) == 0

    printed = json.loads(capsys.readouterr().out)
    (users,) = printed["kinds"]
    assert printed["needed"] and users["verdict"] == "new index"
    assert users["fields"]["options_changed"] and users["backend"] == install.backend
    with install.open() as app:  # a plan changes nothing
        assert app.migration_backend().live(USERS).name == users["live_index"]  # type: ignore[union-attr]
        assert app.migration().plan([USERS]).kinds[0].verdict is Verdict.NEW_INDEX
