"""ONNX Runtime execution providers: which to try, in which order, and what we really got.

onnxruntime-gpu lists ``CUDAExecutionProvider`` as available even on machines without a GPU or
driver, and a session asked for it silently falls back to the CPU. So the order here is only
what to *try*; :mod:`stylecam.engine.engine` compares ``session.get_providers()`` with it.
"""

from __future__ import annotations

import onnxruntime as ort

from stylecam.errors import ProviderError

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
_ACCELERATORS = (CUDA, "DmlExecutionProvider", "CoreMLExecutionProvider")
"""Tried in this order by ``auto`` where the installed runtime has them."""

PROVIDER_CHOICES = ("auto", "cuda", "cpu")

_preloaded = False


def preload_gpu_libraries() -> None:
    """Load pip-installed CUDA/cuDNN libraries once (``onnxruntime.preload_dlls``, ORT >= 1.21); harmless without them."""
    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        try:
            preload()
        except Exception:  # missing pip CUDA wheels: the CUDA session attempt will report it
            pass


def candidate_providers(requested: str) -> list[str]:
    """The providers to try for ``requested`` (``auto``, ``cuda`` or ``cpu``), best first, CPU last.

    ``cuda`` when the runtime has no CUDA build at all is a ProviderError right away.
    """
    if requested not in PROVIDER_CHOICES:
        raise ProviderError(f"unknown provider {requested!r}; choose one of {', '.join(PROVIDER_CHOICES)}")
    available = ort.get_available_providers()
    if requested == "cpu":
        return [CPU]
    if requested == "cuda":
        if CUDA not in available:
            raise ProviderError(
                "CUDA was requested but this ONNX Runtime has no CUDA support; install onnxruntime-gpu, or use --provider cpu"
            )
        return [CUDA]
    return [p for p in _ACCELERATORS if p in available] + [CPU]


def short_name(provider: str) -> str:
    """``CUDAExecutionProvider`` -> ``CUDA`` (for status lines)."""
    return provider.removesuffix("ExecutionProvider")
