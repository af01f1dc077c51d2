"""Sinks for stylized frames: callbacks, the virtual camera, MP4 recordings."""

from stylecam.sinks.base import CallbackSink, Sink
from stylecam.sinks.recorder import Mp4Recorder
from stylecam.sinks.virtualcam import VirtualCameraSink, backend_hint

__all__ = ["CallbackSink", "Mp4Recorder", "Sink", "VirtualCameraSink", "backend_hint"]
