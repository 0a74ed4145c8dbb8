"""Keeping the garbage collector's full passes off the objects a process starts with.

Python's collector finds reference cycles by scanning every object it tracks, and its full
passes scan the oldest generation: here the 100,000-odd functions, classes, dicts and
cells of the imported modules and the wired composition root, none of which ever becomes
garbage. In a batch pipeline those passes cost about 6 % of the run. ``gc.freeze()``
moves what exists to a permanent generation that no pass scans; what is allocated later
is collected as before.

While a holder runs, the young generation is also collected less often
(`YOUNG_GENERATION_THRESHOLD`). A Lambda container freezes once, after building its
composition root (it lives as long as that root). Commands that run in a process shared
with other work (the CLI's, the rebuild, which tests also run in-process) hold the freeze
only while they run; a command's second process (`background_settle`) holds it while it
settles, records or builds what it was handed: without it, 10 full passes over its
imported modules took 0.4 s of the 3.1 s it spent settling 48,523 events of the pipeline
benchmark.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_thresholds: tuple[int, int, int] | None = None  # the collector's, while a holder runs
# Allocations (net of deallocations) between two passes over the young generation while
# a command runs: 100,000 rather than Python's 700. A batch pipeline allocates hundreds of
# thousands of objects per batch, nearly none of them in cycles, and frees most of them as
# it goes (reference counting needs no pass). At 700, the passes and the full passes they
# trigger took 1.1 s of 8.4 s of CPU time for 26,532 records (the pipeline benchmark at
# 1,000 users); at 10,000, 0.56 s. At 10,000 the benchmark at 2,000 users still made about
# 125 young passes, 11 middle and one full in the command's process, 0.21-0.27 s of a
# 3.5 s run, and they found 0 to 13 objects in cycles; at 100,000 one young pass, 0.02 s
# (docs/performance.md, "The collector's young generation"). Only garbage in cycles waits
# for a pass: at most 100,000 more young objects.
YOUNG_GENERATION_THRESHOLD = 100_000


@contextmanager
def frozen_while_running() -> Iterator[None]:
    """Objects that exist on entry are left out of the collector's passes until exit.

    Each entry freezes what exists by then (``gc.freeze`` only adds to the permanent
    generation, at no cost per object). Nested and concurrent holders share it: the last
    one out lifts it, and the objects go back to the collector's oldest generation.
    """
    global _holders, _thresholds
    with _lock:
        gc.freeze()
        if _holders == 0:
            _thresholds = gc.get_threshold()
            young, *older = _thresholds
            gc.set_threshold(max(young, YOUNG_GENERATION_THRESHOLD), *older)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
                if _thresholds is not None:
                    gc.set_threshold(*_thresholds)
                    _thresholds = None
