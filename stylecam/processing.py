"""Per-frame options applied around the style network, cheaply, with OpenCV.

All frames here are (H, W, 3) uint8 BGR arrays. The order per frame is: mirror, shrink to the
processing scale, stylize, enlarge back, preserve colours, blend with the original (strength).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from stylecam.anchor import GridAnchor

MIN_SIDE = 32
"""The style networks need both sides >= 32 pixels."""


@dataclass(frozen=True)
class FrameOptions:
    """What to do to each frame besides the style itself.

    scale: fraction of the frame size the network runs at (0 < scale <= 1), None = pick
        automatically the largest scale that holds the target frame rate.
    strength: 0 = original frame, 1 = fully stylized; in between a linear blend.
    preserve_colors: keep the original's colours (chroma), take only light and texture from the style.
    mirror: flip left-right (what people expect from a front camera).
    anchor: hold the scene at one phase of the network's sampling grid while the camera pans
        (:mod:`stylecam.anchor`), so that the strokes move with the scene instead of shimmering.
    """

    scale: float | None = 1.0
    strength: float = 1.0
    preserve_colors: bool = False
    mirror: bool = False
    anchor: bool = True

    def __post_init__(self) -> None:
        if self.scale is not None and not (0.0 < float(self.scale) <= 1.0):
            raise ValueError(f"scale must be in (0, 1] or None for auto, got {self.scale!r}")
        if not (0.0 <= float(self.strength) <= 1.0):
            raise ValueError(f"strength must be between 0 and 1, got {self.strength!r}")


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Raise ValueError unless ``frame`` is an (H, W, 3) uint8 array; return it."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        dtype = getattr(frame, "dtype", type(frame).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got shape {shape} dtype {dtype}")
    return frame


def network_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The (w, h) the network runs at for a ``width`` x ``height`` frame, both sides >= 32."""
    return max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale))


def mirror(frame: np.ndarray) -> np.ndarray:
    """Left-right flip, (H, W, 3) uint8 -> new (H, W, 3) uint8 array."""
    return cv2.flip(frame, 1)


def shrink(frame: np.ndarray, scale: float) -> np.ndarray:
    """Resize to the network size for ``scale`` (area filter); unchanged frame when it is already that size."""
    h, w = frame.shape[:2]
    size = network_size(w, h, scale)
    if size == (w, h):
        return frame
    interp = cv2.INTER_AREA if size[0] < w else cv2.INTER_LINEAR
    return cv2.resize(frame, size, interpolation=interp)


def enlarge(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to (width, height) bicubically; unchanged when already that size.

    Bicubic, not bilinear: a live style paints detail down to single pixels of its processing
    size, and a bilinear enlargement (0.25 ms at 480x360 -> 640x480 here; bicubic 0.33 ms) blurs
    it away: measured on the bundled styles at 75 %, the style ratio falls from 10.7x to 8.1x
    (docs/STYLES.md, "The mesh, measured and trained against").
    """
    if frame.shape[1] == width and frame.shape[0] == height:
        return frame
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)


def preserve_colors(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Luminance of ``stylized`` with the chroma of ``original`` (YCrCb); both (H, W, 3) uint8, same size."""
    ycc = cv2.cvtColor(original, cv2.COLOR_BGR2YCrCb)
    ycc[..., 0] = cv2.cvtColor(stylized, cv2.COLOR_BGR2GRAY)  # gray == the Y of YCrCb (same weights)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)


def blend(original: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """``strength`` * stylized + (1 - strength) * original, uint8, rounded."""
    if strength >= 1.0:
        return stylized
    if strength <= 0.0:
        return original
    return cv2.addWeighted(stylized, float(strength), original, 1.0 - float(strength), 0.0)


def apply_options(
    frame: np.ndarray,
    stylize: Callable[[np.ndarray], np.ndarray] | None,
    options: FrameOptions,
    *,
    scale: float | None = None,
    anchor: GridAnchor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``stylize`` on ``frame`` with ``options``; return (shown original, stylized), both (H, W, 3) uint8.

    ``stylize`` maps an (h, w, 3) uint8 BGR frame to one of the same shape (None = no style: the
    stylized frame is the original). ``scale`` overrides ``options.scale`` (used when that is
    None = auto and the caller has resolved it); with neither, 1.0. ``anchor``: the caller's
    :class:`~stylecam.anchor.GridAnchor` for this stream (it keeps state from frame to frame),
    used when ``options.anchor`` is on.
    """
    check_frame(frame)
    original = mirror(frame) if options.mirror else frame
    if stylize is None:
        return original, original
    s = scale if scale is not None else (options.scale if options.scale is not None else 1.0)
    h, w = original.shape[:2]
    small = shrink(original, s)
    out = enlarge(anchor(small, stylize) if anchor is not None and options.anchor else stylize(small), w, h)
    if options.preserve_colors:
        out = preserve_colors(original, out)
    return original, blend(original, out, options.strength)
