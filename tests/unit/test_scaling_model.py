"""The scaling model's simulator: each resource limits throughput as queueing says it must."""

from __future__ import annotations

import pytest

from devtools.benchmarks.scaling_model import (
    RECORDS_PER_BATCH,
    BatchCosts,
    Design,
    lambda_design,
    simulate,
)


def costs(**changes: object) -> BatchCosts:
    nothing: dict[str, object] = {
        "other_cpu": {}, "other_wait": 0.0, "record_cpu": {}, "record_wait": 0.0,
        "insert_hold": 0.0, "fold_before": 0.0, "fold_cpu": {}, "fold_hold_wait": 0.0,
        "empty_hold": 0.0, "flush_cpu": {}, "flush_wait": 0.0,
    }  # fmt: skip
    return BatchCosts(**{**nothing, **changes})  # type: ignore[arg-type]


def batches_per_second(cost: BatchCosts, design: Design, batches: int = 64) -> float:
    return simulate(cost, design, batches).records_per_second / RECORDS_PER_BATCH


def test_handlers_that_only_wait_scale_linearly() -> None:
    waiting = costs(record_wait=0.010, flush_wait=0.010)
    for handlers in (1, 2, 8):
        assert batches_per_second(waiting, Design(handlers)) == pytest.approx(50.0 * handlers)


def test_cpu_work_is_capped_by_the_cores_of_its_pool() -> None:
    busy = costs(record_cpu={"client": 0.010})
    assert batches_per_second(busy, Design(1)) == pytest.approx(100.0)
    for handlers in (2, 4, 8):  # two cores: twice one handler, never more
        assert batches_per_second(busy, Design(handlers)) == pytest.approx(200.0)


def test_an_insert_lock_serialises_what_it_holds() -> None:
    locked = costs(record_wait=0.010, insert_hold=0.005)
    # After the first 10 ms, one batch every 5 ms, whatever the number of handlers.
    assert batches_per_second(locked, Design(8), 64) == pytest.approx(64 / (0.010 + 64 * 0.005))
    # Eight event stores, eight locks: no waiting at all.
    assert batches_per_second(locked, Design(8, partitions=8)) == pytest.approx(8 / 0.015)


FOLD = costs(record_wait=0.003, fold_hold_wait=0.004, empty_hold=0.002, fold_cpu={"client": 0.001})


def test_one_session_folds_every_batch_recorded_before_it() -> None:
    alone = simulate(FOLD, Design(1), batches=40)
    together = simulate(FOLD, Design(4, pools={"machine": 8.0}, jitter=0.5), batches=40)

    assert (alone.sessions, alone.batches_folded, alone.empty_sessions) == (40, 40, 0)
    assert alone.projection_hold == pytest.approx(40 * (0.004 + 0.001))
    # Every handler still takes the lock once per batch, but some sessions fold the
    # batches of others, and the sessions that come after them find nothing.
    assert together.sessions == 40
    assert together.batches_folded == 40
    assert together.empty_sessions > 0
    folding = together.sessions - together.empty_sessions
    assert together.projection_hold == pytest.approx(
        folding * 0.004 + 40 * 0.001 + together.empty_sessions * 0.002, rel=0.5
    )  # the jitter varies each part by up to half


def test_waiters_for_their_position_skip_the_empty_sessions() -> None:
    design = {"pools": {"machine": 8.0}, "jitter": 0.5}
    locking = simulate(FOLD, Design(4, **design), 40)  # type: ignore[arg-type]
    waiting = simulate(FOLD, Design(4, position_waiters=True, **design), 40)  # type: ignore[arg-type]

    assert waiting.empty_sessions == 0
    assert waiting.skipped_sessions > 0
    assert waiting.sessions + waiting.skipped_sessions == 40
    assert waiting.batches_folded == 40
    assert waiting.projection_hold < locking.projection_hold


def test_in_lambda_the_handlers_cpu_is_their_own_and_the_database_is_a_pool() -> None:
    work = costs(record_cpu={"client": 0.010, "proxy": 0.003})
    # Each handler has its own core, and no proxy relays anything: 10 ms a batch each.
    for handlers in (1, 8):
        assert batches_per_second(work, lambda_design(handlers)) == pytest.approx(100 * handlers)
    # The same work on one shared pool of two cores (proxy included) caps at 2 / 13 ms.
    assert batches_per_second(work, Design(8)) == pytest.approx(2 / 0.013)
    # The database's CPU is a pool of its own.
    database = costs(record_cpu={"database": 0.002})
    assert batches_per_second(database, lambda_design(8, database_vcpus=1.0)) == pytest.approx(
        500.0
    )
