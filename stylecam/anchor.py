"""Grid anchoring: keep the scene at one phase of a style network's sampling grid while the camera pans.

A feed-forward style network samples its input on a grid (every 4 frame pixels for ``live`` and
``full``, 8 for ``lite``): the strokes it paints are a function of where the scene falls on that
grid. When the camera pans by a multiple of the grid step, the picture moves with the scene; by
any other amount the scene lands on the grid differently and the strokes change from frame to
frame (measured on the bundled styles: 1-2 levels of flicker on 4 and 8 px pans, 5-14 levels
on 1-3 and 5-7 px pans; docs/STYLES.md).

:class:`GridAnchor` measures the global shift of each frame against a key frame (phase correlation
on a small, slightly blurred grey copy, refined to the best whole pixel by mean squared difference;
about 2 ms; the key frame moves on as the overlap shrinks, so sensor noise does not add up frame
after frame into a drift), and pads each frame by 0 to ``stride - 1``
pixels on the top and left so that the scene always lands on the grid at the same phase; the
network's output is cropped back. The padded size is constant (``stride - 1`` more on each side
in total), so the network sees one input shape. What is left below a pixel is corrected too
(``subpixel``, on by default): the frame is moved by it (bilinear) before the network and the
picture moved back after. That matters at a reduced processing scale, where a camera pan of 2 px
is 1.5 px of the network's input at 75 %: whole-pixel pads alone leave every other frame half a
pixel off the grid (The Starry Night in the live view at 75 %: 5.9-6.5 levels of flicker on
those pans, 2.1-2.9 with the correction; ~0.5 ms a frame for the two moves at 480x360). Only
whole-frame translation is compensated; a scene that changes any other way is stylized as it
would be without anchoring.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

STRIDES = {"live": 4, "full": 4, "lite": 8}
"""Sampling-grid step of each architecture, in pixels of the network's input."""

MAX_SIDE = 320
"""Long side of the grey copy the shift is measured on (larger frames are reduced to it)."""

MIN_RESPONSE = 0.3
"""Phase-correlation peaks below this (a cut, a flat or changing scene) count as no motion: a pan of
the test photos peaks at 0.99-1.0, a cut between two photos at 0.003-0.13."""

KEY_SHIFT = 0.1
"""A new key frame once the scene has moved this fraction of the grey copy's short side from the last."""

HYSTERESIS = 0.7
"""The anchored offset moves only when the measured one is this many pixels away from it, so
sensor noise on a still camera does not flip the phase back and forth."""


SUBPIXEL_MIN = 0.05
"""Residuals below this many pixels are left alone (a still camera's noise)."""


def stride_for(arch: str) -> int:
    """The sampling-grid step of ``arch`` (1 for an unknown architecture: nothing to anchor)."""
    return STRIDES.get(arch, 1)


