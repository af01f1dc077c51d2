"""Frame sources: camera, video file, image folder, single image, the demo clip, synthetic frames."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from stylecam.errors import ImageError, SourceError
from stylecam.imageio import read_image
from stylecam.video.base import FrameSource, fit
from stylecam.video.quiet import opencv_quiet

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
DEMO_IMAGE = Path(__file__).resolve().parent.parent / "assets" / "demo.jpg"


class CameraSource(FrameSource):
    """A camera by index, asking for a resolution and frame rate (the camera may give others)."""

    def __init__(self, index: int, *, width: int | None = None, height: int | None = None, fps: float | None = None) -> None:
        super().__init__()
        self.index = index
        self.name = f"camera {index}"
        ok, first = False, None
        with opencv_quiet():  # an absent index: one warning per backend tried; we say it in one line below
            cap = cv2.VideoCapture(index)
            opened = cap.isOpened()  # before the first read: a failed read may close the capture
            if opened:
                if width:
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
                if height:
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
                if fps:
                    cap.set(cv2.CAP_PROP_FPS, fps)
                ok, first = cap.read()
        if not opened:
            cap.release()
            raise SourceError(f"camera {index} cannot be opened (not connected, or in use by another program)")
        if not ok or first is None:
            cap.release()
            raise SourceError(f"camera {index} opened but sends no frames")
        self._cap = cap
        self._first: np.ndarray | None = first
        self.size = (first.shape[1], first.shape[0])
        got = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(got) if got and got > 0 else float(fps or 30.0)

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def close(self) -> None:
        if not self._closed:
            self._cap.release()
        super().close()


class VideoFileSource(FrameSource):
    """A video file, optionally looping, paced at its frame rate unless ``pace`` is False."""

    recorded = True

    def __init__(self, path: Path, *, loop: bool = False, pace: bool = True, size: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.path = path
        self.name = path.name
        self.loop = loop
        with opencv_quiet():
            cap = cv2.VideoCapture(str(path))
            ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None:
            cap.release()
            raise SourceError(f"cannot read video {path} (not a video file, or a codec OpenCV lacks)")
        self._cap = cap
        self._first: np.ndarray | None = first
        self._size = size
        first = fit(first, size)
        self.size = (first.shape[1], first.shape[0])
        got = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(got) if got and 0 < got < 1000 else 30.0
        self.set_paced(pace)

    @property
    def endless(self) -> bool:
        return self.loop

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        if self._first is not None:
            frame: np.ndarray | None = self._first
            self._first = None
        else:
            ok, frame = self._cap.read()
            if (not ok or frame is None) and self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            if not ok or frame is None:
                return None
        if self._pacer is not None:
            self._pacer.wait()
        return fit(frame, self._size)

    def close(self) -> None:
        if not self._closed:
            self._cap.release()
        super().close()


class ImageSequenceSource(FrameSource):
    """Images shown one after the other at ``fps`` (a folder), or one image held as a still stream.

    A single image repeats forever; a folder plays once, or forever with ``loop``. Unreadable
    files in a folder are skipped; all frames are resized to the first one's size (or ``size``).
    """

    recorded = True

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        name: str,
        fps: float = 30.0,
        loop: bool = False,
        pace: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.fps = float(fps)
        self._paths = list(paths)
        self._still = len(self._paths) == 1
        self.loop = loop or self._still
        self._index = 0
        first: np.ndarray | None = None
        while self._paths and first is None:
            try:
                first = read_image(self._paths[0])
            except ImageError:
                self._paths.pop(0)
        if first is None:
            raise SourceError(f"no readable images in {name}")
        self._size = size or (first.shape[1], first.shape[0])
        self.size = self._size
        self._cache: np.ndarray | None = fit(first, self._size) if self._still else None
        self.set_paced(pace)

    @property
    def endless(self) -> bool:
        return self.loop

    def read(self) -> np.ndarray | None:
        while not self._closed:
            if self._index >= len(self._paths):
                if not self.loop:
                    return None
                self._index = 0
            path = self._paths[self._index]
            self._index += 1
            if self._cache is not None:
                frame: np.ndarray = self._cache.copy()
            else:
                try:
                    frame = fit(read_image(path), self._size)
                except ImageError:
                    continue
            if self._pacer is not None:
                self._pacer.wait()
            return frame
        return None


class GeneratedSource(FrameSource):
    """Frames made by ``make(i) -> (H, W, 3) uint8`` for i = 0, 1, ...; ``frames`` of them (None = endless)."""

    recorded = True

    def __init__(
        self,
        make: Callable[[int], np.ndarray],
        *,
        name: str,
        size: tuple[int, int],
        fps: float = 30.0,
        frames: int | None = None,
        loop: bool = False,
        pace: bool = True,
    ) -> None:
        super().__init__()
        self.name = name
        self.size = size
        self.fps = float(fps)
        self.frames = frames
        self.loop = loop
        self._make = make
        self._i = 0
        self.set_paced(pace)

    @property
    def endless(self) -> bool:
        return self.frames is None or self.loop

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        if self.frames is not None and self._i >= self.frames:
            if not self.loop:
                return None
            self._i = 0
        frame = self._make(self._i)
        self._i += 1
        if self._pacer is not None:
            self._pacer.wait()
        return frame


def demo_source(*, width: int = 640, height: int = 480, fps: float = 30.0, loop: bool = False, pace: bool = True) -> GeneratedSource:
    """A 10-second clip panning and zooming over the bundled demo picture (NASA astronaut, public domain)."""
    try:
        image = read_image(DEMO_IMAGE)
    except ImageError as exc:
        raise SourceError(f"the demo picture is missing from the installation ({exc})") from None
    ih, iw = image.shape[:2]
    n = int(10 * fps)

    def make(i: int) -> np.ndarray:
        t = 2 * math.pi * i / n
        zoom = 1.25 + 0.2 * math.sin(t)  # always zoomed in a little so the pan never shows borders
        base = max(width / iw, height / ih) * zoom
        cx = iw / 2 + 0.1 * iw * math.sin(t)
        cy = ih / 2 + 0.08 * ih * math.sin(2 * t)
        m = np.array([[base, 0, width / 2 - base * cx], [0, base, height / 2 - base * cy]], dtype=np.float32)
        return cv2.warpAffine(image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    return GeneratedSource(make, name="demo", size=(width, height), fps=fps, frames=n, loop=loop, pace=pace)


def synthetic_source(
    *, width: int = 640, height: int = 480, fps: float = 30.0, frames: int | None = None, pace: bool = False, distinct: int = 8
) -> GeneratedSource:
    """Cheap generated frames (``distinct`` precomputed gradients cycled) for benchmarks and tests."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    bank = [
        np.stack([(xx + 7 * k) % 256, (yy + 13 * k) % 256, (xx + yy + 29 * k) % 256], axis=-1).astype(np.uint8)
        for k in range(distinct)
    ]
    return GeneratedSource(
        lambda i: bank[i % distinct], name="synthetic", size=(width, height), fps=fps, frames=frames, pace=pace
    )


