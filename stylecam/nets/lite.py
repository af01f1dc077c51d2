"""``lite``: a style network for real time on a laptop CPU.

Where the full network spends ~90 % of its 94 GFLOPs on dense 3x3 convs at 1/4 and full size,
this one downsamples to 1/8 early (large receptive field for brush strokes at little cost),
runs depthwise-separable residual blocks there, and decodes with depthwise-separable upsampling
convs. The last conv runs at 1/2 size and emits 4 sub-pixels per pixel (pixel shuffle), so no
16-channel full-resolution tensor is ever made: that tail was a third of the run time when it was a
nearest upsample + conv at full size, for the same FLOPs. ~1.5 GFLOPs per 640x480 frame, ~60x
less than ``full``.

The network predicts a change to its input (``out = x + f(x)``, the last conv initialised near
zero): it starts as the identity, so content is right from the first step and a short CPU
training run spends its steps on style instead of on learning to reproduce the photo.
"""

from __future__ import annotations

import torch
from torch import nn

from stylecam.nets.layers import ConvLayer, upsample_to


class SeparableConv(nn.Module):
    """Depthwise 3x3 (reflection padded) followed by a pointwise 1x1 conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = ConvLayer(in_channels, in_channels, kernel_size=3, groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class SeparableResidualBlock(nn.Module):
    """Residual block of two separable convs with instance norm."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = SeparableConv(channels, channels)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = SeparableConv(channels, channels)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + x


class SeparableUpsample(nn.Module):
    """Nearest upsample to ``like``'s size, then a separable conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = SeparableConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.conv(upsample_to(x, like))


class LiteNet(nn.Module):
    """The ``lite`` style network.

    forward: (N, 3, H, W) float RGB 0-255 -> (N, 3, H, W) float, approximately 0-255.
    Layout: conv5x5/2 (16) -> conv3x3/2 (32) -> conv3x3/2 (64) -> 5 separable residual blocks
    at 1/8 size -> separable upsample to 1/4 (32) and 1/2 (16) -> conv3x3 to 12 channels + pixel shuffle
    to full size RGB (cropped to the input size for odd H, W), added to the input.
    """

    arch = "lite"

    def __init__(self, width: int = 64, blocks: int = 5) -> None:
        super().__init__()
        self.conv1 = ConvLayer(3, width // 4, kernel_size=5, stride=2)
        self.in1 = nn.InstanceNorm2d(width // 4, affine=True)
        self.conv2 = ConvLayer(width // 4, width // 2, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(width // 2, affine=True)
        self.conv3 = ConvLayer(width // 2, width, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(width, affine=True)
        self.res = nn.Sequential(*(SeparableResidualBlock(width) for _ in range(blocks)))
        self.up1 = SeparableUpsample(width, width // 2)
        self.in4 = nn.InstanceNorm2d(width // 2, affine=True)
        self.up2 = SeparableUpsample(width // 2, width // 4)
        self.in5 = nn.InstanceNorm2d(width // 4, affine=True)
        self.out = ConvLayer(width // 4, 3 * 4, kernel_size=3)
        self.shuffle = nn.PixelShuffle(2)
        self.relu = nn.ReLU()
        with torch.no_grad():  # start as (almost) the identity
            self.out.conv2d.weight.mul_(0.1)
            self.out.conv2d.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y1 = self.relu(self.in1(self.conv1(x)))
        y2 = self.relu(self.in2(self.conv2(y1)))
        y = self.relu(self.in3(self.conv3(y2)))
        y = self.res(y)
        y = self.relu(self.in4(self.up1(y, y2)))
        y = self.relu(self.in5(self.up2(y, y1)))
        y = self.shuffle(self.out(y))
        return x + y[:, :, : x.shape[2], : x.shape[3]]
