"""Grid anchoring (stylecam.anchor): strokes that move with a panning scene."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from stylecam.anchor import GridAnchor, stride_for
from stylecam.processing import FrameOptions, apply_options
from stylecam.quality import flicker_of_outputs, panning_clip

from .helpers import synthetic_frame


def _scene() -> np.ndarray:
    """A 240x400 textured scene (uint8 BGR) to pan over."""
    return cv2.resize(synthetic_frame(60, 100, seed=11), (400, 240), interpolation=cv2.INTER_CUBIC)


def blocky(frame: np.ndarray) -> np.ndarray:
    """A stand-in for a stride-4 style network: each 4x4 cell of the frame's own grid painted its mean
    plus a fixed-phase stroke pattern. Its picture of a scene depends on where the scene falls on the grid."""
    h, w = frame.shape[:2]
    hh, ww = -(-h // 4) * 4, -(-w // 4) * 4
    padded = cv2.copyMakeBorder(frame, 0, hh - h, 0, ww - w, cv2.BORDER_REPLICATE).astype(np.float32)
    cells = padded.reshape(hh // 4, 4, ww // 4, 4, 3).mean(axis=(1, 3))
    out = np.repeat(np.repeat(cells, 4, axis=0), 4, axis=1)
    out += 40.0 * (np.indices((hh, ww)).sum(0) % 4 == 0)[..., None]  # the stroke lattice
    return np.clip(out[:h, :w], 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shift", [1, 2, 3, 5])
def test_anchoring_makes_a_grid_bound_stylizer_follow_a_pan(shift: int) -> None:
    clip = panning_clip(_scene(), frames=6, shift_px=shift, size=(120, 160))
    plain = flicker_of_outputs([blocky(f) for f in clip], shift)
    anchor = GridAnchor(stride=4)
    calls: list[tuple[int, ...]] = []

    def run(x: np.ndarray) -> np.ndarray:
        calls.append(x.shape)
        return blocky(x)

    anchored_outs = [anchor(f, run) for f in clip]
    anchored = flicker_of_outputs(anchored_outs, shift)
    assert plain > 5.0  # the lattice and the cells crawl
    assert anchored < 0.15 * plain, (plain, anchored)
    assert all(o.shape == clip[0].shape for o in anchored_outs)
    assert set(calls) == {(123, 163, 3)}  # one padded shape for the network, every frame
    assert anchor.offset[0] == pytest.approx(-shift * 5, abs=0.5) and abs(anchor.offset[1]) < 0.5


def test_a_still_camera_with_sensor_noise_keeps_one_phase() -> None:
    rng = np.random.default_rng(0)
    scene = _scene()[:120, :160].astype(np.float32)
    anchor = GridAnchor(stride=4)
    pads = set()
    for _ in range(60):
        noisy = np.clip(scene + rng.normal(0, 3.0, scene.shape), 0, 255).astype(np.uint8)
        anchor(noisy, blocky)
        pads.add(anchor.pads())
    assert pads == {(0, 0)}
    assert max(abs(v) for v in anchor.offset) < 0.5


def test_a_cut_or_a_new_frame_size_does_not_count_as_motion() -> None:
    anchor = GridAnchor(stride=4)
    clip = panning_clip(_scene(), frames=3, shift_px=2, size=(120, 160))
    for f in clip:
        anchor(f, blocky)
    moved = anchor.offset
    anchor(synthetic_frame(120, 160, seed=99), blocky)  # another scene
    assert abs(anchor.offset[0] - moved[0]) < 8 and abs(anchor.offset[1] - moved[1]) < 8
    anchor(synthetic_frame(96, 128, seed=1), blocky)  # another size: a fresh start
    assert anchor.offset == (0.0, 0.0) and anchor.pads() == (0, 0)


def test_stride_1_and_options_without_anchoring_leave_the_frame_alone() -> None:
    frame = synthetic_frame(64, 80, seed=2)
    seen: list[tuple[int, ...]] = []

    def run(x: np.ndarray) -> np.ndarray:
        seen.append(x.shape)
        return x

    assert GridAnchor(stride=1)(frame, run) is frame
    anchor = GridAnchor(stride=4)
    apply_options(frame, run, FrameOptions(anchor=False), anchor=anchor)
    _, out = apply_options(frame, run, FrameOptions(), anchor=anchor)
    assert seen == [(64, 80, 3), (64, 80, 3), (67, 83, 3)]
    assert np.array_equal(out, frame)  # the padding is cropped off again
    assert stride_for("live") == 4 and stride_for("lite") == 8 and stride_for("unknown") == 1
    with pytest.raises(ValueError, match="stride"):
        GridAnchor(stride=0)


def _subpixel_clip(step: float, frames: int = 6) -> list[np.ndarray]:
    """A pan of ``step`` pixels a frame (not a whole number), as a camera at a reduced processing
    scale sees it: each frame is the scene moved left by t * step (bilinear), cropped to 120x160."""
    scene = _scene()
    move = lambda t: np.float32([[1, 0, -t * step], [0, 1, 0]])  # noqa: E731
    return [cv2.warpAffine(scene, move(t), (scene.shape[1], scene.shape[0]), flags=cv2.INTER_LINEAR)[60:180, 40:200]
            for t in range(frames)]  # fmt: skip


def _flicker_subpixel(outs: list[np.ndarray], step: float) -> float:
    """Mean |out_t moved by step - out_(t+1)| over the overlap (the sub-pixel :func:`flicker_of_outputs`)."""
    diffs = []
    for a, b in zip(outs[:-1], outs[1:]):
        back = cv2.warpAffine(a, np.float32([[1, 0, -step], [0, 1, 0]]), (a.shape[1], a.shape[0]), flags=cv2.INTER_LINEAR)
        diffs.append(np.abs(back[8:-8, 8:-8].astype(np.float32) - b[8:-8, 8:-8].astype(np.float32)).mean())
    return float(np.mean(diffs))


@pytest.mark.parametrize("step", [1.5, 2.5])
def test_a_sub_pixel_pan_lands_on_the_grid_with_the_sub_pixel_correction(step: float) -> None:
    """At 75 % a 2 px camera pan is 1.5 px of the network's input: whole-pixel pads leave the scene
    half a pixel off the grid on every other frame. The correction moves it the rest of the way (and
    the picture back), which the whole-pixel anchoring alone cannot."""
    clip = _subpixel_clip(step)
    whole, sub = GridAnchor(stride=4, subpixel=False), GridAnchor(stride=4)
    f_whole = _flicker_subpixel([whole(f, blocky) for f in clip], step)
    f_sub = _flicker_subpixel([sub(f, blocky) for f in clip], step)
    assert f_sub < 0.7 * f_whole, (f_whole, f_sub)  # 10.2 -> 5.8 levels here (the bilinear moves soften the lattice)
    assert abs(sub.residual()[0]) <= 0.7 and sub.offset[0] == pytest.approx(-step * (len(clip) - 1), abs=0.15)
