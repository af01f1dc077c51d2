"""Feed-forward style networks (Johnson et al. 2016, instance norm).

Both networks take and return float tensors of shape (N, 3, H, W), RGB, values 0-255
(the convention of the pytorch/examples reference), for any H, W >= 32; the output has the
input's size, odd sizes included.

- ``full``: the reference architecture (same layers and parameter names as pytorch/examples'
  ``TransformerNet``), ~94 GFLOPs per 640x480 frame.
- ``lite``: a real-time design for laptop CPUs, ~1.5 GFLOPs per 640x480 frame (the first
  bundled styles; kept so that styles trained with it still train and export).
- ``live``: the real-time multi-style network of the bundled styles (conditional instance norm,
  half internal resolution), ~0.95 GFLOPs per 640x480 frame.

:func:`count_flops` measures either on any input size.
"""

from __future__ import annotations

from torch import nn

from stylecam.nets.flops import count_flops
from stylecam.nets.johnson import TransformerNet
from stylecam.nets.lite import LiteNet
from stylecam.nets.live import LiveNet

ARCHS: dict[str, type[nn.Module]] = {"full": TransformerNet, "lite": LiteNet, "live": LiveNet}


def build_net(arch: str, *, n_styles: int = 1) -> nn.Module:
    """A freshly initialised network of architecture ``arch`` (``full``, ``lite`` or ``live``).

    n_styles > 1 (``live`` only): one network for that many styles (conditional instance norm).
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown network architecture {arch!r}; expected one of {sorted(ARCHS)}")
    if arch == "live":
        return LiveNet(n_styles)
    if n_styles != 1:
        raise ValueError(f"the {arch} network holds one style; use live for several")
    return ARCHS[arch]()


__all__ = ["ARCHS", "LiteNet", "LiveNet", "TransformerNet", "build_net", "count_flops"]
