"""stylecam.quality: the flicker metric and the VGG style/content distances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylecam.perceptual import VGGFeatures, tiny_vgg_features
from stylecam.perceptual.losses import gram_matrix
from stylecam.quality import (
    STYLE_LAYERS,
    content_distance,
    feature_distance,
    flicker,
    flicker_of_outputs,
    gram_distance,
    lattice_level,
    panning_clip,
    periodic_share,
    style_distance,
    vgg_stats,
)

from .helpers import synthetic_frame


def test_panning_clip_has_the_stated_motion() -> None:
    image = synthetic_frame(80, 120, seed=1)
    clip = panning_clip(image, frames=5, shift_px=3, size=(48, 64))
    assert len(clip) == 5
    assert all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in clip)
    for a, b in zip(clip[:-1], clip[1:]):
        np.testing.assert_array_equal(a[:, 3:], b[:, :-3])


def test_panning_clip_upscales_a_small_image() -> None:
    clip = panning_clip(synthetic_frame(40, 40, seed=2), frames=4, shift_px=8, size=(48, 64))
    assert [f.shape for f in clip] == [(48, 64, 3)] * 4


def test_flicker_is_zero_for_an_identity_stylizer_and_large_for_noise() -> None:
    clip = panning_clip(synthetic_frame(96, 160, seed=3), frames=6, shift_px=4, size=(64, 96))
    assert flicker(lambda f: f.copy(), clip, 4) == 0.0
    # A shift-equivariant pointwise stylizer (colour inversion) is also perfectly stable.
    assert flicker(lambda f: 255 - f, clip, 4) == 0.0
    rng = np.random.default_rng(0)
    noisy = flicker(lambda f: rng.integers(0, 256, f.shape, dtype=np.uint8), clip, 4)
    assert noisy > 60.0  # E|U - V| for two independent uniform 0-255 values is ~85


def test_flicker_rejects_a_stylizer_that_changes_size() -> None:
    clip = panning_clip(synthetic_frame(64, 96), frames=3, shift_px=2, size=(48, 64))
    sizes = iter([(48, 64, 3), (40, 64, 3), (48, 64, 3)])
    with pytest.raises(ValueError):
        flicker(lambda f: np.zeros(next(sizes), np.uint8), clip, 2)


def test_flicker_of_outputs_matches_flicker() -> None:
    clip = panning_clip(synthetic_frame(64, 96, seed=6), frames=4, shift_px=2, size=(48, 64))
    rng = np.random.default_rng(3)
    outs = [np.clip(f.astype(np.int16) + rng.integers(-20, 21, f.shape), 0, 255).astype(np.uint8) for f in clip]
    it = iter(outs)
    expected = flicker(lambda _f: next(it), clip, 2)
    assert expected > 0.0
    assert flicker_of_outputs(outs, 2) == expected
    assert flicker_of_outputs(clip, 2) == 0.0


@pytest.fixture(scope="module")
def tiny_vgg() -> VGGFeatures:
    return VGGFeatures(STYLE_LAYERS, features=tiny_vgg_features(0))


def test_style_distance_is_zero_to_itself_and_grows_with_difference(tiny_vgg: VGGFeatures) -> None:
    a = synthetic_frame(64, 64, seed=4)
    assert style_distance(tiny_vgg, a, a) == pytest.approx(0.0, abs=1e-9)
    flipped = a[:, ::-1].copy()  # same statistics, mirrored: Grams are nearly equal
    noise = np.random.default_rng(1).integers(0, 256, a.shape, dtype=np.uint8)
    assert style_distance(tiny_vgg, flipped, a) < style_distance(tiny_vgg, noise, a)
    # Sizes may differ and do not count: Grams are normalised by C*H*W, so the same picture tiled
    # 2x2 (four times the pixels, the same statistics but for the seams) is close in style.
    tiled = np.tile(a, (2, 2, 1))
    assert style_distance(tiny_vgg, tiled, a) < 0.02 * style_distance(tiny_vgg, noise, a)
    assert style_distance(tiny_vgg, tiled, a) == pytest.approx(style_distance(tiny_vgg, a, tiled), rel=1e-6)


def test_content_distance(tiny_vgg: VGGFeatures) -> None:
    a = synthetic_frame(64, 64, seed=5)
    b = np.clip(a.astype(np.int16) + 10, 0, 255).astype(np.uint8)
    noise = np.random.default_rng(2).integers(0, 256, a.shape, dtype=np.uint8)
    assert content_distance(tiny_vgg, a, a) == 0.0
    assert 0.0 < content_distance(tiny_vgg, b, a) < content_distance(tiny_vgg, noise, a)
    with pytest.raises(ValueError):
        content_distance(tiny_vgg, a, synthetic_frame(48, 64))


def test_precomputed_stats_give_the_same_distances(tiny_vgg: VGGFeatures) -> None:
    photo = synthetic_frame(64, 64, seed=7)
    painting = synthetic_frame(48, 80, seed=8)
    out = np.clip(photo.astype(np.int16) + 30, 0, 255).astype(np.uint8)
    s_photo, s_painting, s_out = vgg_stats(tiny_vgg, photo), vgg_stats(tiny_vgg, painting), vgg_stats(tiny_vgg, out)
    assert gram_distance(s_out, s_painting) == pytest.approx(style_distance(tiny_vgg, out, painting), rel=1e-6)
    # Independently: the sum over all four style layers of the Gram MSEs.
    def feats(image: np.ndarray) -> dict[str, torch.Tensor]:
        return tiny_vgg(torch.from_numpy(image[:, :, ::-1].transpose(2, 0, 1).copy()).float()[None])

    fo, fp = feats(out), feats(painting)
    expected = sum(torch.mean((gram_matrix(fo[layer]) - gram_matrix(fp[layer])) ** 2).item() for layer in STYLE_LAYERS)
    assert gram_distance(s_out, s_painting) == pytest.approx(expected, rel=1e-5)
    assert gram_distance(s_out, s_painting) != pytest.approx(gram_distance(s_photo, s_painting), rel=1e-3)
    assert feature_distance(s_out, s_photo) == pytest.approx(content_distance(tiny_vgg, out, photo), rel=1e-6)
    assert feature_distance(s_out, s_photo) > 0.0
    with pytest.raises(ValueError):
        feature_distance(s_out, s_painting)  # sizes differ
    with pytest.raises(ValueError):
        feature_distance(vgg_stats(tiny_vgg, photo, content_layer=None), s_out)


def _textured(seed: int = 0) -> np.ndarray:
    """A (240, 320, 3) uint8 picture with broadband texture (blurred noise over a smooth ramp): strokes, not a mesh."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 40, (240, 320, 3)).astype(np.float32), (0, 0), 1.0)
    ramp = np.linspace(60, 190, 320, dtype=np.float32)[None, :, None]
    return np.clip(ramp + noise, 0, 255).astype(np.uint8)


