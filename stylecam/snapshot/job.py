"""Run a snapshot (Gatys or DeepDream) on a plain background thread, cancellable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from stylecam.errors import StylecamError
from stylecam.snapshot.common import CancelToken, ProgressFn
from stylecam.snapshot.dream import dream
from stylecam.snapshot.gatys import gatys


class SnapshotJob:
    """``fn(*args, progress=progress, cancel=<token>, **kwargs)`` on a daemon thread.

    After :attr:`done` is set, exactly one of :attr:`result` ((H, W, 3) uint8 BGR) and
    :attr:`error` is set. ``error`` is the :class:`StylecamError` the snapshot raised; any other
    exception (a bug, or e.g. running out of GPU memory) is wrapped in a StylecamError with a
    one-line message and kept in :attr:`exception`. ``progress`` is called on the job's thread.
    """

    def __init__(self, fn: Callable[..., np.ndarray], /, *args: Any, progress: ProgressFn | None = None, **kwargs: Any) -> None:
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._progress = progress
        self.token = CancelToken()
        self.result: np.ndarray | None = None
        self.error: StylecamError | None = None
        self.exception: BaseException | None = None
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"snapshot-{getattr(fn, '__name__', 'job')}", daemon=True)

    @classmethod
    def gatys_job(cls, content: np.ndarray, styles: Any, *, progress: ProgressFn | None = None, **kwargs: Any) -> SnapshotJob:
        """A job running :func:`~stylecam.snapshot.gatys` (same keyword arguments)."""
        return cls(gatys, content, styles, progress=progress, **kwargs)

    @classmethod
    def dream_job(cls, content: np.ndarray, *, progress: ProgressFn | None = None, **kwargs: Any) -> SnapshotJob:
        """A job running :func:`~stylecam.snapshot.dream` (same keyword arguments)."""
        return cls(dream, content, progress=progress, **kwargs)

    def _run(self) -> None:
        try:
            self.result = self._fn(*self._args, progress=self._progress, cancel=self.token, **self._kwargs)
        except StylecamError as exc:
            self.error, self.exception = exc, exc
        except Exception as exc:  # noqa: BLE001 - reported to the UI instead of dying silently on a thread
            self.exception = exc
            first = (str(exc).splitlines() or [""])[0]
            self.error = StylecamError(f"snapshot failed: {type(exc).__name__}: {first}".rstrip(": "))
        finally:
            self.done.set()

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop; it finishes with the best image so far (usually within a second)."""
        self.token.cancel()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job; True if it has finished."""
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join(timeout)
        return self.done.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
