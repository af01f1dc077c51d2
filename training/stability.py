"""Temporal stability term: a style network must not flicker when the camera pans.

A panning camera shows the same scene shifted by a few pixels, with fresh sensor noise. For a
content batch ``x`` and output ``y = net(x)``, the shifted copy is ``x' = x[..., dy:, dx:] + noise``
(the window moved by ``(dy, dx)``); a stable network gives ``net(x') == y[..., dy:, dx:]``. The
term is the mean absolute difference over that overlap, in output levels (0-255).

Shifts that are not multiples of the network's stride (8 for lite, 4 for full) are what make
feed-forward style networks flicker, so shifts are drawn uniformly from 1 ... max_shift per axis.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def draw_shift(generator: torch.Generator, max_shift: int) -> tuple[int, int]:
    """A (dy, dx) pair, each uniform in 0 ... max_shift, not both zero."""
    while True:
        dy, dx = (int(v) for v in torch.randint(0, max_shift + 1, (2,), generator=generator))
        if dy or dx:
            return dy, dx


def stability_loss(
    net: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    shift: tuple[int, int],
    noise_std: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Mean |net(shifted x + noise) - shifted y| over the overlap.

    x: (N, 3, H, W) float RGB 0-255 (the content batch); y: ``net(x)``, same shape (kept in the
    graph: both passes learn to agree). shift: (dy, dx) >= 0 in pixels. noise_std: Gaussian noise
    in levels. generator: CPU generator for the noise, so the term is reproducible per step.
    Returns a float32 scalar.
    """
    dy, dx = shift
    moved = x[:, :, dy:, dx:]
    if noise_std > 0:
        noise = torch.randn(moved.shape, generator=generator, dtype=torch.float32) * noise_std
        moved = moved + noise.to(device=x.device, dtype=x.dtype)
    y_moved = net(moved)
    return (y_moved.float() - y[:, :, dy:, dx:].float()).abs().mean()
