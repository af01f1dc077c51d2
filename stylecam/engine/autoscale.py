"""Automatic processing scale: the largest scale that holds the target frame rate on this machine.

Measured once per (style arch, provider, frame size, target) and cached as JSON in
``<user_cache_dir>/autoscale.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from stylecam.atomic import atomic_write_bytes
from stylecam.processing import network_size

SCALES: tuple[float, ...] = (1.0, 0.75, 0.5, 0.35, 0.25)
DEFAULT_TARGET_FPS = 24.0
HEADROOM = 0.85
"""Inference may use this share of the frame time; the rest is capture, resizing and display."""
TARGET_FPS_RANGE = (15.0, 24.0)
"""The live view aims at its source's frame rate, within this range. The top is the film rate: motion
already reads as smooth there, and on a CPU the frame time above it buys a sharper painting instead
(a 30 fps camera on the 2-core test VM: scale 75 % at ~28 fps end to end rather than 50 % at ~57,
with strokes drawn at 1.5x the resolution; docs/PERFORMANCE.md)."""


PAINT_LONG_SIDE: dict[str, int] = {"live": 480}
"""The long side (px) each network family's styles are made to paint at: Auto never runs them
larger. A network's strokes have a fixed size in its own pixels, so without this cap a bigger
camera (or a faster machine) would get finer, weaker strokes; with it a 640x480 and a 1280x720
camera show the same painting (docs/STYLES.md, "the live view at the default scale"). A fixed scale
set by the user is never capped."""


def scales_for(arch: str, width: int, height: int, scales: Sequence[float] = SCALES) -> tuple[float, ...]:
    """The scales Auto may choose for a ``width`` x ``height`` frame of an ``arch`` style, largest first.

    Without a cap for ``arch`` (:data:`PAINT_LONG_SIDE`), ``scales``; with one, the scale that puts
    the frame's long side at the cap (when below 1) followed by the smaller of ``scales``.
    """
    ordered = sorted(set(scales), reverse=True)
    cap = PAINT_LONG_SIDE.get(arch)
    if cap is None:
        return tuple(ordered)
    top = min(1.0, cap / max(width, height, 1))
    return (round(top, 4), *(s for s in ordered if s < top - 1e-6))


def target_fps_for(source_fps: float | None) -> float:
    """The frame rate the automatic scale aims at for a source of ``source_fps`` (None: the top of the range).

    The window, ``stylecam run --scale auto`` and ``stylecam bench`` all use this rule, so the
    benchmark reports what the live view does.
    """
    lo, hi = TARGET_FPS_RANGE
    return min(max(float(source_fps) if source_fps else hi, lo), hi)


def choose_scale(
    seconds_per_frame: Callable[[float], float],
    *,
    target_fps: float = DEFAULT_TARGET_FPS,
    scales: Sequence[float] = SCALES,
) -> float:
    """The largest of ``scales`` whose ``seconds_per_frame(scale)`` fits the target frame time.

    Scales are tried largest first and measuring stops at the first that fits; if none does,
    the smallest. ``seconds_per_frame`` is the measured inference time at that scale.
    """
    if target_fps <= 0:
        raise ValueError(f"target_fps must be positive, got {target_fps}")
    ordered = sorted(set(scales), reverse=True)
    if not ordered:
        raise ValueError("no scales to choose from")
    budget = HEADROOM / target_fps
    for s in ordered:
        if seconds_per_frame(s) <= budget:
            return s
    return ordered[-1]


class LoadWatch:
    """Steps the automatic scale down while the measured inference keeps missing its frame budget.

    The start-up measurement (:func:`auto_scale`) sees an idle machine; a browser, a video call or
    a thermal limit may take the cores later. Feed :meth:`observe` every frame's inference time at
    the scale in use: once the median of the last ``window`` frames exceeds ``slack`` x the budget
    (:data:`HEADROOM` / ``target_fps``), it returns the next smaller of ``scales`` and starts
    counting afresh there. It never steps up by itself (a new style or source measures again).
    """

    def __init__(self, scales: Sequence[float], *, target_fps: float, window: int = 30, slack: float = 1.25) -> None:
        if target_fps <= 0 or window < 1 or slack < 1:
            raise ValueError("LoadWatch needs target_fps > 0, window >= 1 and slack >= 1")
        self._scales = sorted(set(scales), reverse=True)
        self._limit = slack * HEADROOM / target_fps
        self._window = window
        self._times: list[float] = []

    def observe(self, scale: float, seconds: float) -> float:
        """The scale to use from the next frame on, after a frame that took ``seconds`` at ``scale``."""
        self._times.append(seconds)
        if len(self._times) < self._window:
            return scale
        recent = self._times[-self._window :]
        self._times = recent
        smaller = [s for s in self._scales if s < scale - 1e-6]
        if not smaller or float(np.median(recent)) <= self._limit:
            return scale
        self._times = []
        return smaller[0]


def timing_function(run: Callable[[np.ndarray], np.ndarray], width: int, height: int, *, repeats: int = 3) -> Callable[[float], float]:
    """A ``seconds_per_frame(scale)`` that times ``run`` on a synthetic frame (median of ``repeats`` after a warm-up)."""

    def measure(scale: float) -> float:
        w, h = network_size(width, height, scale)
        yy, xx = np.mgrid[0:h, 0:w]
        frame = np.stack([xx % 256, yy % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
        run(frame)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run(frame)
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    return measure


def _cache_file() -> Path:
    from stylecam.paths import user_cache_dir

    return user_cache_dir() / "autoscale.json"


def cache_key(arch: str, provider: str, width: int, height: int, target_fps: float) -> str:
    cap = PAINT_LONG_SIDE.get(arch)
    # the cap is part of the rule: an entry measured under another cap is not reused
    return f"{arch}|{provider}|{width}x{height}|{target_fps:g}" + (f"|cap{cap}" if cap else "")


def cached_scale(key: str) -> float | None:
    """The cached scale for ``key``, or None (no cache, unreadable cache or unknown key)."""
    try:
        value = json.loads(_cache_file().read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and 0 < value <= 1 else None


def store_scale(key: str, scale: float) -> None:
    """Remember ``scale`` for ``key`` (best effort: an unwritable cache only costs a re-measure)."""
    path = _cache_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = scale
    try:
        atomic_write_bytes(path, json.dumps(data, indent=1, sort_keys=True).encode())
    except OSError:
        pass


def auto_scale(
    run: Callable[[np.ndarray], np.ndarray],
    *,
    arch: str,
    provider: str,
    width: int,
    height: int,
    target_fps: float = DEFAULT_TARGET_FPS,
    measure: Callable[[float], float] | None = None,
) -> float:
    """The cached or freshly measured automatic scale for a ``width`` x ``height`` frame."""
    key = cache_key(arch, provider, width, height, target_fps)
    hit = cached_scale(key)
    if hit is not None:
        return hit
    scale = choose_scale(measure or timing_function(run, width, height), target_fps=target_fps, scales=scales_for(arch, width, height))
    store_scale(key, scale)
    return scale
