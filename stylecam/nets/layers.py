"""Building blocks shared by the style networks."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ConvLayer(nn.Module):
    """Reflection-padded convolution (keeps borders free of the dark frame zero padding leaves).

    Parameter names (``conv2d``) match pytorch/examples so reference weights load unchanged.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1, dilation: int = 1
    ) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2 * dilation)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride, groups=groups, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


def upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour upsampling of ``x`` to the spatial size of ``like``.

    Upsampling to the encoder's size (instead of a fixed factor 2) is what makes the output size
    equal the input size for odd H, W; on sizes divisible by the stride it equals the reference's
    ``interpolate(scale_factor=2)``.
    """
    return F.interpolate(x, size=like.shape[-2:], mode="nearest")
