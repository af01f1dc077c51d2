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


GRAM_CHUNK_BYTES = 8 * 1024 * 1024
"""The most float32 scratch :class:`_Bf16Gram` holds at once (one slice of the positions)."""


class _Bf16Gram(torch.autograd.Function):
    """f^T f for (N, M, C) bfloat16 features: the product in float32 (the loss needs its digits),
    the gradient f (G' + G'^T) in bfloat16, since it flows back into a bf16 network anyway (a
    bf16 matrix product is ~4x a float32 one on CPUs with AVX512-BF16).

    The float32 copy is made one slice of positions at a time (at most :data:`GRAM_CHUNK_BYTES`),
    the products summed: at 512 px relu1_1 alone would be a 67 MB copy per evaluation, which in
    a worker thread (the window's snapshot) glibc maps and unmaps afresh every time, since a
    thread's heap holds at most 64 MiB (stylecam.heap cannot keep it)."""

    @staticmethod
    def forward(ctx: Any, f: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(f)
        n, m, c = f.shape
        rows = max(1, GRAM_CHUNK_BYTES // (4 * n * c))
        gram = torch.zeros((n, c, c), dtype=torch.float32, device=f.device)
        for start in range(0, m, rows):
            part = f[:, start : start + rows].float()
            gram = torch.baddbmm(gram, part.transpose(1, 2), part)
        return gram

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
    channels_last = features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous()
    # (N, H*W, C) without a copy in either memory format
    f = features.permute(0, 2, 3, 1).reshape(n, h * w, c) if channels_last else features.reshape(n, c, h * w).transpose(1, 2)
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
        return self.weight * F.mse_loss(features[self.layer].float(), ref)


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
