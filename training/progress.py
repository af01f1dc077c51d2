"""Progress reporting: a tqdm bar for people, JSON lines for the desktop app.

JSON events (one object per line on stdout, flushed):
``{"event": "progress", "step", "total", "losses": {content, style, tv, stability, lattice, total}, "it_s", "eta_s"}``,
``{"event": "preview", "path"}``, ``{"event": "warning", "message"}``, ``{"event": "done", "files": [...]}``.
"""

from __future__ import annotations

import json
import sys
from typing import Protocol, TextIO


class Reporter(Protocol):
    def start(self, step: int, total: int) -> None: ...
    def progress(self, step: int, total: int, losses: dict[str, float], it_s: float, eta_s: float) -> None: ...
    def preview(self, path: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def done(self, files: list[str]) -> None: ...
    def close(self) -> None: ...


class SilentReporter:
    """Reports nothing (library use, tests, non-zero DDP ranks)."""

    def start(self, step: int, total: int) -> None: ...
    def progress(self, step: int, total: int, losses: dict[str, float], it_s: float, eta_s: float) -> None: ...
    def preview(self, path: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def done(self, files: list[str]) -> None: ...
    def close(self) -> None: ...


class JsonReporter:
    """One JSON object per line on ``stream`` (stdout by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def _emit(self, obj: dict[str, object]) -> None:
        self.stream.write(json.dumps(obj) + "\n")
        self.stream.flush()

    def start(self, step: int, total: int) -> None: ...

    def progress(self, step: int, total: int, losses: dict[str, float], it_s: float, eta_s: float) -> None:
        self._emit({"event": "progress", "step": step, "total": total, "losses": losses, "it_s": it_s, "eta_s": eta_s})

    def preview(self, path: str) -> None:
        self._emit({"event": "preview", "path": path})

    def warning(self, message: str) -> None:
        self._emit({"event": "warning", "message": message})

    def done(self, files: list[str]) -> None:
        self._emit({"event": "done", "files": files})

    def close(self) -> None: ...


class BarReporter:
    """A tqdm bar (stderr) with the losses as postfix; tqdm computes it/s and the ETA."""

    def __init__(self) -> None:
        self._bar = None

    def start(self, step: int, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, initial=step, unit="it", dynamic_ncols=True, smoothing=0.1)

    def progress(self, step: int, total: int, losses: dict[str, float], it_s: float, eta_s: float) -> None:
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            self._bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=True)

    def preview(self, path: str) -> None: ...

    def warning(self, message: str) -> None:
        from tqdm import tqdm

        tqdm.write(f"stylecam: warning: {message}", file=sys.stderr)

    def done(self, files: list[str]) -> None:
        self.close()
        for f in files:
            print(f"wrote {f}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
