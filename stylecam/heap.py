"""Keep freed memory in the process while a PyTorch optimisation runs on the CPU (glibc only).

PyTorch's CPU allocator is plain ``malloc``. glibc serves blocks above its mmap threshold (at
most 32 MiB) with fresh ``mmap`` pages and unmaps them on ``free``, and it trims the heap top
back to the kernel. An iterative job that allocates the same large activations at every step
then page-faults all of them in again each time: a 512 px Gatys evaluation through VGG16
(bf16) faulted ~79 000 pages (~310 MB) per evaluation, which the kernel must zero. Inside
:func:`retained_heap` large blocks come from the heap and freed memory stays there, so the
next step reuses it (no faults); on exit the settings go back and the heap is trimmed, so
the memory returns to the system once the job is done.

Elsewhere (macOS, Windows, musl) it does nothing. The settings are process-wide; nesting and
concurrent use from several threads are counted, and only the last one out restores them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_DEFAULT_MMAP_MAX = 65536
# What glibc's dynamic thresholds settle at once a process has freed a 32 MiB block (any PyTorch
# job does): setting a threshold with mallopt switches the dynamic adjustment off for good, so
# the exit restores that settled state rather than the start-up values (128 KiB), which would
# make every later allocation above 128 KiB a fresh mmap.
_SETTLED_MMAP_THRESHOLD = 32 * 1024 * 1024
_SETTLED_TRIM_THRESHOLD = 2 * _SETTLED_MMAP_THRESHOLD
_RETAINED_TRIM_THRESHOLD = 2**31 - 1  # never trim while retained (mallopt takes an int)
_DEFAULT_TOP_PAD = 128 * 1024
# A thread's arena lives in 64 MiB heaps, and glibc unmaps a heap that becomes empty whatever the
# trim threshold, unless the top pad asks to keep that much: Gatys in the window runs in a thread.
_RETAINED_TOP_PAD = 64 * 1024 * 1024

_lock = threading.Lock()
_users = 0


@functools.lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (has ``mallopt`` and ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None
    return libc


def available() -> bool:
    """True where :func:`retained_heap` has an effect (Linux with glibc)."""
    return _glibc() is not None


def active() -> bool:
    """True while some :func:`retained_heap` is open (in any thread)."""
    return _users > 0


def _set(mmap_max: int, trim_threshold: int, top_pad: int) -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_MAX, mmap_max)
        libc.mallopt(_M_MMAP_THRESHOLD, _SETTLED_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
        libc.mallopt(_M_TOP_PAD, top_pad)


@contextmanager
def retained_heap() -> Iterator[None]:
    """While active, large allocations reuse freed heap memory instead of new pages (see module doc)."""
    global _users
    with _lock:
        _users += 1
        if _users == 1:
            _set(0, _RETAINED_TRIM_THRESHOLD, _RETAINED_TOP_PAD)
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _set(_DEFAULT_MMAP_MAX, _SETTLED_TRIM_THRESHOLD, _DEFAULT_TOP_PAD)
                libc = _glibc()
                if libc is not None:
                    libc.malloc_trim(0)
