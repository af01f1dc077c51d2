"""DeepDream on VGG16, following the original (Mordvintsev et al., 2015) algorithm.

Gradient ascent on the image to make one layer's activations (or some of its channels) stronger,
with the original's devices:

- normalised steps: ``image += step_size * grad / mean(|grad|)`` (image in 0-255 pixel units);
- jitter: the image is rolled by a random offset of up to ``jitter`` px before each step and
  rolled back after, so no fixed pixel grid gets reinforced;
- octaves: the content is processed from ``octave_scale**-(octaves-1)`` size up to full size; the
  detail the dream added at each octave (dreamed - base) is upsampled and added to the next,
  larger, base image;
- guided dreaming: with a guide image, each position's activation vector is pulled towards the
  guide's feature vector it matches best (largest dot product), so the dream takes on the
  guide's motifs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from stylecam.snapshot.common import (
    Cancelled,
    CancelToken,
    ProgressFn,
    Reporter,
    SnapshotError,
    abort_on_cancel,
    autocast_features,
    check_image,
    fit_long_side,
    release,
    resize_bgr,
    resize_tensor,
    resolve_device,
    stop_note,
    to_image,
    to_tensor,
)
from stylecam.snapshot.gatys import MAX_SIZE, check_bf16, check_layer, check_preview_seconds
from stylecam.heap import retained_heap
from stylecam.snapshot.source import PerceptualSource

GUIDE_SIZE = 256
"""Long side the guide image is resized to; its features are matched against every position."""
MIN_OCTAVE_SIDE = 32


@dataclass(frozen=True)
class DreamConfig:
    """Options of :func:`dream`. Invalid values raise :class:`SnapshotError` at construction.

    ``layer``: VGG16 layer whose activations are amplified (``relu3_3`` gives patterns,
    ``relu4_3``/``relu5_2`` objects and eyes). ``channels``: only these channels of the layer
    (None: all). ``steps``: ascent steps per octave. ``step_size``: pixels (0-255) moved per step
    for the average pixel, the gradient being normalised by its mean absolute value.
    ``octaves`` are reduced automatically so the smallest keeps a short side of at least 32 px.
    ``guide_weight``: with a guide image, 1.0 dreams purely towards the guide, 0.0 ignores it,
    in between mixes the guided and the plain (L2) objectives.
    ``max_size``: long side cap; larger content is shrunk to it, smaller is kept as is.
    ``bf16``: VGG16 under bf16 autocast, as :attr:`GatysConfig.bf16` (``auto``, ``on``, ``off``).
    ``preview_every``/``preview_seconds``: a preview every that many steps and at least every that
    many seconds.
    """

    layer: str = "relu4_3"
    octaves: int = 4
    octave_scale: float = 1.4
    steps: int = 10
    step_size: float = 1.5
    jitter: int = 32
    channels: tuple[int, ...] | None = None
    guide_weight: float = 1.0
    max_size: int = 1280
    seed: int = 0
    preview_every: int = 5
    bf16: Literal["auto", "on", "off"] = "auto"
    preview_seconds: float = 1.0

    def __post_init__(self) -> None:
        check_layer(self.layer, "the dream layer")
        if not isinstance(self.octaves, int) or not 1 <= self.octaves <= 12:
            raise SnapshotError(f"octaves must be an integer from 1 to 12, got {self.octaves!r}")
        if not np.isfinite(self.octave_scale) or not 1.0 < self.octave_scale <= 4.0:
            raise SnapshotError(f"octave_scale must be above 1 and at most 4, got {self.octave_scale!r}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise SnapshotError(f"steps must be a positive integer, got {self.steps!r}")
        if not np.isfinite(self.step_size) or self.step_size <= 0:
            raise SnapshotError(f"step_size must be > 0, got {self.step_size!r}")
        if not isinstance(self.jitter, int) or self.jitter < 0:
            raise SnapshotError(f"jitter must be an integer >= 0, got {self.jitter!r}")
        if self.channels is not None:
            if not self.channels or any(not isinstance(c, int) or c < 0 for c in self.channels):
                raise SnapshotError(f"channels must be non-negative integers, got {self.channels!r}")
        if not np.isfinite(self.guide_weight) or not 0.0 <= self.guide_weight <= 1.0:
            raise SnapshotError(f"guide_weight must be between 0 and 1, got {self.guide_weight!r}")
        if not isinstance(self.max_size, int) or not 32 <= self.max_size <= MAX_SIZE:
            raise SnapshotError(f"max_size must be an integer from 32 to {MAX_SIZE} px, got {self.max_size!r}")
        if not isinstance(self.preview_every, int) or self.preview_every < 1:
            raise SnapshotError(f"preview_every must be a positive integer, got {self.preview_every!r}")
        check_bf16(self.bf16)
        check_preview_seconds(self.preview_seconds)


def octave_sizes(height: int, width: int, config: DreamConfig) -> list[tuple[int, int]]:
    """[(h, w)] from the smallest octave to full size; octaves below 32 px (short side) are dropped."""
    sizes = [(height, width)]
    for _ in range(config.octaves - 1):
        h, w = sizes[-1]
        nh, nw = round(h / config.octave_scale), round(w / config.octave_scale)
        if min(nh, nw) < MIN_OCTAVE_SIDE:
            break
        sizes.append((nh, nw))
    return sizes[::-1]


def _select(acts: torch.Tensor, channels: tuple[int, ...] | None, layer: str) -> torch.Tensor:
    if channels is None:
        return acts
    if max(channels) >= acts.shape[1]:
        raise SnapshotError(f"channel {max(channels)} does not exist: {layer} has channels 0-{acts.shape[1] - 1}")
    return acts[:, list(channels)]


def dream(
    content: np.ndarray,
    *,
    config: DreamConfig = DreamConfig(),
    guide: np.ndarray | None = None,
    perceptual: PerceptualSource | None = None,
    device: str = "auto",
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Dream on ``content`` ((H, W, 3) uint8 BGR); returns uint8 BGR of the content's size
    (shrunk to ``config.max_size`` on the long side if larger). ``guide``: optional (h, w, 3)
    uint8 BGR guide image. On cancel, returns the dream so far (its detail added to the full-size
    content) within one network layer. Raises :class:`SnapshotError` or :class:`~stylecam.errors.WeightsError`.
    """
    check_image(content, "the content image")
    if guide is not None:
        check_image(guide, "the guide image")
    dev = resolve_device(device)
    source = perceptual if perceptual is not None else PerceptualSource.from_weights()
    height, width = content.shape[:2]
    if max(height, width) > config.max_size:
        height, width = fit_long_side(height, width, config.max_size)
    if min(height, width) < MIN_OCTAVE_SIDE:
        raise SnapshotError(f"the content is {width}x{height}: too small to dream on (each side needs at least 32 px)")
    vgg = autocast_features(source.features([config.layer], dev), config.bf16, dev)
    try:
        with retained_heap():  # every ascent step allocates the same activations (stylecam.heap)
            return _dream(resize_bgr(content, height, width), guide, config, vgg, dev, progress, cancel)
    finally:
        del vgg
        release(dev)


