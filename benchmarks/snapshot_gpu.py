"""GPU targets of snapshot mode: 512 px Gatys <= 10 s, 1280x720 four-octave DeepDream <= 10 s.

Needs a CUDA GPU and the VGG16 weights (``--vgg-weights`` or $STYLECAM_VGG_WEIGHTS). Each case is
run once to warm up (cuDNN autotuning, weights upload) and then timed; prints one line per case
and exits 1 if a target is missed.

    .venv/bin/python benchmarks/snapshot_gpu.py --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from stylecam.imageio import read_image
from stylecam.snapshot import DreamConfig, GatysConfig, PerceptualSource, dream, gatys
from stylecam.snapshot.common import resize_bgr

SHARED = Path(__file__).resolve().parents[2] / "shared"
TARGET_S = 10.0


def timed(fn: object) -> float:
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU: nothing to measure (the GPU targets need one)")
        return 0
    torch.backends.cudnn.benchmark = True
    source = PerceptualSource.from_weights(args.vgg_weights)
    content, style = read_image(args.content), read_image(args.style)
    frame_720p: np.ndarray = resize_bgr(content, 720, 1280)
    cases = {
        "gatys 512 px (default: 240 steps, 256 -> 512 px, L-BFGS)": lambda: gatys(content, [style], config=GatysConfig(size=512), perceptual=source, device="cuda"),
        "dream 1280x720 (4 octaves x 10 steps, relu4_3)": lambda: dream(frame_720p, config=DreamConfig(), perceptual=source, device="cuda"),
    }
    failed = False
    print(f"device: {torch.cuda.get_device_name()}")
    for name, fn in cases.items():
        fn()  # warm-up
        seconds = timed(fn)
        ok = seconds <= TARGET_S
        failed |= not ok
        print(f"{name}: {seconds:.2f} s (target <= {TARGET_S:.0f} s) {'OK' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
