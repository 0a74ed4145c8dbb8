"""A deterministic, realistic CRM workload replayed against the simulated tables."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from devtools.demo.clock import DEFAULT_START
from devtools.demo.crm_actions import CrmActions
from devtools.demo.stream_records import StreamRecord
from devtools.demo.tables import SimulatedTables

# How often each kind of change happens, relative to the others; keys name CrmActions methods.
CHANGE_WEIGHTS: Mapping[str, float] = {
    "log_in": 20,
    "change_plan": 8,
    "retitle": 6,
    "change_email": 4,
    "edit_profile": 4,
    "edit_image": 4,
    "unlike": 4,
    "rename": 3,
    "hide_or_show": 3,
    "refund": 3,
    "toggle_marketing": 2,
    "transfer_image": 2,
    "delete_image": 2,
    "delete_user": 1,
    "expire": 1,
    "like_deleted_image": 1,
    "restore_image": 0.5,
    "reregister": 0.3,
}

_DAY = 86_400


class CrmWorkload:
    """Users register, upload, like, pay, then change, delete and expire things.

    The same arguments always produce the same records and items. ``users`` sets the
    size; the other counts are averages per user or per image, and
    ``changes_per_creation`` is how many changes (logins, plan changes, retitles, owner
    changes, refunds, deletions, TTL expiries, ...) happen per item created. With the
    defaults a workload has about 27 stream records per user, spread over ``days``.

    >>> workload = CrmWorkload(seed=7, users=20)
    >>> workload.records[0]["eventName"], len(workload.final_items()["users"]) > 10
    ('INSERT', True)
    >>> CrmWorkload(seed=7, users=20).records == workload.records
    True
    """

    def __init__(
        self,
        seed: int,
        users: int = 1000,
        images_per_user: float = 3.0,
        likes_per_image: float = 5.0,
        payments_per_user: float = 1.5,
        changes_per_creation: float = 0.3,
        table_names: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        start: datetime = DEFAULT_START,
        days: int = 180,
    ) -> None:
        self.seed = seed
        self.tables = SimulatedTables(table_names, region=region, seed=seed, start=start)
        self._rng = random.Random(seed)
        self._actions = CrmActions(self.tables, self._rng)
        self._plan = _plan(
            self._rng,
            creations={
                "register": users,
                "upload": round(users * images_per_user),
                "like": round(users * images_per_user * likes_per_image),
                "pay": round(users * payments_per_user),
            },
            changes_per_creation=changes_per_creation,
        )
        self._seconds = days * _DAY
        self._done = False

    @property
    def records(self) -> list[StreamRecord]:
        """Every stream record of the workload, in the order of the changes."""
        self._run()
        return self.tables.records

    def final_items(self) -> dict[str, list[dict[str, Any]]]:
        """The tables' contents after the workload: ``{"users": [...], "images": ...}``."""
        self._run()
        return self.tables.final_items()

    def _run(self) -> None:
        if self._done:
            return
        self._done = True
        steps: dict[str, Callable[[], bool]] = {
            name: getattr(self._actions, name) for name in set(self._plan)
        }
        mean_gap = max(1, self._seconds // max(1, len(self._plan)))
        clock = self.tables.clock
        rng = self._rng
        with _without_cyclic_gc():
            for action in self._plan:
                clock.advance(int(rng.random() * 2 * mean_gap))
                steps[action]()


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    # Generation allocates millions of small acyclic dicts; the cyclic collector would
    # rescan the growing heap again and again for nothing (about a fifth of the time).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _plan(
    rng: random.Random, creations: Mapping[str, int], changes_per_creation: float
) -> list[str]:
    """The shuffled sequence of actions; a few sign-ups go first so there is someone."""
    bag = [action for action, count in creations.items() for _ in range(count)]
    kinds = list(CHANGE_WEIGHTS)
    bag += rng.choices(
        kinds, weights=[CHANGE_WEIGHTS[k] for k in kinds], k=round(len(bag) * changes_per_creation)
    )
    rng.shuffle(bag)
    first = min(creations.get("register", 0), max(3, creations.get("register", 0) // 50))
    return ["register"] * first + _without(bag, "register", first)


def _without(bag: list[str], action: str, count: int) -> list[str]:
    kept = []
    for entry in bag:
        if count and entry == action:
            count -= 1
            continue
        kept.append(entry)
    return kept
