"""Record frames to an MP4 file that is always finalised and never half-written under its name."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from stylecam.atomic import partial_path
from stylecam.errors import SinkError
from stylecam.video.base import fit
from stylecam.video.quiet import opencv_quiet


class Mp4Recorder:
    """An MP4 (mp4v) recorder of ``size`` = (width, height) at ``fps``.

    Frames go to a hidden partial file beside ``path``; close() finalises it and renames it to
    ``path``. A failing write (disk full) raises SinkError and removes the partial. Frames of
    another size are resized. Nothing written -> nothing left behind.
    """

    def __init__(self, path: str | os.PathLike[str], *, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise SinkError(f"recordings are MP4 files; name the output *.mp4 (got {self.path.name})")
        if fps <= 0 or size[0] < 2 or size[1] < 2:
            raise SinkError(f"cannot record at {fps:g} fps and size {size[0]}x{size[1]}")
        if self.path.is_dir():
            raise SinkError(f"cannot record to {self.path}: it is a folder")
        if not self.path.parent.is_dir():
            raise SinkError(f"cannot record to {self.path}: folder {self.path.parent} does not exist")
        try:
            self._partial = partial_path(self.path)
        except OSError as exc:
            raise SinkError(f"cannot record to {self.path}: {exc.strerror or exc}") from None
        self.size = (int(size[0]), int(size[1]))
        self.fps = float(fps)
        with opencv_quiet():
            self._writer = cv2.VideoWriter(str(self._partial), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, self.size)
        if not self._writer.isOpened():
            self._partial.unlink(missing_ok=True)
            raise SinkError(f"cannot record to {self.path}: OpenCV has no MP4 (mp4v) encoder here")
        self.frames = 0
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        if self._closed:
            raise SinkError(f"recording {self.path.name} is already closed")
        try:
            self._writer.write(np.ascontiguousarray(fit(frame, self.size)))
        except (OSError, cv2.error) as exc:
            self._abort()
            raise SinkError(f"recording to {self.path} failed: {getattr(exc, 'strerror', None) or exc}") from None
        self.frames += 1

    def _abort(self) -> None:
        self._closed = True
        try:
            self._writer.release()
        finally:
            self._partial.unlink(missing_ok=True)

    def close(self) -> None:
        """Finalise and rename to the target name; idempotent. SinkError if the file cannot be finalised."""
        if self._closed:
            return
        self._closed = True
        try:
            self._writer.release()
            if self.frames == 0:
                self._partial.unlink(missing_ok=True)
                return
            if not self._partial.is_file() or self._partial.stat().st_size == 0:
                raise SinkError(f"recording to {self.path} failed: nothing was written (disk full?)")
            os.chmod(self._partial, 0o644)  # mkstemp made it private; a recording is an ordinary file
            os.replace(self._partial, self.path)
        except OSError as exc:
            raise SinkError(f"cannot finish recording {self.path}: {exc.strerror or exc}") from None
        finally:
            self._partial.unlink(missing_ok=True)
