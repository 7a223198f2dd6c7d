"""Keep the app's resident memory bounded over many generations.

Gradio runs each event on one of many worker threads, and glibc gives each thread its own malloc arena; a
synthesis frees its hundreds of MB, but every arena keeps the peak it reached. Over a session of 40
generations of varied length the app grew from 0.53 to 1.0-1.5 GB this way, while Python's own heap
(tracemalloc) stayed under 50 MB. Two arenas, and handing freed pages back after each synthesis, bound it.
Sequential API calls run on one thread and do not show it (588 -> 690 MiB over 50 with these limits, 596 ->
716 without, 2026-12-04). Four clients asking at once do (tests/test_api.py, 13 rounds of 4 generations,
2026-12-04, late): without the limits 693 -> 807 MiB after the second round -> up to 984, ending at 935; with them
648 -> 731 -> at most 737, ending at 704. With 4 clients x 15 generations of 1-8 turns, some on uploaded
real clips and some comparisons, the app reached 1100-1160 MiB without the limits and 690-870 with them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None  # not glibc: nothing to tune
    return libc


_LIBC = _libc()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let glibc keep at most `arenas` malloc arenas (best called at start, before threads allocate).

    Returns:
        Whether the limit was set (False where the C library is not glibc).
    """
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(_M_ARENA_MAX, int(arenas)))


def release_freed_memory() -> None:
    """Give the pages malloc holds free back to the system (after a synthesis, which frees hundreds of MB)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
