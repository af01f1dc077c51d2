"""Send frames to a virtual camera (pyvirtualcam) that video-call apps can pick."""

from __future__ import annotations

import sys

import numpy as np

from stylecam.errors import SinkError
from stylecam.video.base import fit


def backend_hint(platform: str | None = None) -> str:
    """What to install for a virtual camera on ``platform`` (default: this one)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return "install v4l2loopback and load it: sudo modprobe v4l2loopback devices=1 exclusive_caps=1"
    if platform == "win32":
        return "install OBS Studio and start its virtual camera once (or install Unity Capture)"
    if platform == "darwin":
        return "install OBS Studio and start its virtual camera once"
    return "no virtual camera backend is known for this system"


class VirtualCameraSink:
    """A virtual camera of ``width`` x ``height`` at ``fps``; takes BGR frames, resized to its size."""

    def __init__(self, *, width: int, height: int, fps: float, device: str | None = None) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise SinkError("the virtual camera needs pyvirtualcam: pip install pyvirtualcam") from None
        try:
            self._cam = pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, device=device)
        except Exception as exc:  # pyvirtualcam raises RuntimeError with multi-line text when no backend works
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SinkError(f"no virtual camera available ({first}); {backend_hint()}") from None
        self.size = (int(width), int(height))
        self.device: str = getattr(self._cam, "device", device or "virtual camera")
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        if self._closed:
            raise SinkError("the virtual camera is closed")
        self._cam.send(np.ascontiguousarray(fit(frame, self.size)))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._cam.close()
