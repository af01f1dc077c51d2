"""A source that survives its device going away: reports the loss and reopens it with back-off."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from stylecam.errors import SourceError
from stylecam.video.base import FrameSource

DEFAULT_BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
"""Seconds between reopening attempts; the last value repeats."""


class ReconnectingSource(FrameSource):
    """Wrap ``factory`` (which opens the device, raising SourceError if it cannot).

    When the inner source stops sending frames (read() gives None or raises), an event
    ``camera_lost`` is emitted and ``factory`` is retried after each delay of ``backoff``
    (``reconnecting`` events) until it works (``reconnected``) or the source is closed.
    read() blocks meanwhile; interrupt() or close() make it return None at once.
    """

    def __init__(
        self,
        factory: Callable[[], FrameSource],
        *,
        first: FrameSource | None = None,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__()
        if not backoff:
            raise ValueError("backoff needs at least one delay")
        self._factory = factory
        self._backoff = tuple(backoff)
        self._inner: FrameSource | None = first if first is not None else factory()
        self._adopt(self._inner)
        self.reconnects = 0

    def _adopt(self, inner: FrameSource) -> None:
        self.name, self.size, self.fps, self.live = inner.name, inner.size, inner.fps, inner.live

    def _reopen(self) -> FrameSource | None:
        attempt = 0
        while not self._closed:
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            attempt += 1
            self.emit("reconnecting", f"{self.name}: trying again in {delay:g} s (attempt {attempt})")
            if self._wake.wait(delay):
                return None  # interrupted or closed
            try:
                inner = self._factory()
            except SourceError:
                continue
            if self._closed:
                inner.close()
                return None
            return inner
        return None

    def read(self) -> np.ndarray | None:
        self._wake.clear()
        while not self._closed:
            if self._inner is None:
                inner = self._reopen()
                if inner is None:
                    return None
                self._inner = inner
                self._adopt(inner)
                self.reconnects += 1
                self.emit("reconnected", f"{self.name} is back")
            try:
                frame = self._inner.read()
            except Exception as exc:  # a driver error mid-stream counts as a lost device
                frame = None
                reason = f" ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            else:
                reason = ""
            if frame is not None:
                return frame
            if self._closed:
                return None
            self.emit("camera_lost", f"{self.name} stopped sending frames{reason}; reconnecting")
            self._inner.close()
            self._inner = None
        return None

    def close(self) -> None:
        super().close()
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.close()
