"""Where snapshot mode gets its VGG16: real weights (cached per process) or a tiny random one for tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from stylecam.perceptual import VGGFeatures, VGGWeights, load_vgg16_weights, tiny_vgg_features

_CACHE: dict[str, VGGWeights] = {}
_CACHE_LOCK = threading.Lock()


def _cached_weights(path: str | os.PathLike[str] | None) -> VGGWeights:
    """Load VGG16 weights once per process per resolved source (the UI runs many snapshots)."""
    chosen = path if path is not None else os.environ.get("STYLECAM_VGG_WEIGHTS") or None
    key = str(Path(chosen).resolve()) if chosen is not None else "<torchvision>"
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = load_vgg16_weights(chosen)
        return _CACHE[key]


def clear_weights_cache() -> None:
    """Forget the cached VGG16 weights (frees about 60 MB of host memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()


class PerceptualSource:
    """A factory of :class:`VGGFeatures` for given layer names, on a device.

    - ``PerceptualSource.from_weights(path)``: real VGG16 weights; ``path=None`` resolves like
      :func:`~stylecam.perceptual.load_vgg16_weights` (``$STYLECAM_VGG_WEIGHTS``, then download).
      Weights are read lazily, on the first snapshot, and kept for the life of the process.
    - ``PerceptualSource.tiny(seed)``: a random 16x-narrower VGG16, for tests only.
    """

    def __init__(self, make: Callable[[list[str]], VGGFeatures], *, description: str) -> None:
        self._make = make
        self.description = description

    @classmethod
    def from_weights(cls, path: str | os.PathLike[str] | None = None) -> PerceptualSource:
        def make(layers: list[str]) -> VGGFeatures:
            return VGGFeatures(layers, weights=_cached_weights(path))

        return cls(make, description=f"VGG16 ({path or 'default weights'})")

    @classmethod
    def tiny(cls, seed: int = 0) -> PerceptualSource:
        def make(layers: list[str]) -> VGGFeatures:
            features: nn.Sequential = tiny_vgg_features(seed)
            return VGGFeatures(layers, features=features)

        return cls(make, description=f"tiny random VGG16 (seed {seed})")

    def features(self, layers: Iterable[str], device: torch.device) -> VGGFeatures:
        """A frozen VGGFeatures returning ``layers``, in eval mode, on ``device``."""
        return self._make(list(layers)).to(device).eval()

    def __repr__(self) -> str:
        return f"PerceptualSource({self.description})"
