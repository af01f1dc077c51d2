"""A single-item slot holding only the newest item: the producer never waits, stale items are dropped."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class NewestSlot(Generic[T]):
    """put() replaces an item not yet taken (counted in ``dropped``); get() waits for the newest one.

    close() wakes every waiter; after it get() returns None and put() is ignored.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.dropped = 0
        self.put_count = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._closed:
                return
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self.put_count += 1
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to ``timeout`` seconds (None = forever); None on timeout or when closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._full or self._closed, timeout):
                return None
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            self._cond.notify_all()
            return item

    def wait_empty(self, timeout: float | None = None) -> bool:
        """Wait until the item was taken (for producers that must not drop); False on timeout or close."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._full or self._closed, timeout) and not self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._item, self._full = None, False
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False
