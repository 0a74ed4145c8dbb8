"""Keeping the garbage collector's full passes off the objects a process starts with.

Python's collector finds reference cycles by scanning every object it tracks, and its full
passes scan the oldest generation: here the 100,000-odd functions, classes, dicts and
cells of the imported modules and the wired composition root, none of which ever becomes
garbage. In a batch pipeline those passes cost about 6 % of the run. ``gc.freeze()``
moves what exists to a permanent generation that no pass scans; what is allocated later
is collected as before.

A Lambda container freezes once, after building its composition root (it lives as long
as that root). Commands that run in a process shared with other work (the CLI's, the
rebuild, which tests also run in-process) hold the freeze only while they run.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0


@contextmanager
def frozen_while_running() -> Iterator[None]:
    """Objects that exist on entry are left out of the collector's passes until exit.

    Each entry freezes what exists by then (``gc.freeze`` only adds to the permanent
    generation, at no cost per object). Nested and concurrent holders share it: the last
    one out lifts it, and the objects go back to the collector's oldest generation.
    """
    global _holders
    with _lock:
        gc.freeze()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
