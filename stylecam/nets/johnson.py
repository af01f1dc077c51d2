"""The Johnson et al. (2016) image transformation network, with instance norm.

Layer for layer the network of pytorch/examples' ``fast_neural_style`` (``TransformerNet``), with
the same parameter names, so a reference state dict loads into it and results compare. The one
difference: upsampling goes to the matching encoder size, so odd input sizes keep their size.
"""

from __future__ import annotations

import torch
from torch import nn

from stylecam.nets.layers import ConvLayer, upsample_to


class ResidualBlock(nn.Module):
    """conv-IN-ReLU-conv-IN plus identity (He et al. 2016, as in Johnson et al.)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + x


class UpsampleConvLayer(nn.Module):
    """Nearest upsample to ``like``'s size, then a reflection-padded conv (no checkerboard)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, 1)

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(upsample_to(x, like)))


class TransformerNet(nn.Module):
    """The ``full`` style network: 3 down convs, 5 residual blocks at 1/4 size, 2 up convs.

    forward: (N, 3, H, W) float RGB 0-255 -> (N, 3, H, W) float, approximately 0-255 (not clamped).
    ~94 GFLOPs at 640x480 (see :func:`stylecam.nets.count_flops`), 1.68 M parameters.
    """

    arch = "full"

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(3, 32, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ConvLayer(32, 64, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ConvLayer(64, 128, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        self.res1 = ResidualBlock(128)
        self.res2 = ResidualBlock(128)
        self.res3 = ResidualBlock(128)
        self.res4 = ResidualBlock(128)
        self.res5 = ResidualBlock(128)
        self.deconv1 = UpsampleConvLayer(128, 64, kernel_size=3)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = UpsampleConvLayer(64, 32, kernel_size=3)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y1 = self.relu(self.in1(self.conv1(x)))
        y2 = self.relu(self.in2(self.conv2(y1)))
        y = self.relu(self.in3(self.conv3(y2)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = self.relu(self.in4(self.deconv1(y, y2)))
        y = self.relu(self.in5(self.deconv2(y, y1)))
        return self.deconv3(y)
