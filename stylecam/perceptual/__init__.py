"""The perceptual network (VGG16 by layer name) and the losses built on it.

Shared by the trainer (``training/``) and snapshot mode (:mod:`stylecam.snapshot`).
"""

from stylecam.perceptual.vgg import (
    LAYER_INDEX,
    VGGFeatures,
    VGGWeights,
    load_vgg16_weights,
    make_vgg16_features,
    tiny_vgg_features,
)

__all__ = [
    "LAYER_INDEX",
    "VGGFeatures",
    "VGGWeights",
    "load_vgg16_weights",
    "make_vgg16_features",
    "tiny_vgg_features",
]
