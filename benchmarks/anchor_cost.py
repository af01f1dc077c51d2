"""What grid anchoring (stylecam.anchor) costs a frame, without the network.

    .venv/bin/python benchmarks/anchor_cost.py            # network inputs of 320x240, 480x360 and 640x480

Each size: 100 frames of a 2 px a frame pan over a smooth synthetic scene, through a
:class:`~stylecam.anchor.GridAnchor` of stride 4 with an identity "network": the shift measure,
its whole-pixel refinement, the padding and the crop; then the same at 1.5 px a frame (a 2 px
camera pan at 75 %), where every other frame also takes the sub-pixel moves. Prints
milliseconds per frame.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from _common import run_cli

from stylecam.anchor import GridAnchor


def scene(width: int, height: int) -> np.ndarray:
    """A smooth (width + 200) x height BGR scene: random colours at 1/20 scale, enlarged cubically."""
    small = np.random.default_rng(3).integers(0, 256, (max(2, height // 20), max(2, (width + 200) // 20), 3), dtype=np.uint8)
    return cv2.resize(small, (width + 200, height), interpolation=cv2.INTER_CUBIC)


def cost_ms(width: int, height: int, frames: int = 100, step: float = 2.0) -> float:
    """Milliseconds a frame of anchoring a ``width`` x ``height`` pan of ``step`` px a frame (after 5 frames of warm-up)."""
    big = scene(width, height)
    moves = [np.float32([[1, 0, -step * i], [0, 1, 0]]) for i in range(frames + 5)]
    clip = [cv2.warpAffine(big, m, (big.shape[1], big.shape[0]), flags=cv2.INTER_LINEAR)[:, :width] for m in moves]
    anchor = GridAnchor(stride=4)
    for f in clip[:5]:
        anchor(f, lambda x: x)
    t0 = time.perf_counter()
    for f in clip[5:]:
        anchor(f, lambda x: x)
    return (time.perf_counter() - t0) / frames * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    args = ap.parse_args()
    for w, h in ((320, 240), (480, 360), (640, 480)):
        whole, sub = cost_ms(w, h, args.frames), cost_ms(w, h, args.frames, step=1.5)
        print(f"{w}x{h}: {whole:.2f} ms a frame on a 2 px pan, {sub:.2f} ms on a 1.5 px pan (sub-pixel moves)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
