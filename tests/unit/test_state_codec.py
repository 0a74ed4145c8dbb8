"""The state tables' compiled codecs agree with the rows' declared fields."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from domain.items import LikeItem
from domain.likes import Like
from domain.users import User
from infrastructure.adapters.eventstore.state_tables import STATE_TABLES
from projections.folds import fold_event, keyed_events, state_table_of
from projections.ports import PositionedEvent
from projections.state import ImageRow, LikeRow, PaymentRow, StateTable, UserRow, WebTrafficRow

ROWS: dict[StateTable, list[Any]] = {
    StateTable.USERS: [
        UserRow(
            "u-1", "a@x.io", "Ada", "pro", "GB", "2024-01-01T00:00:00Z", True, ["x", "y"], "hi"
        ),
        UserRow("u-2", "b@x.io", "Bob", "free", "FR", "2024-01-02T00:00:00", False, None, None),
    ],
    StateTable.IMAGES: [
        ImageRow(
            "i-1",
            "u-1",
            "Fox",
            None,
            ["t"],
            "https://i/1",
            "2024-01-01T02:00:00+02:00",
            "active",
            12,
        ),
        ImageRow("i-2", "u-1", "Owl", "night", None, "https://i/2", "2024-01-01", "hidden", 0),
    ],
    StateTable.LIKES: [LikeRow("i-1", "u-2")],
    StateTable.PAYMENTS: [PaymentRow("u-1", "p-1", 1200, "paid")],
    StateTable.ANALYTICS: [WebTrafficRow("u-1", "2024-01-01", "google", None, 3, 7)],
}


@pytest.mark.parametrize("table", list(StateTable))
def test_a_rows_parameters_are_its_key_and_its_column_values(table: StateTable) -> None:
    layout = STATE_TABLES[table]
    for row in ROWS[table]:
        assert layout.keyed("agg", row) == ("agg", *layout.values(row))


@pytest.mark.parametrize("table", list(StateTable))
def test_a_stored_record_reads_back_as_the_row_written(table: StateTable) -> None:
    layout = STATE_TABLES[table]
    for row in ROWS[table]:
        stored = dict(zip(layout.columns, layout.values(row), strict=True))
        # SQLite gives a boolean back as 0 or 1.
        record = {k: int(v) if isinstance(v, bool) else v for k, v in stored.items()}
        assert layout.row(record) == row
        assert [f.name for f in fields(layout.row(record))] == [f.name for f in fields(row)]


def test_an_events_table_and_key_are_those_of_its_aggregate_whatever_is_asked_first() -> None:
    user = User.from_item(ROWS[StateTable.USERS][0])
    like = Like.from_item(LikeItem("i-1", "u-2", "2024-01-03T00:00:00Z"))
    events = [*user.collect_events(), *like.collect_events()]
    for _ in range(2):  # the second time from what the first one found
        assert [state_table_of(e) for e in events] == [StateTable.USERS, StateTable.LIKES]
    keyed = keyed_events([PositionedEvent(n, e) for n, e in enumerate(events, 1)])
    assert [(table, key) for table, key, _ in keyed] == [
        (StateTable.USERS, user.id.hex),
        (StateTable.LIKES, like.id.hex),
    ]
    assert state_table_of(object()) is None
    assert fold_event(StateTable.USERS, None, events[0]) == ROWS[StateTable.USERS][0]
