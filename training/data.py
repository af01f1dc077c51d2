"""Training photos: a recursive folder scan, lazy decoding that skips bad files, and a
deterministic sample stream.

Determinism: sample ``p`` of the global stream (``p = step * batch * world + rank * batch + i``)
is photo ``perm_e[p % n]`` with ``perm_e`` a permutation seeded by ``(seed, epoch e = p // n)``,
and its crop/flip come from a generator seeded by ``(seed, p)``. So the data depend only on the
seed and the step -- not on the number of workers -- and resuming at step ``s`` needs only ``s``.

Bad files are found lazily (the folder scan only lists names, so 10 000 photos start at once):
a file that does not decode (corrupt, truncated, not an image), is smaller than
``min_side`` or is grayscale is skipped, and the next photo in the stream order takes its place.
The skipped paths travel with each batch so the trainer can count and warn in the main process.
16-bit and CMYK photos are converted by :func:`stylecam.imageio.read_image` and used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from stylecam.errors import ImageError, StylecamError
from stylecam.imageio import read_image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".jp2"})


def scan_photos(folder: str | os.PathLike[str]) -> tuple[list[Path], int]:
    """List image files under ``folder`` recursively, sorted; returns (paths, count of non-image files).

    Hidden files and folders are ignored. Raises :class:`StylecamError` when there is no image.
    """
    root = Path(folder)
    if not root.is_dir():
        raise StylecamError(f"dataset folder not found: {root}")
    photos: list[Path] = []
    others = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                photos.append(Path(dirpath) / name)
            else:
                others += 1
    photos.sort()
    if not photos:
        raise StylecamError(f"no images in dataset folder {root} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return photos, others


def _looks_truncated(path: Path) -> bool:
    """JPEGs must end with the EOI marker: OpenCV decodes a truncated JPEG as grey-filled, silently."""
    with open(path, "rb") as f:
        head = f.read(2)
        if head != b"\xff\xd8":
            return False
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 32))
        return b"\xff\xd9" not in f.read()


def load_photo(path: Path, *, min_side: int) -> np.ndarray:
    """Decode ``path`` as (H, W, 3) uint8 BGR or raise :class:`ImageError` saying why it is unusable."""
    if _looks_truncated(path):
        raise ImageError(f"truncated JPEG {path}")
    img = read_image(path)
    if min(img.shape[:2]) < min_side:
        raise ImageError(f"too small ({img.shape[1]}x{img.shape[0]}) {path}")
    small = img[:: max(1, img.shape[0] // 64), :: max(1, img.shape[1] // 64)].astype(np.int16)
    if np.abs(small[..., 0] - small[..., 1]).max() <= 2 and np.abs(small[..., 1] - small[..., 2]).max() <= 2:
        raise ImageError(f"grayscale {path}")
    return img


def random_resized_crop(img: np.ndarray, size: int, rng: np.random.Generator, *, scale: tuple[float, float] = (0.35, 1.0)) -> np.ndarray:
    """A random square crop covering ``scale`` of the short side's square, resized to ``size``, maybe flipped.

    img: (H, W, 3) uint8 BGR. Returns (size, size, 3) uint8 BGR.
    """
    h, w = img.shape[:2]
    short = min(h, w)
    side = max(1, int(round(short * np.sqrt(rng.uniform(*scale)))))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    crop = img[y : y + side, x : x + side]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    crop = cv2.resize(crop, (size, size), interpolation=interp)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def to_tensor(img_bgr: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> (3, H, W) float32 RGB 0-255."""
    return torch.from_numpy(np.ascontiguousarray(img_bgr[:, :, ::-1].transpose(2, 0, 1))).float()


class PhotoStream(Dataset):
    """Item ``p`` (a position in the global sample stream) -> (crop (3, S, S) float RGB 0-255, skipped paths)."""

    def __init__(self, photos: list[Path], *, size: int, seed: int, min_side: int = 64) -> None:
        self.photos = photos
        self.size = size
        self.seed = seed
        self.min_side = min_side
        self._perm_cache: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:  # the stream is endless; DataLoader only needs a length for bookkeeping
        return 2**62

    def _perm(self, epoch: int) -> np.ndarray:
        if self._perm_cache is None or self._perm_cache[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch, 0x5EED])
            self._perm_cache = (epoch, rng.permutation(len(self.photos)))
        return self._perm_cache[1]

    def photo_at(self, position: int) -> Path:
        n = len(self.photos)
        return self.photos[int(self._perm(position // n)[position % n])]

    def __getitem__(self, position: int) -> tuple[torch.Tensor, list[str]]:
        skipped: list[str] = []
        n = len(self.photos)
        for k in range(n):  # next photo of the stream order replaces a bad one
            path = self.photo_at(position + k)
            try:
                img = load_photo(path, min_side=self.min_side)
            except (ImageError, OSError) as exc:
                skipped.append(f"{path}\t{exc}")
                continue
            rng = np.random.default_rng([self.seed, position, 0xC0DE])
            return to_tensor(random_resized_crop(img, self.size, rng)), skipped
        raise StylecamError(f"none of the {n} images in the dataset can be used (all corrupt, tiny or grayscale)")


def collate(items: list[tuple[torch.Tensor, list[str]]]) -> tuple[torch.Tensor, list[str]]:
    return torch.stack([t for t, _ in items]), [s for _, skipped in items for s in skipped]


class StreamSampler(Sampler[int]):
    """Yields this rank's stream positions from ``start_step`` on: ``batch`` per step, ranks interleaved."""

    def __init__(self, *, batch: int, start_step: int, total_steps: int, rank: int = 0, world: int = 1) -> None:
        self.batch, self.start, self.total, self.rank, self.world = batch, start_step, total_steps, rank, world

    def __iter__(self) -> Iterator[int]:
        for step in range(self.start, self.total):
            base = (step * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return max(0, self.total - self.start) * self.batch


def preview_photo(photos: list[Path], *, size: int, min_side: int) -> np.ndarray:
    """The first usable photo (sorted order), long side ``size``: (h, w, 3) uint8 BGR (the fixed preview)."""
    for path in photos[:50]:
        try:
            img = load_photo(path, min_side=min_side)
        except (ImageError, OSError):
            continue
        h, w = img.shape[:2]
        s = size / max(h, w)
        return cv2.resize(img, (max(32, round(w * s)), max(32, round(h * s))), interpolation=cv2.INTER_AREA)
    raise StylecamError("no usable image among the first 50 of the dataset for the preview")
