"""The range of positions recorded since the projection last asked."""

from __future__ import annotations

from infrastructure.adapters.eventstore.recent_events import RecentEvents


def test_the_range_spans_every_position_added_since_last_asked() -> None:
    recent = RecentEvents()
    assert recent.take_recorded() is None

    recent.add((position, "event") for position in (7, 5, 9, 6))
    recent.add([])
    recent.add([(3, "event")])
    assert recent.take_recorded() == (3, 9)
    assert recent.take_recorded() is None

    recent.add([(12, "event")])
    recent.add([(11, "event"), (10, "event")])
    assert recent.take_recorded() == (10, 12)
