"""The styles shipped in trained_styles/: contract, metadata, and that they really stylize."""

from __future__ import annotations

import numpy as np
import pytest

from stylecam.engine import load_engine
from stylecam.imageio import read_image
from stylecam.paths import bundled_styles_dir
from stylecam.styles import StyleLibrary, read_style_file

BUNDLED = ("composition_vii", "great_wave", "shipwreck", "starry_night", "the_scream", "udnie")
DEMO = bundled_styles_dir().parent / "stylecam" / "assets" / "demo.jpg"


@pytest.fixture(scope="module")
def library() -> StyleLibrary:
    from stylecam.paths import bundled_styles_dir

    return StyleLibrary([(bundled_styles_dir(), "bundled")])


def test_all_six_paintings_are_bundled_with_fp16_variants(library: StyleLibrary) -> None:
    assert not library.problems, library.problems
    assert set(BUNDLED) <= set(library.names())
    for name in BUNDLED:
        style = library.get(name)
        assert style.path is not None and style.fp16_path is not None, name


@pytest.mark.parametrize("name", BUNDLED)
def test_metadata_is_complete(library: StyleLibrary, name: str) -> None:
    style = library.get(name)
    for path in (style.path, style.fp16_path):
        info = read_style_file(path)
        assert info.name == name
        assert info.title and info.artist and info.credit, info
        assert "public domain" in info.credit.lower()
        assert info.arch in ("lite", "full")
        thumb, source = info.thumbnail(), info.source_image()
        assert thumb is not None and max(thumb.shape[:2]) <= 128
        assert source is not None and 128 < max(source.shape[:2]) <= 512
        cfg = info.train_config
        assert cfg["iters"] > 0 and cfg["arch"] == info.arch and cfg["name"] == name


@pytest.mark.parametrize("name", BUNDLED)
def test_style_transforms_a_photo_into_something_new(library: StyleLibrary, name: str) -> None:
    photo = read_image(DEMO)[:256, :256]
    out = load_engine(library.get(name), provider="cpu").run(photo)
    assert out.shape == photo.shape and out.dtype == np.uint8
    diff = np.abs(out.astype(np.float32) - photo.astype(np.float32)).mean()
    assert diff > 20.0, f"{name} output is too close to the photo ({diff:.1f} levels)"
    # Not a flat image either: real texture and structure remain.
    assert out.reshape(-1, 3).std(axis=0).min() > 12.0
    gy, gx = np.gradient(out.mean(axis=2))
    assert np.hypot(gx, gy).mean() > 3.0