class GridAnchor:
    """Stateful wrapper around a stylizer: ``anchor(frame, run)`` -> ``run``'s picture of ``frame``,
    with the scene held at one grid phase (see the module docstring).

    frame: (H, W, 3) uint8 BGR, the network's input (after any processing-scale resize); run:
    (H + s - 1, W + s - 1, 3) uint8 -> the same shape (s = ``stride``). Returns (H, W, 3) uint8.
    ``subpixel``: also correct the offset left below a pixel (see the module docstring).
    Call :meth:`reset` when the frames stop being one continuous shot (another source or style);
    a change of frame size resets by itself.
    """

    def __init__(self, *, stride: int, subpixel: bool = True) -> None:
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        self.stride = stride
        self.subpixel = subpixel
        self._window: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        self._key: np.ndarray | None = None  # grey copy of the key frame
        self._shape: tuple[int, ...] = ()
        self._key_offset = np.zeros(2)  # the offset at the key frame
        self._offset = np.zeros(2)  # (x, y): how far the scene has moved since the reset, in frame pixels
        self._held = np.zeros(2, dtype=int)  # the whole-pixel offset the frames are anchored to

    @property
    def offset(self) -> tuple[float, float]:
        """(x, y) the scene has moved since the last reset, in frame pixels (right and down positive)."""
        return float(self._offset[0]), float(self._offset[1])

    def _grey(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = frame.shape[:2]
        factor = min(1.0, MAX_SIDE / max(h, w))
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if factor < 1.0:
            grey = cv2.resize(grey, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.0), factor

    def measure(self, frame: np.ndarray) -> None:
        """Update the offset with ``frame``'s shift against the key frame."""
        grey, factor = self._grey(frame)
        if frame.shape != self._shape or self._key is None:
            self.reset()
            self._shape, self._key = frame.shape, grey
            self._window = cv2.createHanningWindow((grey.shape[1], grey.shape[0]), cv2.CV_32F)
            return
        (dx, dy), response = cv2.phaseCorrelate(self._key, grey, self._window)
        side = min(grey.shape)
        if response < MIN_RESPONSE or max(abs(dx), abs(dy)) >= 0.25 * side:
            # a cut or a jump, not a pan: go on from this frame, at the offset reached
            self._key, self._key_offset = grey, self._offset.copy()
        else:
            dx, dy = _refine(self._key, grey, dx, dy)
            self._offset = self._key_offset + np.array([dx, dy]) / factor
            if max(abs(dx), abs(dy)) > KEY_SHIFT * side:
                self._key, self._key_offset = grey, self._offset.copy()
        far = np.abs(self._offset - self._held) > HYSTERESIS
        self._held[far] = np.round(self._offset[far]).astype(int)

    def pads(self) -> tuple[int, int]:
        """(left, top) padding that puts the scene back at the grid phase it had at the reset."""
        px, py = (-self._held) % self.stride
        return int(px), int(py)

    def residual(self) -> tuple[float, float]:
        """(x, y) of the offset the whole-pixel pads leave, in frame pixels (below 1 in size)."""
        rx, ry = self._offset - self._held
        return float(rx), float(ry)

    def __call__(self, frame: np.ndarray, run: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        if self.stride == 1:
            return run(frame)
        self.measure(frame)
        left, top = self.pads()
        extra = self.stride - 1
        rx, ry = self.residual()
        shift = self.subpixel and max(abs(rx), abs(ry)) > SUBPIXEL_MIN
        if shift:
            # move the scene back by what is left below a pixel, so that it lands on the grid exactly
            frame = _translate(frame, -rx, -ry)
        padded = cv2.copyMakeBorder(frame, top, extra - top, left, extra - left, cv2.BORDER_REFLECT_101)
        h, w = frame.shape[:2]
        out = np.ascontiguousarray(run(padded)[top : top + h, left : left + w])
        return _translate(out, rx, ry) if shift else out


def _translate(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved right by ``dx`` and down by ``dy`` pixels (bilinear, borders reflected)."""
    move = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, move, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _msd(key: np.ndarray, grey: np.ndarray, sx: int, sy: int) -> float:
    """Mean squared difference of ``grey`` and ``key`` moved by whole pixels (sx, sy), over their overlap."""
    h, w = key.shape
    a = grey[max(0, sy) : h + min(0, sy), max(0, sx) : w + min(0, sx)]
    b = key[max(0, -sy) : h + min(0, -sy), max(0, -sx) : w + min(0, -sx)]
    return float(np.mean((a - b) ** 2))


def _refine(key: np.ndarray, grey: np.ndarray, dx: float, dy: float) -> tuple[float, float]:
    """The shift of ``grey`` against ``key`` near phase correlation's (dx, dy): the best whole-pixel
    shift of the 3x3 around it by mean squared difference, then a parabola through its neighbours on
    each axis. Phase correlation's own sub-pixel estimate is biased by up to half a pixel on smooth
    scenes, which is enough to put a frame on the wrong grid phase."""
    ix, iy = round(dx), round(dy)
    cost = {(ix + a, iy + b): _msd(key, grey, ix + a, iy + b) for a in (-1, 0, 1) for b in (-1, 0, 1)}
    bx, by = min(cost, key=cost.__getitem__)
    out = []
    for shift in ((bx - 1, by), (bx + 1, by), (bx, by - 1), (bx, by + 1)):  # the best may lie on the 3x3's edge
        if shift not in cost:
            cost[shift] = _msd(key, grey, *shift)
    c0 = cost[(bx, by)]
    for centre, lo, hi in ((bx, (bx - 1, by), (bx + 1, by)), (by, (bx, by - 1), (bx, by + 1))):
        cl, ch = cost[lo], cost[hi]
        curve = cl - 2 * c0 + ch
        out.append(centre + (0.5 * (cl - ch) / curve if curve > 0 else 0.0))
    return out[0], out[1]
