"""What Gatys and DeepDream share: progress reports, cancellation, devices, image <-> tensor.

Images cross the public API as (H, W, 3) uint8 **BGR** arrays (OpenCV's order); inside, they
are (1, 3, H, W) float32 **RGB** tensors in 0-255, the range :class:`~stylecam.perceptual.VGGFeatures`
takes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from stylecam.errors import StylecamError


class SnapshotError(StylecamError):
    """A snapshot option or input is invalid (size, layer name, weights count, device...)."""


@dataclass(frozen=True)
class Progress:
    """One progress report.

    ``step`` counts from 1 to ``total`` (Gatys: objective evaluations over all scales; DeepDream:
    ascent steps over all octaves). ``stage`` names the scale or octave, e.g. ``"scale 2/3 (256x192)"``.
    ``losses`` holds the latest loss terms by name. ``preview`` is the current image as (h, w, 3)
    uint8 BGR (at the current scale's size) every ``preview_every`` steps and at the end, else None.
    """

    step: int
    total: int
    stage: str
    losses: dict[str, float] = field(default_factory=dict)
    preview: np.ndarray | None = None


ProgressFn = Callable[[Progress], None]


class CancelToken:
    """Thread-safe cancel flag; the optimisation checks it at every objective evaluation."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise SnapshotError(f"unknown device {device!r} (use auto, cpu or cuda)") from None
    if dev.type not in ("cpu", "cuda"):
        raise SnapshotError(f"unsupported device {device!r} (use auto, cpu or cuda)")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SnapshotError("device 'cuda' was requested but no CUDA GPU is available (use --device auto or cpu)")
    return dev


def release(device: torch.device) -> None:
    """Give cached GPU memory back so the live pipeline sharing the GPU keeps running."""
    if device.type == "cuda":
        torch.cuda.empty_cache()


def check_image(image: np.ndarray, what: str) -> np.ndarray:
    """Check an (H, W, 3) uint8 BGR image at the API boundary (SnapshotError with a one-line reason)."""
    if not isinstance(image, np.ndarray):
        raise SnapshotError(f"{what} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise SnapshotError(f"{what} must be (H, W, 3) uint8 BGR, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < 1:
        raise SnapshotError(f"{what} is empty ({image.shape[1]}x{image.shape[0]})")
    return image


def fit_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(h, w) scaled so that max(h, w) == long_side, keeping the aspect ratio (each side >= 1)."""
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_bgr(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an (H, W, 3) uint8 image; area averaging when shrinking, bicubic when enlarging."""
    if image.shape[:2] == (height, width):
        return image
    shrink = height * width < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def to_tensor(image_bgr: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> (1, 3, H, W) float32 RGB 0-255 on ``device``."""
    rgb = np.ascontiguousarray(image_bgr[:, :, ::-1]).astype(np.float32)
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) float RGB (any range; clipped to 0-255 and rounded) -> (H, W, 3) uint8 BGR."""
    rgb = tensor.detach()[0].float().clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(rgb[:, :, ::-1])


def resize_tensor(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear resize of (N, C, H, W) float tensors (antialiased when shrinking)."""
    if images.shape[-2:] == (height, width):
        return images
    shrink = height < images.shape[-2] or width < images.shape[-1]
    return F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False, antialias=shrink)


class Reporter:
    """Sends :class:`Progress` to the callback, with previews every ``preview_every`` steps."""

    def __init__(self, progress: ProgressFn | None, total: int, preview_every: int) -> None:
        self.progress = progress
        self.total = total
        self.preview_every = max(1, preview_every)
        self.step = 0

    def advance(self, stage: str, losses: dict[str, float], image: Callable[[], np.ndarray]) -> None:
        """Count one step and report it; ``image`` (-> uint8 BGR) is called only when a preview is due."""
        self.step += 1
        if self.progress is None:
            return
        due = self.step % self.preview_every == 0 or self.step >= self.total
        preview = image() if due else None
        self.progress(Progress(min(self.step, self.total), self.total, stage, dict(losses), preview))

    def finish(self, stage: str, losses: dict[str, float], result_bgr: np.ndarray) -> None:
        """The final report: step == total and the result as preview."""
        if self.progress is not None:
            self.progress(Progress(self.total, self.total, stage, dict(losses), result_bgr))
