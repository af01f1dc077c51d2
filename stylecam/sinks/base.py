"""The sink interface: where stylized frames go (virtual camera, recording, the window)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Sink(Protocol):
    """Takes (H, W, 3) uint8 BGR frames. ``write`` may raise (the pipeline then drops the sink); ``close`` is idempotent."""

    def write(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...


class CallbackSink:
    """Calls ``fn(frame)`` for each frame (and ``on_close()`` once when closed, if given)."""

    def __init__(self, fn: Callable[[np.ndarray], None], *, on_close: Callable[[], None] | None = None) -> None:
        self._fn = fn
        self._on_close = on_close
        self.closed = False

    def write(self, frame: np.ndarray) -> None:
        self._fn(frame)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self._on_close is not None:
                self._on_close()
