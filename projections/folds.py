"""Pure folds: (state row, domain event) -> state row. ``None`` means the item is gone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from domain.analytics import WebTraffic
from domain.images import Image
from domain.likes import Like
from domain.payments import Payment
from domain.users import User
from projections.state import (
    ImageRow,
    LikeRow,
    PaymentRow,
    Row,
    StateTable,
    UserRow,
    WebTrafficRow,
)

R = TypeVar("R", bound=Row)

_FIELDS: dict[type[Any], frozenset[str]] = {
    row_class: frozenset(f.name for f in fields(row_class))
    for row_class in (UserRow, ImageRow, LikeRow, PaymentRow, WebTrafficRow)
}


# Each row's fields in declaration order, read from an event's fields in one call.
_GETTERS: dict[type[Any], Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    row_class: itemgetter(*(f.name for f in fields(row_class))) for row_class in _FIELDS
}


# Each row's fields in declaration order, read from a row in one call.
_NAMES: dict[type[Any], tuple[str, ...]] = {
    row_class: tuple(f.name for f in fields(row_class)) for row_class in _FIELDS
}
_VALUES: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {
    row_class: attrgetter(*names) for row_class, names in _NAMES.items()
}


def _replaced(row: R, updates: dict[str, Any]) -> R:
    """``dataclasses.replace`` of a row, its values read in one call: a fold per event."""
    row_class = type(row)
    values = dict(zip(_NAMES[row_class], _VALUES[row_class](row), strict=True))
    values.update(updates)
    return row_class(**values)


def _whole(row_class: type[R], event: object) -> R:
    try:
        return row_class(*_GETTERS[row_class](vars(event)))
    except KeyError:  # a field the event's class declares a default for, not stored
        return row_class(**{name: getattr(event, name) for name in _FIELDS[row_class]})


def _changed(row: R | None, event: object) -> R | None:
    if row is None:  # a change of an item the projection never saw: nothing to change
        return None
    kept = _FIELDS[type(row)]
    return _replaced(row, {k: v for k, v in vars(event).items() if k in kept})


def fold_user_event(row: UserRow | None, event: User.Event) -> UserRow | None:
    if isinstance(event, User.Registered | User.Restored):
        return _whole(UserRow, event)
    if isinstance(event, User.Deleted):
        return None
    return _changed(row, event)


def fold_image_event(row: ImageRow | None, event: Image.Event) -> ImageRow | None:
    if isinstance(event, Image.Uploaded | Image.Restored):
        return _whole(ImageRow, event)
    if isinstance(event, Image.Deleted):
        return None
    return _changed(row, event)


def fold_like_event(row: LikeRow | None, event: Like.Event) -> LikeRow | None:
    if isinstance(event, Like.Liked | Like.LikedAgain):
        return _whole(LikeRow, event)
    if isinstance(event, Like.Unliked):
        return None
    return row


def fold_payment_event(row: PaymentRow | None, event: Payment.Event) -> PaymentRow | None:
    if isinstance(event, Payment.Recorded | Payment.Restored):
        return _whole(PaymentRow, event)
    if isinstance(event, Payment.Deleted):
        return None
    if row is not None and isinstance(event, Payment.Refunded):
        return _replaced(row, {"status": "refunded"})
    if row is not None and isinstance(event, Payment.Reinstated):
        return _replaced(row, {"status": "paid"})
    return _changed(row, event)


def fold_web_traffic_event(
    row: WebTrafficRow | None, event: WebTraffic.Event
) -> WebTrafficRow | None:
    if isinstance(event, WebTraffic.Counted):
        return _whole(WebTrafficRow, event)
    return _changed(row, event)


def state_table_of(event: object) -> StateTable | None:
    """Which state table an event folds into, or None for events of no interest."""
    event_class = type(event)
    try:
        return _TABLE_OF_CLASS[event_class]
    except KeyError:
        pass
    found = None
    for aggregate_class, table in _TABLES:
        if isinstance(event, aggregate_class.Event):
            found = table
            break
    # The answer depends on the event's class alone: asked once per class.
    _TABLE_OF_CLASS[event_class] = found
    return found


def keyed_events(events: Iterable[Any]) -> list[tuple[StateTable, str, Any]]:
    """The events of interest among positioned ones, each with its state table and the
    key of its row (its aggregate's id in hex), in order."""
    tables = _TABLE_OF_CLASS
    found = []
    for positioned in events:
        event = positioned.event
        event_class = type(event)
        table = tables[event_class] if event_class in tables else state_table_of(event)
        if table is not None:
            found.append((table, event.originator_id.hex, event))
    return found


def fold_event(table: StateTable, row: Any, event: Any) -> Any:
    return FOLDS[table](row, event)


_TABLES = (
    (User, StateTable.USERS),
    (Image, StateTable.IMAGES),
    (Like, StateTable.LIKES),
    (Payment, StateTable.PAYMENTS),
    (WebTraffic, StateTable.ANALYTICS),
)
_TABLE_OF_CLASS: dict[type[Any], StateTable | None] = {}
# The fold of each state table: (row, event) -> row.
FOLDS: dict[StateTable, Callable[[Any, Any], Any]] = {
    StateTable.USERS: fold_user_event,
    StateTable.IMAGES: fold_image_event,
    StateTable.LIKES: fold_like_event,
    StateTable.PAYMENTS: fold_payment_event,
    StateTable.ANALYTICS: fold_web_traffic_event,
}
