"""Frame sources: files, folders, images, the demo clip, errors, and reconnecting a lost camera."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam.errors import SourceError
from stylecam.video import FrameSource, ReconnectingSource, demo_source, open_source
from stylecam.video.sources import DEMO_IMAGE, CameraSource

from .helpers import FakeCameras, synthetic_frame


def _write_video(path: Path, frames: int, size: tuple[int, int] = (64, 48)) -> None:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, size)
    for i in range(frames):
        w.write(synthetic_frame(size[1], size[0], seed=i))
    w.release()


def _drain(src: FrameSource, limit: int = 1000) -> list[np.ndarray]:
    out = []
    while len(out) < limit and (f := src.read()) is not None:
        out.append(f)
    return out


def test_video_file_plays_once_or_loops(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _write_video(path, 7)
    with open_source(str(path), pace=False) as src:
        assert src.size == (64, 48) and src.fps == pytest.approx(30.0)
        frames = _drain(src)
        assert len(frames) == 7 and all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)
    with open_source(path.as_posix(), loop=True, pace=False) as src:
        assert len(_drain(src, limit=20)) == 20
    src.close()  # idempotent
    assert src.read() is None


def test_folder_single_image_and_resize(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), synthetic_frame(40, 50, seed=i))
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(str(tmp_path), pace=False) as src:
        frames = _drain(src)
    assert len(frames) == 3 and not np.array_equal(frames[0], frames[1])
    with open_source(str(tmp_path / "1.png"), width=64, height=32, pace=False) as still:
        a, b = still.read(), still.read()  # a still keeps streaming
    assert a is not None and b is not None and a.shape == (32, 64, 3)


def test_demo_clip_moves_and_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEMO_IMAGE.is_file()
    src = demo_source(width=96, height=64, fps=3, pace=False)  # 30 frames
    frames = _drain(src)
    assert len(frames) == 30 and frames[0].shape == (64, 96, 3)
    assert np.abs(frames[0].astype(int) - frames[7].astype(int)).mean() > 2  # it pans/zooms
    with open_source("demo") as live:
        assert live.live  # shown live at its frame rate by default


@pytest.mark.parametrize("spec", ["/no/such/file.mp4", "definitely-missing", "99"])
def test_missing_source_is_one_line_source_error(spec: str) -> None:
    with pytest.raises(SourceError) as info:
        open_source(spec)
    assert "\n" not in str(info.value) and str(info.value)


def test_unreadable_video_is_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(SourceError, match="cannot read video"):
        open_source(str(bad))


class _Flaky(FrameSource):
    """A camera that sends ``frames`` frames and then stops (unplugged)."""

    def __init__(self, frames: int, value: int) -> None:
        super().__init__()
        self.left, self.value, self.size, self.name = frames, value, (40, 32), "fake camera"

    def read(self) -> np.ndarray | None:
        if self._closed or self.left == 0:
            return None
        self.left -= 1
        return np.full((32, 40, 3), self.value, np.uint8)


def test_reconnecting_source_reports_loss_and_retries_with_backoff() -> None:
    attempts = [0]
    events: list[tuple[str, str]] = []

    def factory() -> FrameSource:
        attempts[0] += 1
        if attempts[0] in (2, 3):  # unplugged for two attempts
            raise SourceError("camera 0 cannot be opened")
        return _Flaky(2, value=attempts[0])

    src = ReconnectingSource(factory, backoff=(0.01, 0.02))
    src.on_event = lambda kind, msg: events.append((kind, msg))
    values = [int(src.read()[0, 0, 0]) for _ in range(4)]  # type: ignore[index]
    assert values == [1, 1, 4, 4]  # the frames of the first camera, then of the reopened one
    kinds = [k for k, _ in events]
    assert kinds == ["camera_lost", "reconnecting", "reconnecting", "reconnecting", "reconnected"]
    assert src.reconnects == 1
    src.close()


def test_reconnecting_source_close_interrupts_waiting() -> None:
    src = ReconnectingSource(lambda: _Flaky(0, value=0), first=_Flaky(0, 0), backoff=(30.0,))
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(src.read()))
    t.start()
    t.join(0.2)
    assert t.is_alive()  # waiting 30 s before the next attempt
    src.close()
    t.join(2.0)
    assert not t.is_alive() and got == [None]


def _value(frame: np.ndarray | None) -> int | None:
    """The fill value of a FakeCameras frame (10 * opening + frame number), None for no frame."""
    return None if frame is None else int(frame[0, 0, 0])


def test_camera_source_gives_nothing_on_a_failed_read(monkeypatch: pytest.MonkeyPatch) -> None:
    cams = FakeCameras(monkeypatch)
    cam = CameraSource(0)
    assert (cam.name, cam.size, cam.fps) == ("camera 0", (64, 48), 30.0)
    assert [_value(cam.read()), _value(cam.read())] == [11, 12]  # the frame read while opening, then the next
    cams.unplug_after(0)
    assert cam.read() is None
    cam.close()
    assert cams.released == 1 and cam.read() is None
    with pytest.raises(SourceError, match="camera 3 cannot be opened"):
        CameraSource(3)
    cams.unplug_after(0)
    with pytest.raises(SourceError, match="camera 0 opened but sends no frames"):
        CameraSource(0)
    assert cams.released == 3  # every capture that was opened is released


def test_camera_index_opens_a_camera_that_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    cams = FakeCameras(monkeypatch, size=(64, 48), fps=60.0)
    src = open_source("0", width=64, height=48, fps=60)
    events: list[tuple[str, str]] = []
    src.on_event = lambda kind, msg: events.append((kind, msg))
    assert isinstance(src, ReconnectingSource)
    assert (src.name, src.size, src.fps, src.live) == ("camera 0", (64, 48), 60.0, True)
    assert cams.opened == [0]
    assert cams.asked == {cv2.CAP_PROP_FRAME_WIDTH: 64, cv2.CAP_PROP_FRAME_HEIGHT: 48, cv2.CAP_PROP_FPS: 60}
    cams.unplug_after(1, failed_reopens=1)  # one more frame, then gone; back at the second attempt
    assert [_value(src.read()) for _ in range(4)] == [11, 12, 31, 32]  # the 2nd opening failed, the 3rd sends
    assert cams.opened == [0, 0, 0]
    assert events[0] == ("camera_lost", "camera 0 stopped sending frames; reconnecting")
    assert [k for k, _ in events] == ["camera_lost", "reconnecting", "reconnecting", "reconnected"]
    assert events[-1] == ("reconnected", "camera 0 is back")
    src.close()
    assert cams.released == 3 and src.read() is None
