"""The frame-source interface shared by cameras, files, folders and generated clips."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

import cv2
import numpy as np

EventHandler = Callable[[str, str], None]
"""Called with (kind, one-line message), e.g. ("camera_lost", "camera 0 stopped sending frames")."""


class FrameSource:
    """A stream of (H, W, 3) uint8 BGR frames.

    ``read()`` returns the next frame or None at the end of the stream (or once closed).
    ``live`` sources (cameras, paced files) produce frames in real time and drop what is not
    consumed in time; non-live ones produce as fast as they are read, so the pipeline reads one
    only when the previous was taken. ``recorded`` sources (files, folders, images, generated
    clips) have their frames ahead of time and can be switched between the two with
    :meth:`set_paced`; cameras are always live. ``on_event`` is set by the pipeline to hear about trouble.
    """

    fps: float = 30.0
    size: tuple[int, int] = (0, 0)
    """(width, height) of the frames."""
    live: bool = True
    recorded: bool = False
    name: str = "source"

    def __init__(self) -> None:
        self.on_event: EventHandler | None = None
        self._closed = False
        self._wake = threading.Event()
        self._pacer: Pacer | None = None

    @property
    def endless(self) -> bool:
        """True when read() never returns None by itself (a camera, a looping file, a still image)."""
        return True

    def set_paced(self, paced: bool) -> None:
        """Play a recorded source at its frame rate (``live``) or as fast as it is read; cameras ignore it."""
        if not self.recorded:
            return
        self.live = paced
        self._pacer = Pacer(self.fps, self._wake) if paced else None

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def interrupt(self) -> None:
        """Wake a read() that is waiting (pacing or reconnecting) so that it returns soon; thread-safe."""
        self._wake.set()

    def close(self) -> None:
        """Release the device or file; idempotent."""
        self._closed = True
        self._wake.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def emit(self, kind: str, message: str) -> None:
        if self.on_event is not None:
            self.on_event(kind, message)

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.size[0]}x{self.size[1]} @ {self.fps:g} fps>"


class Pacer:
    """Sleeps so that successive frames are 1/fps apart (for files and generated clips shown live)."""

    def __init__(self, fps: float, wake: threading.Event) -> None:
        self.period = 1.0 / fps if fps > 0 else 0.0
        self._next: float | None = None
        self._wake = wake

    def wait(self) -> None:
        now = time.monotonic()
        if self._next is None or now - self._next > 0.25:  # first frame, or we fell far behind: resync
            self._next = now
        delay = self._next - now
        if delay > 0:
            self._wake.wait(delay)
        self._next += self.period


def fit(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize ``frame`` to ``size`` (w, h) when given and different."""
    if size is None or (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if size[0] < frame.shape[1] else cv2.INTER_LINEAR)
