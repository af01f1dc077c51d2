"""What Gatys and DeepDream share: progress reports, cancellation, devices, image <-> tensor.

Images cross the public API as (H, W, 3) uint8 **BGR** arrays (OpenCV's order); inside, they
are (1, 3, H, W) float32 **RGB** tensors in 0-255, the range :class:`~stylecam.perceptual.VGGFeatures`
takes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from stylecam.accel import autocast_dtype
from stylecam.perceptual import VGGFeatures
from stylecam.errors import StylecamError


class SnapshotError(StylecamError):
    """A snapshot option or input is invalid (size, layer name, weights count, device...)."""


@dataclass(frozen=True)
class Progress:
    """One progress report.

    ``step`` counts from 1 to ``total`` (Gatys: objective evaluations over all scales; DeepDream:
    ascent steps over all octaves). ``stage`` names the scale or octave, e.g. ``"scale 2/3 (256x192)"``.
    ``losses`` holds the latest loss terms by name. ``preview`` is the current image as (h, w, 3)
    uint8 BGR (at the current scale's size) every ``preview_every`` steps, whenever
    ``preview_seconds`` have passed since the last one, and at the end; else None.
    ``evaluations``: steps actually run so far (``step`` jumps ahead when a Gatys scale stops
    early on a plateau, so that the bar stays proportional). ``stopped``: only in the final
    report, why each scale (Gatys) or the run (DeepDream) ended, e.g.
    ``"scale 1/2: plateau after 52/112 steps; scale 2/2: step cap after 38/38 steps"``.
    """

    step: int
    total: int
    stage: str
    losses: dict[str, float] = field(default_factory=dict)
    preview: np.ndarray | None = None
    evaluations: int = 0
    stopped: str = ""


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


class Cancelled(Exception):
    """Raised inside an objective evaluation (or a network layer) to leave the optimisation at once."""


@contextmanager
def abort_on_cancel(network: nn.Module, cancel: CancelToken | None) -> Iterator[None]:
    """While active, every layer of ``network`` checks ``cancel`` after its forward and before its
    backward and raises :class:`Cancelled`: one VGG16 evaluation at 512 px takes about a second
    on a laptop CPU, so checking only between evaluations would make cancel feel slow."""
    if cancel is None:
        yield
        return

    def check(*_: object) -> None:
        if cancel.cancelled:
            raise Cancelled

    def after_forward(_module: nn.Module, _inputs: object, output: object) -> None:
        check()
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(check)  # returns None: the gradient is left unchanged

    leaves = [m for m in network.modules() if not any(True for _ in m.children())]
    handles = [m.register_forward_hook(after_forward) for m in leaves]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


class AutocastFeatures(nn.Module):
    """A VGGFeatures whose forward and backward run under autocast ``dtype`` (None: float32).

    Under bf16/fp16 the network is in channels-last memory format (what oneDNN's and cuDNN's
    fast low-precision convolutions want); the input image, its gradient and the optimiser
    state stay float32 (autocast casts at each convolution), and the returned features are cast
    back to float32 so that Grams, sums and dot products downstream are exact enough.
    forward: (N, 3, H, W) float32 RGB 0-255 -> ``{layer: (N, C, h, w) float32}``; with
    ``float_outputs=False`` the features stay in ``dtype`` (for losses that cast where it
    matters, as :func:`~stylecam.perceptual.losses.gram_matrix` does, and save the copies).
    """

    def __init__(self, features: nn.Module, dtype: torch.dtype | None, *, float_outputs: bool = True) -> None:
        super().__init__()
        self.dtype = dtype
        self.float_outputs = float_outputs
        self.features = features.to(memory_format=torch.channels_last) if dtype is not None else features
        # On the CPU a bf16 copy of the trunk beats autocast, which re-casts every weight at every
        # call (512 px Gatys: ~7 % of an evaluation). The input is normalised in float32 first.
        self.native = (
            dtype == torch.bfloat16
            and isinstance(features, VGGFeatures)
            and all(p.device.type == "cpu" for p in features.parameters())
        )
        if self.native:
            features.trunk.to(torch.bfloat16)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.dtype is None:
            return self.features(images)
        if self.native:
            x = self.features.normalize(images).to(torch.bfloat16, memory_format=torch.channels_last)
            out = self.features.forward_normalized(x)
        else:
            with torch.autocast(images.device.type, dtype=self.dtype):
                out = self.features(images.contiguous(memory_format=torch.channels_last))
        return {name: f.float() for name, f in out.items()} if self.float_outputs else dict(out)


def autocast_features(features: nn.Module, bf16: str, device: torch.device, *, float_outputs: bool = True) -> AutocastFeatures:
    """``features`` wrapped for the ``bf16`` choice: ``auto`` (bf16 on CPUs where
    :func:`stylecam.accel.cpu_bf16_is_fast`, bf16 or fp16 on CUDA, else float32), ``on``, ``off``."""
    return AutocastFeatures(features, autocast_dtype(bf16, device), float_outputs=float_outputs)


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


_clock = time.monotonic
"""The Reporter's clock (tests replace it)."""


class Reporter:
    """Sends :class:`Progress` to the callback, with previews every ``preview_every`` steps and
    at least every ``preview_seconds`` (a step at 512 px can take a second on a CPU)."""

    def __init__(self, progress: ProgressFn | None, total: int, preview_every: int, preview_seconds: float = float("inf")) -> None:
        self.progress = progress
        self.total = total
        self.preview_every = max(1, preview_every)
        self.preview_seconds = preview_seconds
        self.step = 0
        self.evaluations = 0
        self._last_preview = _clock()

    def advance(self, stage: str, losses: dict[str, float], image: Callable[[], np.ndarray]) -> None:
        """Count one step and report it; ``image`` (-> uint8 BGR) is called only when a preview is due."""
        self.step += 1
        self.evaluations += 1
        if self.progress is None:
            return
        now = _clock()
        due = self.step % self.preview_every == 0 or self.step >= self.total or now - self._last_preview >= self.preview_seconds
        preview = image() if due else None
        if due:
            self._last_preview = now
        self.progress(Progress(min(self.step, self.total), self.total, stage, dict(losses), preview, self.evaluations))

    def skip_to(self, step: int) -> None:
        """Move the step count ahead to ``step`` (a stage ended before its share of the steps)."""
        self.step = max(self.step, min(step, self.total))

    def finish(self, stage: str, losses: dict[str, float], result_bgr: np.ndarray, stopped: str = "") -> None:
        """The final report: step == total, the result as preview, and why the run stopped."""
        if self.progress is not None:
            self.progress(Progress(self.total, self.total, stage, dict(losses), result_bgr, self.evaluations, stopped))


def stop_note(stage: str, reason: str, ran: int, cap: int) -> str:
    """One entry of :attr:`Progress.stopped`, e.g. ``"scale 1/2: plateau after 52/112 steps"``."""
    return f"{stage}: {reason} after {ran}/{cap} steps"
