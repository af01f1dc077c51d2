"""Count the floating-point operations of a style network on a given frame size."""

from __future__ import annotations

import torch
from torch import nn


def count_flops(net: nn.Module, *, height: int = 480, width: int = 640) -> int:
    """FLOPs (2 x multiply-accumulates) of the convolutions of one forward pass on one frame.

    Convolutions dominate these networks; norms, activations and resampling (a few FLOPs per
    element) are left out, as is usual. The count is measured with forward hooks on a real pass,
    so it is right for any input size.
    """
    total = 0

    def hook(module: nn.Conv2d, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        k_h, k_w = module.kernel_size
        macs_per_output = (module.in_channels // module.groups) * k_h * k_w
        total += 2 * output.numel() * macs_per_output

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            net(torch.zeros(1, 3, height, width))
    finally:
        for h in handles:
            h.remove()
    return total
