"""Chaos on PostgreSQL and OpenSearch: whatever the delivery, nothing is lost or wrong.

Three handler processes receive a workload's batches with duplicate records, whole
batches sent again, retries from a record in the middle of a batch, tables interleaved,
bad records mixed in, and two of them killed with SIGKILL in the middle of a batch and
restarted. After draining, every document equals the fold of the final tables, and the
dead-letter store holds exactly the records that were bad on purpose. The payments table
is left out of ``STREAMFOLD_TABLES`` at first, so its records are dead letters too; once
it is named, ``streamfold dlq replay`` brings them in, and replaying again does no harm.

Each run draws a seed (printed with the figures and in any failure); replay a run with
``STREAMFOLD_CHAOS_SEED=<seed> pytest tests/chaos``.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import CrmWorkload
from infrastructure.adapters.eventstore.dead_letters import DeadLetter
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import PostgresStore, Settings
from tests.chaos.bad_records import UNKNOWN_TABLE, bad_records, letter_raw
from tests.chaos.delivery import ChaosDelivery, chaos_events
from tests.chaos.figures import report_figures
from tests.conftest import event_store_url
from tests.e2e.documents import differences, searchable_documents
from tests.support.delivery import table_of
from tests.support.reference import expected_documents

SEED = int(os.environ.get("STREAMFOLD_CHAOS_SEED") or random.SystemRandom().randrange(10**6))
HANDLERS = 3
KINDS = ("users", "images", "likes", "payments")
TABLES = {kind: f"chaos-{kind}" for kind in KINDS}
UNMAPPED = TABLES["payments"]


def tables_setting(kinds: tuple[str, ...]) -> str:
    return ",".join(f"{kind}={TABLES[kind]}" for kind in kinds)


def found_documents(environment: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    with Streamfold.from_settings(Settings.from_environment(environment)) as app:
        return searchable_documents(app)


def all_letters(environment: Mapping[str, str]) -> list[DeadLetter]:
    with Streamfold.from_settings(Settings.from_environment(environment)) as app:
        return app.dead_letters.list(status=None, limit=1_000_000)


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def assert_documents(found: Any, expected: Any, when: str) -> None:
    problems = differences(found, expected)
    assert not problems, f"seed {SEED}, {when}: documents differ:\n" + "\n".join(problems)


def test_chaos_delivery_converges_and_dead_letters_exactly_the_bad_records(
    postgres_store: PostgresStore,
    osmem_clone: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workload = CrmWorkload(seed=SEED, users=30, table_names=TABLES)
    records = workload.records
    first = {table_of(r): r for r in reversed(records) if r["eventName"] == "INSERT"}
    bad = bad_records(first[TABLES["users"]], first[TABLES["images"]])
    environment = {
        "STREAMFOLD_EVENT_STORE": event_store_url(postgres_store),
        "STREAMFOLD_SEARCH": osmem_clone.url,
        "STREAMFOLD_TABLES": tables_setting(("users", "images", "likes")),
        "STREAMFOLD_INDEX_PREFIX": "chaos",
    }

    delivery = ChaosDelivery(environment, SEED, HANDLERS, tmp_path)
    figures = delivery.run(chaos_events(records, list(bad.values()), SEED), timeout=300)

    final = workload.final_items()
    without_payments = {kind: items for kind, items in final.items() if kind != "payments"}
    expected = expected_documents(without_payments)
    assert_documents(found_documents(environment), expected, "after the chaos delivery")
    payments = [record for record in records if table_of(record) == UNMAPPED]
    letters = all_letters(environment)
    assert not [letter.letter_id for letter in letters if letter.source == "document"]
    assert sorted(json.dumps(letter.raw, sort_keys=True) for letter in letters) == sorted(
        letter_raw(record) for record in [*bad.values(), *payments]
    ), f"seed {SEED}: the dead letters are not exactly the bad records"
    assert all(letter.reason and "\n" not in letter.reason for letter in letters)
    assert figures.kills_mid_batch >= 1, f"seed {SEED}: no handler was killed mid-batch"

    # The fix: name the payments table; replaying its letters brings the payments in.
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("STREAMFOLD_TABLES", tables_setting(KINDS))
    code, replay = cli_json(capsys, "dlq", "replay", "--all", "--table", UNMAPPED, "--json")
    assert (code, len(replay["replayed"]), replay["still_failing"]) == (0, len(payments), [])
    fixed = {**environment, "STREAMFOLD_TABLES": tables_setting(KINDS)}
    complete = expected_documents(final)
    assert_documents(found_documents(fixed), complete, "after the replay")

    # Replaying twice does no harm, whether by id or by filter.
    code, again = cli_json(capsys, "dlq", "replay", *replay["replayed"][:10], "--json")
    assert (code, again["still_failing"]) == (0, [])
    code, nothing = cli_json(capsys, "dlq", "replay", "--all", "--table", UNMAPPED, "--json")
    assert (code, nothing["replayed"]) == (0, [])
    assert_documents(found_documents(fixed), complete, "after replaying twice")

    # What is left open is exactly the bad records, and the filters find each kind.
    code, still_open = cli_json(capsys, "dlq", "list", "--limit", "1000", "--json")
    assert sorted(json.dumps(letter["raw"], sort_keys=True) for letter in still_open) == sorted(
        letter_raw(record) for record in bad.values()
    )
    _, unknown = cli_json(capsys, "dlq", "list", "--table", UNKNOWN_TABLE, "--json")
    assert [letter["raw"]["eventID"] for letter in unknown] == [bad["unknown_table"]["eventID"]]
    _, nul = cli_json(capsys, "dlq", "list", "--reason", "NUL character", "--json")
    assert [letter["raw"]["eventID"] for letter in nul] == [bad["nul_character"]["eventID"]]

    report_figures(
        "chaos",
        {
            **figures.as_dict(),
            "bad_records": len(bad),
            "records_of_an_unmapped_table": len(payments),
            "dead_letters": len(letters),
            "dead_letters_replayed": len(replay["replayed"]),
            "documents_checked": sum(len(docs) for docs in complete.values()),
            "documents_lost_or_wrong": 0,
        },
    )
