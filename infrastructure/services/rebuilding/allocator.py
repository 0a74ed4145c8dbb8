"""How the rebuild keeps glibc from holding on to what tantivy's threads freed.

Writing a page into the embedded index allocates about 100 MB in tantivy's indexing and
merging threads and frees it again. Two glibc behaviours would keep that memory resident
and make a rebuild's peak grow with the number of documents (each merge is larger than
the last, and runs on yet another thread):

- a thread's freed memory stays in that thread's arena (``malloc_trim`` returns it);
- the mmap threshold adapts: once a large mmapped block is freed, blocks up to that size
  come from the arenas instead, where they fragment. A fixed threshold keeps every large
  buffer in its own mapping, given back to the system when freed.

Both are process-wide and harmless elsewhere; where the C library is not glibc they do
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

# mallopt's parameter number for the mmap threshold (malloc.h), and glibc's default start
# value: blocks from 128 KiB up are mapped on their own.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 128 * 1024


def _glibc() -> Any | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - only glibc has it
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def map_large_blocks_apart() -> None:
    """Fix glibc's mmap threshold at 128 KiB, so that freed large buffers leave the process."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def release_freed_memory() -> None:
    """Give what every thread's arena holds free back to the system (``malloc_trim``)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
