"""Frozen value objects that are quick to make, for the ones made once per record.

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__``, looked
up again for every field: about 140 ns a field, five times what a plain assignment costs.
A record's parse and intake make half a dozen such values with some twenty fields between
them, and the fold makes a row per event. `quick_init` gives a frozen, slotted dataclass an
``__init__`` that stores each field through its slot's own descriptor instead: the same
instance, the same signature, the same ``__post_init__``, in about half the time. The class
stays frozen: assigning a field afterwards still raises ``FrozenInstanceError``.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

T = TypeVar("T", bound=type)

_MISSING = dataclasses.MISSING


def quick_init(cls: T) -> T:
    """Replace a frozen, slotted dataclass's ``__init__`` by one that stores each field
    through its slot's descriptor (a class decorator, applied above ``@dataclass``).

    >>> @quick_init
    ... @dataclass(frozen=True, slots=True)
    ... class Point:
    ...     x: int
    ...     y: int = 0
    >>> Point(1), Point(x=1, y=2)
    (Point(x=1, y=0), Point(x=1, y=2))

    Only what such a dataclass's ``__init__`` does is supported: positional or keyword
    fields, plain defaults, a ``__post_init__`` without arguments. A class outside that
    raises TypeError when it is decorated, never later.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__qualname__}: quick_init takes a frozen, slotted dataclass")
    fields = dataclasses.fields(cls)
    generated = vars(cls)["__init__"]  # the dataclass's own
    taken = list(inspect.signature(generated).parameters)[1:]
    if taken != [field.name for field in fields if field.init]:
        # An InitVar: a parameter of __init__ that is no field.
        raise TypeError(f"{cls.__qualname__}: quick_init takes only fields as parameters")
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keyword_only: list[str] = []
    body: list[str] = []
    for index, field in enumerate(fields):
        if not field.init or field.default_factory is not _MISSING:
            raise TypeError(
                f"{cls.__qualname__}.{field.name}: quick_init takes fields set by __init__, "
                "with at most a plain default"
            )
        parameter = field.name
        if field.default is not _MISSING:
            namespace[f"_default_{index}"] = field.default
            parameter += f"=_default_{index}"
        (keyword_only if field.kw_only else positional).append(parameter)
        namespace[f"_set_{index}"] = getattr(cls, field.name).__set__
        body.append(f"    _set_{index}(self, {field.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword_only] if keyword_only else [])])
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # noqa: S102 - the source is built from the fields' names alone
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = generated.__doc__
    init.__annotations__ = dict(generated.__annotations__)
    cls.__init__ = init  # type: ignore[misc]
    return cls
