"""Quality measures of a stylizer: flicker on a panning clip, and VGG style/content distances.

- :func:`panning_clip` makes a clip with known motion (a crop window sliding right by
  ``shift_px`` per frame); :func:`flicker` measures how much a stylizer's output on it disagrees
  with itself where consecutive frames show the same scene (0 for a perfectly stable stylizer).
- :func:`style_distance`: sum over relu1_2, relu2_2, relu3_3, relu4_3 of the MSE between the Gram
  matrices (normalised by C*H*W, :func:`stylecam.perceptual.losses.gram_matrix`) of an image and a
  style image. Lower = closer in style. Sizes may differ (Grams do not depend on them).
- :func:`lattice_level`: how strongly a picture wears a pattern locked to the network's pixel grid
  (the mesh a grid-painting network makes instead of strokes; 0 for none), in levels;
  :func:`periodic_share`: the share of its fine detail that is any repeating pattern (0-1).
- :func:`content_distance`: MSE between the relu3_3 features of an image and its content (same
  size required). Lower = more of the content kept.

Both distances take uint8 BGR images and a :class:`~stylecam.perceptual.VGGFeatures` that returns
(at least) the layers above; values are in the VGG's own units (Caffe weights: 0-255 inputs), so
compare numbers only when measured with the same weights. To compare many images against the same
painting or photo, compute each image's :func:`vgg_stats` once and use :func:`gram_distance` /
:func:`feature_distance` (same numbers, one VGG pass per image).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from stylecam.perceptual.losses import gram_matrix, lattice_loss
from stylecam.processing import check_frame

STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_LAYER = "relu3_3"


def panning_clip(image_bgr: np.ndarray, *, frames: int, shift_px: int, size: tuple[int, int]) -> list[np.ndarray]:
    """``frames`` crops of ``size`` = (height, width) from ``image_bgr``, the window moving right by ``shift_px`` a frame.

    image_bgr: (H, W, 3) uint8. The image is first scaled (keeping its aspect) so the window fits,
    then the window starts at the left and is vertically centred. Returns (h, w, 3) uint8 arrays.
    """
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image_bgr.dtype} {image_bgr.shape}")
    if frames < 2 or shift_px < 1:
        raise ValueError("a panning clip needs frames >= 2 and shift_px >= 1")
    h, w = size
    need_w = w + (frames - 1) * shift_px
    ih, iw = image_bgr.shape[:2]
    scale = max(need_w / iw, h / ih)
    if scale > 1.0:
        image_bgr = cv2.resize(image_bgr, (int(np.ceil(iw * scale)), int(np.ceil(ih * scale))), interpolation=cv2.INTER_CUBIC)
    y0 = (image_bgr.shape[0] - h) // 2
    return [np.ascontiguousarray(image_bgr[y0 : y0 + h, t * shift_px : t * shift_px + w]) for t in range(frames)]


def flicker(stylize: Callable[[np.ndarray], np.ndarray], clip: Sequence[np.ndarray], shift_px: int) -> float:
    """Mean |out_t shifted - out_{t+1}| over the overlap, in levels (0-255), for a clip from :func:`panning_clip`.

    stylize: (h, w, 3) uint8 BGR -> (h, w, 3) uint8 BGR. Frame t+1 column c shows what frame t
    shows at column c + shift_px, so a stable stylizer gives out_t[:, s:] == out_{t+1}[:, :-s].
    """
    return flicker_of_outputs([np.asarray(stylize(frame)) for frame in clip], shift_px)


def flicker_of_outputs(outs: Sequence[np.ndarray], shift_px: int) -> float:
    """:func:`flicker` of already stylized frames ``outs`` (in clip order, each (h, w, 3) uint8)."""
    diffs = []
    for a, b in zip(outs[:-1], outs[1:]):
        if a.shape != b.shape:
            raise ValueError("the stylizer changed the frame size")
        diffs.append(np.abs(a[:, shift_px:].astype(np.float32) - b[:, : b.shape[1] - shift_px].astype(np.float32)).mean())
    return float(np.mean(diffs))


def _tensor(image_bgr: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> (1, 3, H, W) float32 RGB 0-255."""
    return torch.from_numpy(np.ascontiguousarray(image_bgr[:, :, ::-1].transpose(2, 0, 1))).float().unsqueeze(0).to(device)


def _device(vgg: torch.nn.Module) -> torch.device:
    return next(vgg.parameters()).device


@dataclass(frozen=True)
class VGGStats:
    """What the distances need of one image: Gram matrices of style layers, one layer's features, the image shape."""

    grams: dict[str, torch.Tensor]
    """layer -> (1, C, C) float32 Gram matrix (normalised by C*H*W)."""
    content: torch.Tensor | None
    """(1, C, h, w) float32 features of the content layer, None when not asked for."""
    shape: tuple[int, ...]
    """The image's (H, W, 3)."""


