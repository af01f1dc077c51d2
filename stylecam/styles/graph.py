"""The in-graph pre/post-processing of a style file: uint8 BGR frames in, uint8 BGR frames out."""

from __future__ import annotations

import torch
from torch import nn


class FrameStylizer(nn.Module):
    """Wrap a style network so that it takes and returns frames exactly as OpenCV holds them.

    forward(frames): (N, H, W, 3) uint8 BGR -> (N, H, W, 3) uint8 BGR, same H, W (any H, W >= 32).
    ``compute_dtype`` (float32 or float16) is the precision the network runs in; the conversions
    to and from uint8 happen inside, so on a GPU no float frame ever crosses the bus.
    """

    def __init__(self, net: nn.Module, compute_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.net = net.to(compute_dtype)
        self.compute_dtype = compute_dtype

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.permute(0, 3, 1, 2).to(self.compute_dtype).flip(1)  # NHWC BGR -> NCHW RGB
        y = self.net(x).float().clamp(0.0, 255.0)
        return (y + 0.5).to(torch.uint8).flip(1).permute(0, 2, 3, 1)
