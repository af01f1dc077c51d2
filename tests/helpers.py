"""Helpers for tests: tiny random style files and synthetic frames."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecam.nets import build_net
from stylecam.styles import StyleInfo, export_style


def synthetic_frame(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A (H, W, 3) uint8 BGR frame with smooth gradients and a few edges (not noise, not flat)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([xx / width * 255, yy / height * 255, (xx + yy) % 64 * 4], axis=-1)
    img[height // 3 : height // 2, width // 4 : width // 2] = rng.integers(0, 255, 3)
    return img.clip(0, 255).astype(np.uint8)


def random_net(arch: str, seed: int = 0) -> torch.nn.Module:
    """An untrained network of ``arch`` whose output visibly differs from its input.

    A fresh lite net is the identity plus a whisper (it learns a change to its input); tests
    want an output that differs from the input as a trained style's does.
    """
    torch.manual_seed(seed)
    net = build_net(arch)
    if arch == "lite":
        with torch.no_grad():
            net.out.conv2d.weight.normal_(0.0, 8.0)
    return net


def make_random_style(folder: Path, name: str = "random_lite", arch: str = "lite", seed: int = 0, fp16: bool = False) -> list[Path]:
    """Export an untrained network of ``arch`` with random weights as a style file in ``folder``."""
    net = random_net(arch, seed)
    info = StyleInfo.from_style_image(name=name, style_image_bgr=synthetic_frame(40, 40, seed), arch=arch, title=name)
    return export_style(net, folder, info, fp16=fp16)


class SlowEngine:
    """A stand-in for StyleEngine (patch ``stylecam.pipeline.pipeline.load_engine``) taking ``delay`` s per frame.

    run() returns the frames unchanged, so a test can read what went through.
    """

    arch, provider, name = "lite", "CPUExecutionProvider", "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def run(self, frames: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return frames.copy()


def count_video_frames(path: Path) -> int:
    """How many frames OpenCV can decode from the video at ``path``."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def write_photo_folder(folder: Path, *, count: int, size: tuple[int, int], ext: str = ".jpg", seed: int = 0) -> Path:
    """Make ``folder`` with ``count`` smooth random photos of ``size`` = (width, height); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = cv2.resize(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"p{i}{ext}"), img)
    return folder
