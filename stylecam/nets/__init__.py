"""Feed-forward style networks (Johnson et al. 2016, instance norm).

Both networks take and return float tensors of shape (N, 3, H, W), RGB, values 0-255
(the convention of the pytorch/examples reference), for any H, W >= 32; the output has the
input's size, odd sizes included.

- ``full``: the reference architecture (same layers and parameter names as pytorch/examples'
  ``TransformerNet``), ~94 GFLOPs per 640x480 frame.
- ``lite``: a real-time design for laptop CPUs, ~1.5 GFLOPs per 640x480 frame.

:func:`count_flops` measures either on any input size.
"""

from __future__ import annotations

from torch import nn

from stylecam.nets.flops import count_flops
from stylecam.nets.johnson import TransformerNet
from stylecam.nets.lite import LiteNet

ARCHS: dict[str, type[nn.Module]] = {"full": TransformerNet, "lite": LiteNet}


def build_net(arch: str) -> nn.Module:
    """Return a freshly initialised network of architecture ``arch`` (``"full"`` or ``"lite"``)."""
    try:
        return ARCHS[arch]()
    except KeyError:
        raise ValueError(f"unknown network architecture {arch!r}; expected one of {sorted(ARCHS)}") from None


__all__ = ["ARCHS", "LiteNet", "TransformerNet", "build_net", "count_flops"]
