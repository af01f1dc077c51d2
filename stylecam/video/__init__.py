"""Frame sources: cameras (with reconnection), video files, image folders, single images, the demo clip."""

from stylecam.video.base import FrameSource
from stylecam.video.reconnect import ReconnectingSource
from stylecam.video.sources import (
    CameraSource,
    GeneratedSource,
    ImageSequenceSource,
    VideoFileSource,
    demo_source,
    list_cameras,
    open_source,
    synthetic_source,
)

__all__ = [
    "CameraSource",
    "FrameSource",
    "GeneratedSource",
    "ImageSequenceSource",
    "ReconnectingSource",
    "VideoFileSource",
    "demo_source",
    "list_cameras",
    "open_source",
    "synthetic_source",
]