def _size_arg(width: int | None, height: int | None) -> tuple[int, int] | None:
    if width is None and height is None:
        return None
    if not width or not height or width < 32 or height < 32:
        raise SourceError(f"give both width and height, each at least 32 (got {width}x{height})")
    return int(width), int(height)


def open_source(
    spec: str | int,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    loop: bool = False,
    pace: bool = True,
) -> FrameSource:
    """Open what ``spec`` names: a camera index (``0``), ``demo``, ``synthetic``, an image or video file, or an image folder.

    Cameras are asked for ``width`` x ``height`` at ``fps`` and come wrapped in a
    :class:`~stylecam.video.reconnect.ReconnectingSource`; other sources are resized to that size
    when given. Files play once unless ``loop``; ``pace`` plays them at their frame rate (False: as
    fast as they are read). A missing camera or unreadable file is a one-line SourceError.
    """
    from stylecam.video.reconnect import ReconnectingSource

    if isinstance(spec, bool) or not isinstance(spec, (int, str, os.PathLike)):
        raise SourceError(f"not a source: {spec!r}")
    text = os.fspath(spec) if not isinstance(spec, int) else str(spec)
    if text.strip().isdigit():
        index = int(text)
        first = CameraSource(index, width=width, height=height, fps=fps)
        return ReconnectingSource(lambda: CameraSource(index, width=width, height=height, fps=fps), first=first)
    size = _size_arg(width, height)
    if text == "demo":
        w, h = size or (640, 480)
        return demo_source(width=w, height=h, fps=fps or 30.0, loop=loop, pace=pace)
    if text == "synthetic":
        w, h = size or (640, 480)
        return synthetic_source(width=w, height=h, fps=fps or 30.0, pace=pace)
    path = Path(text).expanduser()
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not images:
            raise SourceError(f"folder {path} has no images ({', '.join(IMAGE_SUFFIXES)})")
        return ImageSequenceSource(images, name=path.name or str(path), fps=fps or 30.0, loop=loop, pace=pace, size=size)
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return ImageSequenceSource([path], name=path.name, fps=fps or 30.0, pace=pace, size=size)
        return VideoFileSource(path, loop=loop, pace=pace, size=size)
    raise SourceError(f"no such camera, file or folder: {text} (use a camera index like 0, a video or image file, a folder of images, or 'demo')")


def list_cameras(max_index: int = 8) -> list[int]:
    """Indices 0..max_index-1 of cameras that open and send a frame."""
    found = []
    with opencv_quiet():  # absent indices are expected, not errors
        for i in range(max_index):
            cap = cv2.VideoCapture(i)
            try:
                if cap.isOpened() and cap.read()[0]:
                    found.append(i)
            finally:
                cap.release()
    return found
