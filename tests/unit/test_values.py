"""`quick_init`: the same frozen value, made through its slots' descriptors."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, InitVar, dataclass, field
from typing import Any

import pytest

from domain.changes import SourceChange
from domain.intake import PositionMove
from domain.items import ImageItem, LikeItem, PaymentItem, UserItem, WebTrafficItem
from domain.positions import CreationTime, ItemPosition, StreamPosition
from domain.values import quick_init
from infrastructure.adapters.streams.records import StreamRecord
from infrastructure.services.write_pipeline import IncomingChange
from projections.documents import DocumentChange
from projections.ports import PositionedEvent
from projections.state import LikeRow, PaymentRow, UserStats, WebAnalytics


@quick_init
@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 0
    label: str = field(default="p", kw_only=True)

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("x is negative")


def test_takes_the_dataclass_signature_and_defaults() -> None:
    assert (
        str(inspect.signature(Point)) == "(x: 'int', y: 'int' = 0, *, label: 'str' = 'p') -> None"
    )
    assert Point(1) == Point(x=1, y=0, label="p")
    assert Point(1, 2, label="q") == Point(x=1, y=2, label="q")
    assert repr(Point(1, 2)) == "Point(x=1, y=2, label='p')"
    with pytest.raises(TypeError):
        Point(1, 2, "q")  # type: ignore[call-arg]  # keyword-only, as the dataclass has it
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_the_value_stays_frozen_hashable_and_picklable() -> None:
    point = Point(3, 4)
    with pytest.raises(FrozenInstanceError):
        point.x = 5  # type: ignore[misc]
    assert hash(point) == hash(Point(3, 4))
    assert pickle.loads(pickle.dumps(point)) == point
    assert dataclasses.replace(point, y=9) == Point(3, 9)


def test_runs_post_init() -> None:
    with pytest.raises(ValueError, match="x is negative"):
        Point(-1)


def test_refuses_what_it_cannot_make_alike_when_decorating() -> None:
    @dataclass(frozen=True)
    class NotSlotted:
        x: int

    @dataclass(slots=True)
    class NotFrozen:
        x: int

    @dataclass(frozen=True, slots=True)
    class WithFactory:
        x: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        x: int
        scale: InitVar[int]

        def __post_init__(self, scale: int) -> None: ...

    @dataclass(frozen=True, slots=True)
    class NotInInit:
        x: int
        y: int = field(default=0, init=False)

    for cls in (NotSlotted, NotFrozen, WithFactory, WithInitVar, NotInInit):
        with pytest.raises(TypeError):
            quick_init(cls)


@pytest.mark.parametrize(
    "cls",
    [
        SourceChange,
        CreationTime,
        ItemPosition,
        PositionMove,
        StreamRecord,
        IncomingChange,
        UserItem,
        ImageItem,
        LikeItem,
        PaymentItem,
        WebTrafficItem,
        LikeRow,
        PaymentRow,
        WebAnalytics,
        UserStats,
        DocumentChange,
        PositionedEvent,
    ],
)
def test_each_quick_value_is_made_as_its_dataclass_would_make_it(cls: Any) -> None:
    """The same fields, from the same arguments, as the `__init__` dataclass wrote."""
    fields = dataclasses.fields(cls)
    arguments = {f.name: object() for f in fields}
    made = cls.__new__(cls)
    for f in fields:
        object.__setattr__(made, f.name, arguments[f.name])
    quick = cls(**arguments)
    assert all(getattr(quick, f.name) is getattr(made, f.name) for f in fields)
    assert vars(cls)["__init__"].__qualname__ == f"{cls.__qualname__}.__init__"


def test_a_stream_position_still_checks_its_order() -> None:
    assert StreamPosition(7) == StreamPosition(7, None, "", None)
    with pytest.raises(ValueError, match="negative"):
        StreamPosition(-1)
    with pytest.raises(ValueError, match="48 digits"):
        StreamPosition(10**48)