def _with_mesh(image: np.ndarray, *, drift: float) -> np.ndarray:
    """``image`` plus a 4 px mesh (amplitude 12 levels) whose phase drifts ``drift`` cycles per pixel across the picture."""
    yy, xx = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    mesh = 12.0 * np.cos(2 * np.pi * (yy / 4.0 + drift * xx)) + 12.0 * np.cos(2 * np.pi * (xx / 4.0 + drift * yy))
    return np.clip(image.astype(np.float32) + mesh[..., None], 0, 255).astype(np.uint8)


def test_the_mesh_measures_tell_a_mesh_from_texture_and_periodic_share_also_sees_a_drifting_one() -> None:
    clean = _textured()
    locked, drifting = _with_mesh(clean, drift=0.0), _with_mesh(clean, drift=0.065)
    assert lattice_level(clean) < 2.0 and lattice_level(locked) > 8.0
    assert periodic_share(clean) < 0.06 and periodic_share(locked) > 0.5
    # a mesh whose phase drifts (what a network learned when only the grid-locked part was penalised)
    # escapes the lattice level in part, not the periodic share
    assert lattice_level(drifting) < 0.5 * lattice_level(locked)
    assert periodic_share(drifting) > 0.5
    with pytest.raises(ValueError, match="uint8"):
        periodic_share(clean.astype(np.float32))
    with pytest.raises(ValueError, match="uint8"):
        lattice_level(clean[..., 0])
