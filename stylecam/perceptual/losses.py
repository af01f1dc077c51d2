"""Perceptual losses as modules whose targets are computed once (pystiche style).

All take VGG feature dicts from :class:`~stylecam.perceptual.vgg.VGGFeatures`. Grams and the
reductions run in float32 even under autocast: fp16 Grams overflow on large feature maps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

Features = Mapping[str, torch.Tensor]


class _Bf16Gram(torch.autograd.Function):
    """f^T f for (N, M, C) bfloat16 features as one bf16 matrix product (float32 accumulation,
    rounded to bf16 once at the end, returned as float32), the gradient f (G' + G'^T) in bf16 too,
    since it flows back into a bf16 network anyway.

    Why not a float32 product: on the CPU it needs float32 copies of the features (relu1_1 at
    512 px is 67 MB) and runs 3-6x slower (512 px Gatys: 124 ms of an 840 ms evaluation for the
    five Grams, 31 ms in bf16). The rounding changes a Gram by ~0.15 % (relative Frobenius
    norm), 23x less than the closest Gatys gets to its target Gram in any layer (3.7 % at
    relu2_1, measured on the 512 px default result), so the loss's noise floor stays far below
    what the optimisation reaches."""

    @staticmethod
    def forward(ctx: Any, f: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(f)
        return torch.bmm(f.transpose(1, 2), f).float()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (f,) = ctx.saved_tensors
        return torch.bmm(f, (grad + grad.transpose(1, 2)).to(f.dtype))


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C) float32 Gram matrix normalised by C*H*W (as Johnson et al.).

    Channels-last features (what the bf16 paths use) are read as (N, H*W, C) views: reshaping
    them to (N, C, H*W) would copy them transposed, and the gradient would come back in the
    other memory format, so that summing it with the convolution's gradient is a strided add
    (at 512 px the two cost more than VGG16's own backward). bfloat16 features outside autocast
    (Gatys under bf16) get their gradient in bfloat16 (:class:`_Bf16Gram`).
    """
    n, c, h, w = features.shape
    # (N, H*W, C) without a copy in either memory format
    f = features.permute(0, 2, 3, 1).reshape(n, h * w, c) if _channels_last(features) else features.reshape(n, c, h * w).transpose(1, 2)
    if features.dtype == torch.bfloat16 and not torch.is_autocast_enabled(features.device.type):
        return _Bf16Gram.apply(f) / (c * h * w)
    f = f.float()
    return torch.bmm(f.transpose(1, 2), f) / (c * h * w)


class ContentLoss(nn.Module):
    """Mean squared error between the features of one layer and a target.

    The target is either fixed (:meth:`set_target`, e.g. Gatys' content image) or passed per call
    (training, where every batch has its own content).
    """

    def __init__(self, layer: str = "relu2_2", weight: float = 1.0) -> None:
        super().__init__()
        self.layer = layer
        self.weight = weight
        self.target: torch.Tensor | None = None

    def set_target(self, features: Features) -> None:
        self.target = features[self.layer].detach().float()

    def forward(self, features: Features, target: Features | None = None) -> torch.Tensor:
        ref = target[self.layer].detach().float() if target is not None else self.target
        if ref is None:
            raise RuntimeError("ContentLoss has no target: call set_target() or pass target=")
        f = features[self.layer].float()
        if _channels_last(f):
            # PyTorch's CPU MSE and its backward take a strided path on channels-last tensors, 4x
            # slower than on their dense (N, H, W, C) views (512 px Gatys, relu4_2: 33 -> 8 ms an evaluation)
            f, ref = f.permute(0, 2, 3, 1), ref.permute(0, 2, 3, 1)
        return self.weight * F.mse_loss(f, ref)


def _channels_last(t: torch.Tensor) -> bool:
    """True for a 4-D tensor stored channels-last (and not also plain contiguous, as when C or H*W is 1)."""
    return t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last)


