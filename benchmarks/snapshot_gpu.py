"""GPU targets of snapshot mode: 512 px Gatys <= 10 s, 1280x720 four-octave DeepDream <= 10 s.

Needs a CUDA GPU and the VGG16 weights (``--vgg-weights`` or $STYLECAM_VGG_WEIGHTS). Each case is
run once to warm up (weights upload, cuDNN plans) and then timed; prints one line per case
and exits 1 if a target is missed. ``benchmarks/gpu_proof.py --sections snapshot`` times both runs.

    .venv/bin/python benchmarks/snapshot_gpu.py --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from stylecam.imageio import read_image
from stylecam.snapshot import DreamConfig, GatysConfig, PerceptualSource, dream, gatys
from stylecam.snapshot.common import resize_bgr

SHARED = Path(__file__).resolve().parents[2] / "shared"
TARGET_S = 10.0


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` takes, the GPU's queue drained before and after (when there is one)."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t0


def snapshot_cases(
    source: PerceptualSource,
    content: np.ndarray,
    style: np.ndarray,
    *,
    device: str = "cuda",
    gatys_size: int = 512,
    gatys_steps: int = 240,
    dream_size: tuple[int, int] = (1280, 720),
    dream_steps: int = 10,
) -> dict[str, Callable[[], np.ndarray]]:
    """The two snapshot targets as calls returning the (h, w, 3) uint8 BGR result.

    The defaults are the targets' settings (the snapshot defaults); smaller values are for dry runs on a CPU.
    """
    frame = resize_bgr(content, dream_size[1], dream_size[0])
    return {
        f"gatys {gatys_size} px ({gatys_steps} steps, coarse to fine, L-BFGS)": lambda: gatys(
            content, [style], config=GatysConfig(size=gatys_size, steps=gatys_steps), perceptual=source, device=device
        ),
        f"dream {dream_size[0]}x{dream_size[1]} (4 octaves x {dream_steps} steps, relu4_3)": lambda: dream(
            frame, config=DreamConfig(max_size=max(dream_size), steps=dream_steps), perceptual=source, device=device
        ),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU: nothing to measure (the GPU targets need one)")
        return 0
    # cuDNN autotuning stays off, as in the app: on an H200 it made the first Gatys run 19.7 s instead
    # of 7.7 s and took up to 130 GiB of GPU memory for its trials (docs/PERFORMANCE.md).
    source = PerceptualSource.from_weights(args.vgg_weights)
    cases = snapshot_cases(source, read_image(args.content), read_image(args.style))
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
