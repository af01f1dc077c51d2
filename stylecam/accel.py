"""Whether bfloat16 autocast pays off on a device, decided by the hardware *and* a measurement.

A CPU flag is not enough: with some PyTorch builds, bf16 convolutions on a CPU that has
AVX512-BF16 still take a slow path (measured here with torch 2.14.1+cu130 on Zen 4: VGG16's
forward 100x slower than fp32). So on the CPU, ``auto`` means: the CPU computes bf16 natively
(AVX512-BF16 or AMX flags) and a small conv forward+backward is clearly faster in bf16 than in
fp32 (timed once per process, ~0.1 s).
"""

from __future__ import annotations

import functools
import time

import torch

SPEEDUP_NEEDED = 1.25
"""bf16 must be at least this much faster than fp32 on the probe to be used automatically."""


def cpu_has_bf16() -> bool:
    """True when the CPU flags (Linux /proc/cpuinfo) say it computes bfloat16 natively."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return bool({"avx512_bf16", "amx_bf16"} & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False


def _time_conv(dtype: torch.dtype | None, repeats: int = 4) -> float:
    """Best-of-``repeats`` seconds of a 3x3 conv (64 ch, 1x64x96x96) forward + backward, under autocast ``dtype``.

    96 px, not smaller: on a 48 px probe fixed overheads hide most of bf16's gain (measured on
    Zen 4: 1.35x at 48 px, 1.6-2.0x at 96 px, 2x on a real VGG16 training step).
    """
    gen = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1)
    x = torch.randn(1, 64, 96, 96, generator=gen).contiguous(memory_format=torch.channels_last).requires_grad_()
    conv = conv.to(memory_format=torch.channels_last)
    best = float("inf")
    for _ in range(repeats + 1):  # the first run pays for kernel selection
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            y = conv(x)
        y.float().square().mean().backward()
        best = min(best, time.perf_counter() - t0)
    return best


@functools.lru_cache(maxsize=1)
def cpu_bf16_is_fast() -> bool:
    """True when this CPU has native bf16 and bf16 autocast beats fp32 on a probe conv (cached)."""
    if not cpu_has_bf16():
        return False
    return _time_conv(torch.bfloat16) * SPEEDUP_NEEDED <= _time_conv(None)


def autocast_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``choice`` (``auto``, ``on``, ``off``) on ``device``; None = float32.

    CUDA: bf16 where supported, else fp16 (``off``: float32). CPU: bf16 with ``on``; with
    ``auto`` only where :func:`cpu_bf16_is_fast`.
    """
    if choice not in ("auto", "on", "off"):
        raise ValueError(f"bf16 must be auto, on or off (got {choice!r})")
    if choice == "off":
        return None
    if device.type == "cuda":
        return torch.bfloat16 if choice == "on" or torch.cuda.is_bf16_supported() else torch.float16
    if choice == "on" or cpu_bf16_is_fast():
        return torch.bfloat16
    return None