class StyleLoss(nn.Module):
    """Sum over layers of the MSE between Gram matrices and the style's target Grams.

    Several style images blend by weight: since a weighted sum of MSEs to several targets equals
    the MSE to their weighted mean (plus a constant), the targets are blended once, up front.
    """

    def __init__(
        self,
        layers: Sequence[str] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
        weight: float = 1.0,
        layer_weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.layers = list(layers)
        self.weight = weight
        self.layer_weights = list(layer_weights) if layer_weights is not None else [1.0] * len(self.layers)
        if len(self.layer_weights) != len(self.layers):
            raise ValueError("layer_weights must have one weight per layer")
        self.targets: dict[str, torch.Tensor] = {}
        self.bank: dict[str, torch.Tensor] = {}

    def set_targets(self, style_features: Sequence[Features], blend: Sequence[float] | None = None) -> None:
        """Compute the target Grams of one or more styles (features of batch size 1 each)."""
        if not style_features:
            raise ValueError("at least one style is needed")
        w = torch.tensor(list(blend) if blend is not None else [1.0] * len(style_features), dtype=torch.float32)
        if len(w) != len(style_features) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("style blend weights must be non-negative, one per style, not all zero")
        w = w / w.sum()
        self.targets = {
            layer: sum(wi * gram_matrix(f[layer].detach())[:1] for wi, f in zip(w.tolist(), style_features))  # type: ignore[misc]
            for layer in self.layers
        }

    def set_style_bank(self, style_features: Sequence[Features]) -> None:
        """Targets of several styles trained side by side (one network, many styles): sample ``i`` of a
        batch is compared with the style ``styles[i]`` given to :meth:`forward`."""
        if not style_features:
            raise ValueError("at least one style is needed")
        self.bank = {layer: torch.cat([gram_matrix(f[layer].detach())[:1] for f in style_features]) for layer in self.layers}

    def forward(self, features: Features, styles: torch.Tensor | None = None) -> torch.Tensor:
        """Weighted sum over layers of the Gram MSE; ``styles`` (N,) long picks each sample's target from the bank."""
        if styles is None and not self.targets:
            raise RuntimeError("StyleLoss has no targets: call set_targets() first")
        if styles is not None and not self.bank:
            raise RuntimeError("StyleLoss has no style bank: call set_style_bank() first")
        total = features[self.layers[0]].new_zeros((), dtype=torch.float32)
        for layer, lw in zip(self.layers, self.layer_weights):
            g = gram_matrix(features[layer])
            if styles is None:
                target = self.targets[layer].to(g.device).expand_as(g)
            else:
                target = self.bank[layer].to(g.device)[styles.to(g.device)]
            total = total + lw * F.mse_loss(g, target)
        return self.weight * total


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels of (N, C, H, W) images (anisotropic TV)."""
    dh = (images[:, :, 1:, :] - images[:, :, :-1, :]).abs().mean()
    dw = (images[:, :, :, 1:] - images[:, :, :, :-1]).abs().mean()
    return dh + dw


LATTICE_NEIGHBOURHOOD = 8
"""Cells per side of the window :func:`lattice_loss` averages over (8 cells of a 4 px stride: 32 px)."""


def lattice_loss(images: torch.Tensor, *, period: int, neighbourhood: int = LATTICE_NEIGHBOURHOOD) -> torch.Tensor:
    """How strongly (N, C, H, W) images (levels, 0-255) wear a pattern locked to a ``period`` px grid.

    A style network that paints on a grid (the ``live`` network's 2x2 sub-pixel cells at half the
    frame's resolution: a 4 px period) can meet a Gram loss's hunger for fine texture with one
    fixed pattern per cell, which reads as a mesh over the whole picture. Each ``period`` x
    ``period`` cell minus its own mean is averaged over ``neighbourhood`` x ``neighbourhood``
    neighbouring cells: brush strokes fall on the grid at every phase and cancel out, a lattice
    does not. Returns the RMS of that average over the pictures, a float32 scalar >= 0 in levels: a
    flat picture plus a fixed lattice of RMS amplitude A gives about A. H and W >= ``period``.
    """
    n, c, h, w = images.shape
    hp, wp = h // period * period, w // period * period
    if hp == 0 or wp == 0:
        raise ValueError(f"a {h}x{w} picture is smaller than one {period} px cell")
    x = images[:, :, :hp, :wp].float()
    # high-passed first, so that smooth ramps (a sky, a cheek) do not read as a pattern
    r = period // 2
    x = x - F.avg_pool2d(F.pad(x, (r, r, r, r), mode="replicate"), kernel_size=2 * r + 1, stride=1)
    cells = F.pixel_unshuffle(x, period)  # (N, C * period**2, H/p, W/p)
    cells = cells.reshape(n, c, period * period, hp // period, wp // period)
    pattern = (cells - cells.mean(dim=2, keepdim=True)).reshape(n, c * period * period, hp // period, wp // period)
    k = max(1, min(neighbourhood, hp // period, wp // period))
    local = F.avg_pool2d(pattern, kernel_size=k, stride=1)
    return local.square().mean().add(1e-8).sqrt()
