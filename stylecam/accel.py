"""Whether bfloat16 autocast pays off on a device, decided by the hardware *and* a measurement.

A CPU flag is not enough: with some PyTorch builds, bf16 convolutions on a CPU that has
AVX512-BF16 still take a slow path (measured here with torch 2.14.1+cu130 on Zen 4: VGG16's
forward 100x slower than fp32). So on the CPU, ``auto`` means: the CPU computes bf16 natively
(AVX512-BF16 or AMX flags) and a small conv forward+backward is clearly faster in bf16 than in
fp32 (timed once per process, the two interleaved, 0.3-0.7 s a probe; up to three probes before ``auto``
settles on fp32).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

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


PROBE_ROUNDS = 6
"""Timed rounds of the probe, each one fp32 run and one bf16 run."""
PROBE_TRIES = 3
"""Probes before ``auto`` settles on float32: load only ever slows a run down, so one probe that
finds bf16 fast is believed, while a slow one may be noise (a single interleaved probe still chose
float32 about 1 time in 15 on a quiet 2-core VM where bf16 Gatys is 4x faster)."""


def _probe_steps() -> dict[torch.dtype | None, Callable[[], None]]:
    """One forward + backward of a 3x3 conv (64 ch, 1x64x96x96, channels-last) per autocast dtype (None: fp32).

    96 px, not smaller: on a 48 px probe fixed overheads hide most of bf16's gain (measured on
    Zen 4: 1.35x at 48 px, 1.6-2.0x at 96 px, 2x on a real VGG16 training step).
    """
    gen = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(memory_format=torch.channels_last)
    x = torch.randn(1, 64, 96, 96, generator=gen).contiguous(memory_format=torch.channels_last).requires_grad_()

    def step(dtype: torch.dtype | None) -> Callable[[], None]:
        def run() -> None:
            with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                y = conv(x)
            y.float().square().mean().backward()

        return run

    return {torch.bfloat16: step(torch.bfloat16), None: step(None)}


def bf16_probe_speedup(rounds: int = PROBE_ROUNDS, clock: Callable[[], float] = time.perf_counter) -> float:
    """fp32 time / bf16 time of the probe conv: the best of ``rounds``, the two dtypes interleaved.

    Interleaved, because on a shared or busy machine (a VM, or the window's live view running
    beside a snapshot) the load comes in bursts: timing all bf16 runs and then all fp32 runs let
    one burst decide (measured on a 2-core VM: 1 probe in 6 said bf16 was slower, and Gatys then
    ran in fp32, 4x slower). The first run of each dtype pays for kernel selection and is not timed.
    """
    steps = _probe_steps()
    best = dict.fromkeys(steps, float("inf"))
    for run in steps.values():
        run()
    for _ in range(rounds):
        for dtype, run in steps.items():
            t0 = clock()
            run()
            best[dtype] = min(best[dtype], clock() - t0)
    return best[None] / max(best[torch.bfloat16], 1e-12)


@functools.lru_cache(maxsize=1)
def cpu_bf16_is_fast() -> bool:
    """True when this CPU has native bf16 and bf16 autocast beats fp32 on a probe conv (cached)."""
    if not cpu_has_bf16():
        return False
    return any(bf16_probe_speedup() >= SPEEDUP_NEEDED for _ in range(PROBE_TRIES))


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