def _dream(
    content: np.ndarray,
    guide: np.ndarray | None,
    config: DreamConfig,
    vgg: torch.nn.Module,
    dev: torch.device,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> np.ndarray:
    rng = np.random.default_rng(config.seed)
    sizes = octave_sizes(*content.shape[:2], config)
    reporter = Reporter(progress, len(sizes) * config.steps, config.preview_every, config.preview_seconds)
    full_base = to_tensor(content, dev)
    guide_feats: torch.Tensor | None = None
    if guide is not None and config.guide_weight > 0:
        guide_feats = _guide_features(guide, vgg, config, dev)
    plain_weight = 1.0 - config.guide_weight if guide_feats is not None else 1.0
    detail = torch.zeros((1, 3, *sizes[0]), device=dev)
    losses: dict[str, float] = {}
    stage = ""
    image = base = full_base
    cancelled = False
    for index, (h, w) in enumerate(sizes):
        stage = f"octave {index + 1}/{len(sizes)} ({w}x{h})"
        base = resize_tensor(full_base, h, w)
        image = base + resize_tensor(detail, h, w)
        for _ in range(config.steps):
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            try:
                with abort_on_cancel(vgg, cancel):
                    image, value = _ascent_step(image, vgg, config, guide_feats, plain_weight, rng)
            except Cancelled:
                cancelled = True
                break
            losses["objective"] = value
            reporter.advance(stage, losses, lambda: to_image(image))
        detail = image - base
        if cancelled:
            break
    # On cancel the detail so far is carried to full size, as the next octaves would have done.
    result_t = (full_base + resize_tensor(detail, *full_base.shape[-2:])) if cancelled else image
    result = to_image(result_t)
    note = stop_note("dream", "cancelled" if cancelled else "step cap", reporter.evaluations, reporter.total)
    reporter.finish(stage + (" (cancelled)" if cancelled else ""), losses, result, note)
    del detail, image, base, full_base, guide_feats
    return result


def _guide_features(guide: np.ndarray, vgg: torch.nn.Module, config: DreamConfig, dev: torch.device) -> torch.Tensor:
    """The guide's features at ``config.layer`` (its long side at most GUIDE_SIZE): (C, positions) float32."""
    gh, gw = fit_long_side(*guide.shape[:2], min(GUIDE_SIZE, max(guide.shape[:2])))
    with torch.no_grad():
        g = _select(vgg(to_tensor(resize_bgr(guide, max(gh, 16), max(gw, 16)), dev))[config.layer], config.channels, config.layer)
    return g[0].reshape(g.shape[1], -1)


def _ascent_step(
    image: torch.Tensor,
    vgg: torch.nn.Module,
    config: DreamConfig,
    guide_feats: torch.Tensor | None,
    plain_weight: float,
    rng: np.random.Generator,
) -> tuple[torch.Tensor, float]:
    """One jittered, normalised gradient-ascent step; returns the new image and the objective."""
    oy, ox = (int(v) for v in rng.integers(-config.jitter, config.jitter + 1, 2))
    rolled = torch.roll(image.detach(), shifts=(oy, ox), dims=(2, 3)).requires_grad_(True)
    acts = _select(vgg(rolled)[config.layer], config.channels, config.layer)
    objective = plain_weight * 0.5 * acts.pow(2).sum()
    if guide_feats is not None:
        x = acts[0].reshape(acts.shape[1], -1)  # (C, positions)
        with torch.no_grad():
            match = guide_feats[:, (x.t() @ guide_feats).argmax(dim=1)]  # best guide vector per position
        objective = objective + config.guide_weight * (x * match).sum()
    (grad,) = torch.autograd.grad(objective, rolled)
    with torch.no_grad():
        step = config.step_size * grad / grad.abs().mean().clamp_min(1e-8)
        new = torch.roll(rolled + step, shifts=(-oy, -ox), dims=(2, 3)).clamp(0.0, 255.0)
    return new, float(objective.detach()) / max(1, acts.numel())