@torch.no_grad()
def vgg_stats(
    vgg: torch.nn.Module, image: np.ndarray, *, layers: Sequence[str] = STYLE_LAYERS, content_layer: str | None = CONTENT_LAYER
) -> VGGStats:
    """One VGG pass over ``image`` (uint8 BGR): the Grams of ``layers`` and the ``content_layer`` features."""
    feats = vgg(_tensor(image, _device(vgg)))
    return VGGStats(
        grams={layer: gram_matrix(feats[layer]) for layer in layers},
        content=feats[content_layer] if content_layer is not None else None,
        shape=tuple(image.shape),
    )


def gram_distance(a: VGGStats, b: VGGStats) -> float:
    """Sum over ``a``'s layers of MSE(Gram a, Gram b): :func:`style_distance` from precomputed stats."""
    return float(sum(F.mse_loss(a.grams[layer], b.grams[layer]).item() for layer in a.grams))


def feature_distance(a: VGGStats, b: VGGStats) -> float:
    """MSE of the content features: :func:`content_distance` from precomputed stats (images of one size)."""
    if a.shape != b.shape:
        raise ValueError(f"content_distance needs images of one size, got {a.shape} and {b.shape}")
    if a.content is None or b.content is None:
        raise ValueError("these stats were computed without a content layer")
    return float(F.mse_loss(a.content, b.content).item())


def style_distance(vgg: torch.nn.Module, image: np.ndarray, style_image: np.ndarray, *, layers: Sequence[str] = STYLE_LAYERS) -> float:
    """Sum over ``layers`` of MSE(Gram(image), Gram(style_image)); both uint8 BGR, any sizes."""
    return gram_distance(
        vgg_stats(vgg, image, layers=layers, content_layer=None), vgg_stats(vgg, style_image, layers=layers, content_layer=None)
    )


def content_distance(vgg: torch.nn.Module, image: np.ndarray, content: np.ndarray, *, layer: str = CONTENT_LAYER) -> float:
    """MSE between the ``layer`` features of ``image`` and ``content`` (uint8 BGR, same size)."""
    if image.shape != content.shape:
        raise ValueError(f"content_distance needs images of one size, got {image.shape} and {content.shape}")
    return feature_distance(vgg_stats(vgg, image, layers=(), content_layer=layer), vgg_stats(vgg, content, layers=(), content_layer=layer))


def lattice_level(image: np.ndarray, *, period: int = 4) -> float:
    """The grid-locked pattern of ``image`` ((H, W, 3) uint8, any channel order) in levels (0-255):
    :func:`stylecam.perceptual.losses.lattice_loss` with the grid at the image's top-left corner.

    ``period``: the network's stride in pixels of the picture (``stylecam.anchor.stride_for``;
    measure a picture the network painted, before any resize). The shared photos score 1.4-2.9.
    """
    check_frame(image)
    return float(lattice_loss(torch.from_numpy(image).permute(2, 0, 1)[None].float(), period=period))


PERIODIC_MIN_FREQUENCY = 0.1
"""Cycles per pixel above which :func:`periodic_share` looks (fine detail: periods under 10 px)."""


def periodic_share(image: np.ndarray, *, peak: float = 4.0) -> float:
    """Share of ``image``'s fine detail that is a periodic pattern (a mesh, locked to a grid or drifting), 0-1.

    image: (H, W, 3) uint8, any channel order. The power spectrum of its grey (Hann-windowed) is
    compared, at every frequency above :data:`PERIODIC_MIN_FREQUENCY`, with the median of its 5x5
    spectral neighbourhood: the power more than ``peak`` times above it is a sharp line, which a
    repeating pattern makes and brush strokes or photographed texture do not. Returns that excess
    power over all the power at those frequencies. The shared photos score 0.01-0.025, broadband
    noise about 0.035 (chance peaks), the live styles that paint a mesh over the picture 0.06-0.19
    (docs/STYLES.md).
    """
    check_frame(image)
    grey = image.astype(np.float32).mean(axis=2)
    h, w = grey.shape
    grey = (grey - grey.mean()) * np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    power = np.fft.fftshift(np.abs(np.fft.fft2(grey)) ** 2).astype(np.float32)
    background = np.exp(cv2.medianBlur(np.log(power + 1e-3).astype(np.float32), 5))
    fy = (np.arange(h) - h // 2)[:, None] / h
    fx = (np.arange(w) - w // 2)[None, :] / w
    fine = np.hypot(fy, fx) > PERIODIC_MIN_FREQUENCY
    total = float(power[fine].sum())
    if total <= 0:
        return 0.0
    return float(np.clip(power - peak * background, 0, None)[fine].sum() / total)
