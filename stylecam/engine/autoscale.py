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
TARGET_FPS_RANGE = (15.0, 30.0)
"""The live view aims at its source's frame rate, within this range."""


def target_fps_for(source_fps: float | None) -> float:
    """The frame rate the automatic scale aims at for a source of ``source_fps`` (None: 30).

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
    return f"{arch}|{provider}|{width}x{height}|{target_fps:g}"


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
    scale = choose_scale(measure or timing_function(run, width, height), target_fps=target_fps)
    store_scale(key, scale)
    return scale
