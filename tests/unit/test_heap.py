"""Freezing the objects a command starts with, for as long as it runs."""

from __future__ import annotations

import gc
import threading

from infrastructure.heap import YOUNG_GENERATION_THRESHOLD, frozen_while_running


def test_objects_existing_on_entry_are_frozen_until_the_last_holder_leaves() -> None:
    before = gc.get_freeze_count()
    with frozen_while_running():
        outer = gc.get_freeze_count()
        assert outer > before
        made_inside: list[list[object]] = [[] for _ in range(1000)]
        with frozen_while_running():
            # The inner holder also freezes what the outer one's work created.
            assert gc.get_freeze_count() >= outer + len(made_inside)
        assert gc.get_freeze_count() >= outer  # the outer holder still holds it
    assert gc.get_freeze_count() == 0


def test_concurrent_holders_share_the_freeze() -> None:
    entered, release = threading.Barrier(2), threading.Event()

    def hold() -> None:
        with frozen_while_running():
            entered.wait()
            release.wait()

    other = threading.Thread(target=hold)
    other.start()
    with frozen_while_running():
        entered.wait()
    assert gc.get_freeze_count() > 0  # the other thread still runs inside
    release.set()
    other.join()
    assert gc.get_freeze_count() == 0


def test_the_young_generation_is_collected_less_often_while_a_command_runs() -> None:
    before = gc.get_threshold()
    with frozen_while_running():
        young, *older = gc.get_threshold()
        assert young >= YOUNG_GENERATION_THRESHOLD and tuple(older) == before[1:]
        with frozen_while_running():
            assert gc.get_threshold()[0] == young
        assert gc.get_threshold()[0] == young  # the outer holder still runs
    assert gc.get_threshold() == before
