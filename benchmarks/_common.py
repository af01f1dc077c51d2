"""What the style benchmarks share: the styles to evaluate, the photos, the panning clip, grid cells and rows.

Imported by ``benchmarks/styles_report.py`` and ``benchmarks/peer_compare.py`` (run as scripts, so
this folder is first on ``sys.path``). All images are (H, W, 3) uint8 BGR.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from stylecam.anchor import GridAnchor
from stylecam.errors import StylecamError
from stylecam.imageio import read_image
from stylecam.quality import flicker_of_outputs, panning_clip
from stylecam.styles import Style, StyleLibrary

LICENSED = ("skimage_astronaut.png", "mpl_grace_hopper.jpg", "skimage_coffee.png", "sklearn_china.jpg")
"""Content photos that are clearly licensed for docs (see ../shared/README.md)."""
PHOTO_SUFFIXES = (".jpg", ".png")
CLIP_PHOTO = "skimage_astronaut.png"
CLIP_FRAMES = 8
CLIP_SHIFTS = tuple(range(1, 9))
"""Pan speeds of the flicker clips, px a frame. A camera pans at any speed: one speed that is a
multiple of a network's stride (4 px, the only one measured before 2026-12-03) hides the shimmer
that every other speed shows."""
CLIP_SIZE = (240, 320)
"""The panning clips of the flicker figures: (height, width)."""


def fit(image: np.ndarray, long_side: int) -> np.ndarray:
    """``image`` resized (area filter) so that its long side is ``long_side``."""
    h, w = image.shape[:2]
    s = long_side / max(h, w)
    return cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def cell(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` resized (area filter) to ``height`` pixels high, keeping its aspect."""
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * height / h), height), interpolation=cv2.INTER_AREA)


def load_styles(folder: Path | None) -> list[Style]:
    """The style files in ``folder``, or the bundled styles when None; StylecamError when there are none."""
    if folder is None:
        styles = [s for s in StyleLibrary().styles if s.location == "bundled"]
    else:
        if not folder.is_dir():
            raise StylecamError(f"style folder not found: {folder}")
        styles = StyleLibrary([(folder, "file")]).styles
    if not styles:
        raise StylecamError(f"no style files found in {folder if folder is not None else 'the bundled styles'}")
    return styles


def load_photos(folder: Path) -> dict[str, np.ndarray]:
    """File name -> image for the .jpg/.png files of ``folder``, sorted by name; StylecamError when there are none."""
    if not folder.is_dir():
        raise StylecamError(f"content folder not found: {folder}")
    photos = {p.name: read_image(p) for p in sorted(folder.iterdir()) if p.suffix.lower() in PHOTO_SUFFIXES}
    if not photos:
        raise StylecamError(f"no .jpg or .png photos in {folder}")
    return photos


def clips_for(photos: dict[str, np.ndarray]) -> dict[int, list[np.ndarray]]:
    """The flicker clips, one per speed of :data:`CLIP_SHIFTS`: :data:`CLIP_FRAMES` frames of
    :data:`CLIP_SIZE` panning over the astronaut (else the first photo)."""
    source = photos.get(CLIP_PHOTO, next(iter(photos.values())))
    return {s: panning_clip(source, frames=CLIP_FRAMES, shift_px=s, size=CLIP_SIZE) for s in CLIP_SHIFTS}


def stylize_clips(
    run: Callable[[np.ndarray], np.ndarray], clips: dict[int, Sequence[np.ndarray]], *, anchor_stride: int = 1
) -> dict[int, list[np.ndarray]]:
    """Each clip's frames through ``run`` in order, as the live view runs one stream: with
    ``anchor_stride`` > 1 through a fresh :class:`stylecam.anchor.GridAnchor` per clip (the window's
    default, :func:`stylecam.anchor.stride_for` the style's arch), else frame by frame."""
    out = {}
    for s, clip in clips.items():
        anchor = GridAnchor(stride=anchor_stride)
        out[s] = [anchor(f, run) for f in clip]
    return out


def pan_flicker(outputs: dict[int, Sequence[np.ndarray]]) -> dict[int, float]:
    """Flicker (:func:`stylecam.quality.flicker_of_outputs`, levels) of each clip's stylized frames, by pan speed."""
    return {s: flicker_of_outputs(outs, s) for s, outs in outputs.items()}


def stack_rows(rows: list[np.ndarray], *, gap: int = 4) -> np.ndarray:
    """Rows of cells (each (h_i, w_i, 3) uint8) one under the other, padded white on the right to one width."""
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(padded, axis=0)


def write_jpeg(path: Path, image: np.ndarray, quality: int = 85) -> None:
    """Write ``image`` as a JPEG; StylecamError when it cannot be written."""
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise StylecamError(f"cannot write {path}")


def run_cli(main: Callable[[], int]) -> int:
    """``main()``, with a StylecamError or OSError reported as one line on stderr and exit status 1."""
    try:
        return main()
    except (StylecamError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
