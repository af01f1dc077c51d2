"""Reading and writing images with one-line errors and atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from stylecam.atomic import atomic_write_bytes
from stylecam.errors import ImageError


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 BGR (grey, alpha, 16-bit and CMYK are converted).

    Raises :class:`ImageError` with a one-line reason for a missing, unreadable or empty image.
    """
    p = Path(path)
    if not p.is_file():
        raise ImageError(f"image not found: {p}")
    data = np.fromfile(str(p), dtype=np.uint8)  # np.fromfile + imdecode handles non-ASCII paths on Windows
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None or img.size == 0:
        raise ImageError(f"cannot read image {p} (corrupt, truncated or not an image)")
    if img.dtype == np.uint16:
        img = (img / 257.0 + 0.5).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    elif img.shape[2] == 1:
        img = cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img)


def write_image(path: str | os.PathLike[str], image_bgr: np.ndarray) -> Path:
    """Write (H, W, 3) uint8 BGR to ``path`` (format from the suffix) atomically; return the path.

    The data goes to a temporary file beside the target and is renamed into place, so a full
    disk or a crash never leaves a half-written image under the final name.
    """
    p = Path(path)
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ImageError(f"unexpected image: dtype {image_bgr.dtype}, shape {image_bgr.shape}; expected (H, W, 3) uint8")
    ext = p.suffix.lower() or ".png"
    ok, buf = cv2.imencode(ext, image_bgr)
    if not ok:
        raise ImageError(f"cannot encode an image as {ext!r} (use .png or .jpg)")
    try:
        atomic_write_bytes(p, buf.tobytes())
    except OSError as exc:
        raise ImageError(f"cannot write {p}: {exc.strerror or exc}") from None
    return p
