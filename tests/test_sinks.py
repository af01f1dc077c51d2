"""Sinks: MP4 recording (finalised, atomic, resized, failing writes) and the virtual camera's error path."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

from stylecam.errors import SinkError
from stylecam.sinks import Mp4Recorder, VirtualCameraSink, backend_hint

from .helpers import count_video_frames, synthetic_frame



def test_recorder_writes_partial_then_renames_on_close(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    rec = Mp4Recorder(target, fps=10, size=(64, 48))
    for i in range(6):
        rec.write(synthetic_frame(48, 64, seed=i))
    rec.write(synthetic_frame(60, 80, seed=9))  # another size is resized
    assert not target.exists()  # never visible under its final name while being written
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial.mp4")]
    rec.close()
    rec.close()  # idempotent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    assert count_video_frames(target) == 7


def test_recorder_without_frames_leaves_nothing(tmp_path: Path) -> None:
    Mp4Recorder(tmp_path / "empty.mp4", fps=10, size=(64, 48)).close()
    assert list(tmp_path.iterdir()) == []


def test_recorder_failing_write_is_sink_error_and_partial_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Mp4Recorder(tmp_path / "full.mp4", fps=10, size=(64, 48))
    rec.write(synthetic_frame(48, 64))

    class FullDisk:
        def write(self, frame: np.ndarray) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def release(self) -> None:
            pass

    monkeypatch.setattr(rec, "_writer", FullDisk())
    with pytest.raises(SinkError, match="No space left"):
        rec.write(synthetic_frame(48, 64))
    rec.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["missing_dir/out.mp4", "out.avi"])
def test_recorder_bad_target_is_one_line_sink_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(SinkError) as info:
        Mp4Recorder(tmp_path / name, fps=10, size=(64, 48))
    assert "\n" not in str(info.value)


def test_virtual_camera_without_backend_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyvirtualcam

    def no_backend(*a: object, **k: object) -> None:
        raise RuntimeError("'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99].\nmore text")

    monkeypatch.setattr(pyvirtualcam, "Camera", no_backend)
    with pytest.raises(SinkError) as info:
        VirtualCameraSink(width=64, height=48, fps=30)
    msg = str(info.value)
    assert "\n" not in msg and backend_hint() in msg
    assert "modprobe v4l2loopback" in backend_hint("linux")
    assert "OBS" in backend_hint("win32") and "Unity Capture" in backend_hint("win32") and "OBS" in backend_hint("darwin")


def test_virtual_camera_resizes_and_closes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyvirtualcam

    sent: list[tuple[int, ...]] = []
    closes: list[int] = []

    class FakeCam:
        device = "/dev/video9"

        def __init__(self, width: int, height: int, fps: float, **kw: object) -> None:
            assert kw["fmt"] == pyvirtualcam.PixelFormat.BGR

        def send(self, frame: np.ndarray) -> None:
            sent.append(frame.shape)

        def close(self) -> None:
            closes.append(1)

    monkeypatch.setattr(pyvirtualcam, "Camera", FakeCam)
    cam = VirtualCameraSink(width=64, height=48, fps=30)
    cam.write(synthetic_frame(96, 128))
    cam.close()
    cam.close()
    assert sent == [(48, 64, 3)] and closes == [1]
    with pytest.raises(SinkError):
        cam.write(synthetic_frame(48, 64))
