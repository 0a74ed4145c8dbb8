"""The events a process keeps after recording them, for its own projection."""

from __future__ import annotations

from infrastructure.adapters.eventstore.recent_events import RecentEvents


def positions(recent: RecentEvents, after: int, limit: int = 10) -> list[int]:
    return [e.position for e in recent.after(after, limit)]


def test_serves_an_unbroken_run_after_a_position() -> None:
    recent = RecentEvents()
    recent.add((position, f"event {position}") for position in (1, 2, 3, 5))

    assert positions(recent, 0) == [1, 2, 3]  # 4 was recorded elsewhere: read from the store
    assert positions(recent, 0, limit=2) == [1, 2]


def test_asking_after_a_position_lets_go_of_the_events_up_to_it() -> None:
    recent = RecentEvents()
    recent.add((position, f"event {position}") for position in range(1, 7))

    assert positions(recent, 3) == [4, 5, 6]
    # Asked again (a projection transaction that failed and is retried): still there.
    assert positions(recent, 3) == [4, 5, 6]
    # A projection further behind finds nothing here and reads from the store instead.
    assert positions(recent, 1) == []
    assert positions(recent, 5) == [6]
    assert positions(recent, 3) == []


def test_holds_at_most_its_capacity() -> None:
    recent = RecentEvents(capacity=3)
    recent.add((position, f"event {position}") for position in range(1, 6))

    assert positions(recent, 0) == []
    assert positions(recent, 2) == [3, 4, 5]


def test_asking_after_the_highest_lets_go_of_every_event_added_in_any_order() -> None:
    recent = RecentEvents()
    # Two threads' batches, the later one added first.
    recent.add((position, f"event {position}") for position in (4, 5, 6))
    recent.add((position, f"event {position}") for position in (1, 2, 3))

    assert positions(recent, 5) == [6]
    assert positions(recent, 6) == []
    recent.add([(7, "event 7")])
    assert positions(recent, 6) == [7]
    assert positions(recent, 3) == []  # let go of: read from the store
