"""Per-stage statistics of the live pipeline over a sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

WINDOW = 120
"""Samples kept per measure (about 4 s at 30 fps)."""


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot: rates in frames per second, durations in milliseconds (0 when nothing measured yet)."""

    capture_fps: float = 0.0
    output_fps: float = 0.0
    inference_ms_p50: float = 0.0
    inference_ms_p95: float = 0.0
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    frames_captured: int = 0
    frames_out: int = 0
    dropped_frames: int = 0
    provider: str = ""
    resolution: tuple[int, int] = (0, 0)
    """(width, height) of the frames."""
    scale: float = 1.0
    """Processing scale in use (auto resolved)."""
    style: str = ""

    def line(self) -> str:
        """One status line for terminals."""
        from stylecam.engine.providers import short_name

        w, h = self.resolution
        return (
            f"{self.output_fps:5.1f} fps out ({self.capture_fps:.1f} in) | inference {self.inference_ms_p50:.0f}/"
            f"{self.inference_ms_p95:.0f} ms p50/p95 | latency {self.latency_ms_p50:.0f}/{self.latency_ms_p95:.0f} ms | "
            f"{short_name(self.provider) or '-'} | {w}x{h} @ {self.scale:g} | dropped {self.dropped_frames} | "
            f"frames {self.frames_out}"
        )


def _rate(stamps: deque[float]) -> float:
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _pct(values: deque[float], q: float) -> float:
    return float(np.percentile(np.fromiter(values, float), q)) * 1000.0 if values else 0.0


class StatsCollector:
    """Thread-safe recorder of capture/output times, inference and end-to-end durations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._captured: deque[float] = deque(maxlen=WINDOW)
            self._output: deque[float] = deque(maxlen=WINDOW)
            self._inference: deque[float] = deque(maxlen=WINDOW)
            self._latency: deque[float] = deque(maxlen=WINDOW)
            self.frames_captured = 0
            self.frames_out = 0

    def captured(self, t: float | None = None) -> None:
        with self._lock:
            self._captured.append(time.monotonic() if t is None else t)
            self.frames_captured += 1

    def output(self, *, captured_at: float, inference_s: float | None) -> None:
        now = time.monotonic()
        with self._lock:
            self._output.append(now)
            self._latency.append(now - captured_at)
            if inference_s is not None:
                self._inference.append(inference_s)
            self.frames_out += 1

    def snapshot(self, **extra: object) -> PipelineStats:
        with self._lock:
            return PipelineStats(
                capture_fps=_rate(self._captured),
                output_fps=_rate(self._output),
                inference_ms_p50=_pct(self._inference, 50),
                inference_ms_p95=_pct(self._inference, 95),
                latency_ms_p50=_pct(self._latency, 50),
                latency_ms_p95=_pct(self._latency, 95),
                frames_captured=self.frames_captured,
                frames_out=self.frames_out,
                **extra,  # type: ignore[arg-type]
            )
