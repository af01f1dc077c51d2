"""Inference: style files on ONNX Runtime (provider choice and check, IO binding) and the auto scale."""

from stylecam.engine.autoscale import SCALES, auto_scale, choose_scale
from stylecam.engine.engine import StyleEngine, load_engine
from stylecam.engine.providers import CPU, CUDA, PROVIDER_CHOICES, candidate_providers, short_name

__all__ = [
    "CPU",
    "CUDA",
    "PROVIDER_CHOICES",
    "SCALES",
    "StyleEngine",
    "auto_scale",
    "candidate_providers",
    "choose_scale",
    "load_engine",
    "short_name",
]
