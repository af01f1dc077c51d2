"""Helpers for tests: tiny random style files, synthetic frames, and fakes of devices (a CUDA that falls back, cameras)."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from stylecam.nets import build_net
from stylecam.styles import StyleInfo, export_style


def synthetic_frame(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A (H, W, 3) uint8 BGR frame with smooth gradients and a few edges (not noise, not flat)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([xx / width * 255, yy / height * 255, (xx + yy) % 64 * 4], axis=-1)
    img[height // 3 : height // 2, width // 4 : width // 2] = rng.integers(0, 255, 3)
    return img.clip(0, 255).astype(np.uint8)


def random_net(arch: str, seed: int = 0) -> torch.nn.Module:
    """An untrained network of ``arch`` whose output visibly differs from its input.

    A fresh lite net is the identity plus a whisper (it learns a change to its input); tests
    want an output that differs from the input as a trained style's does.
    """
    torch.manual_seed(seed)
    net = build_net(arch)
    if arch == "lite":
        with torch.no_grad():
            net.out.conv2d.weight.normal_(0.0, 8.0)
    return net


def make_random_style(folder: Path, name: str = "random_lite", arch: str = "lite", seed: int = 0, fp16: bool = False) -> list[Path]:
    """Export an untrained network of ``arch`` with random weights as a style file in ``folder``."""
    net = random_net(arch, seed)
    info = StyleInfo.from_style_image(name=name, style_image_bgr=synthetic_frame(40, 40, seed), arch=arch, title=name)
    return export_style(net, folder, info, fp16=fp16)


class SlowEngine:
    """A stand-in for StyleEngine (patch ``stylecam.pipeline.pipeline.load_engine``) taking ``delay`` s per frame.

    run() returns the frames unchanged, so a test can read what went through.
    """

    arch, provider, name = "lite", "CPUExecutionProvider", "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def run(self, frames: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return frames.copy()


def count_video_frames(path: Path) -> int:
    """How many frames OpenCV can decode from the video at ``path``."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def write_photo_folder(folder: Path, *, count: int, size: tuple[int, int], ext: str = ".jpg", seed: int = 0) -> Path:
    """Make ``folder`` with ``count`` smooth random photos of ``size`` = (width, height); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = cv2.resize(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"p{i}{ext}"), img)
    return folder


def fake_cuda_that_falls_back(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Make ONNX Runtime behave as onnxruntime-gpu does on a machine without a working GPU: it lists
    ``CUDAExecutionProvider`` as available, and a session asked for it silently runs on the CPU
    (``get_providers()`` then says CPU only). Returns the provider lists sessions were asked for."""
    import onnxruntime as ort

    real_session = ort.InferenceSession
    asked: list[list[str]] = []

    def session(path: str, sess_options: object = None, providers: list[str] | None = None, **kwargs: object) -> object:
        asked.append(list(providers or []))
        return real_session(path, sess_options, providers=["CPUExecutionProvider"], **kwargs)

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", session)
    return asked


class FakeCameras:
    """Stands in for ``cv2.VideoCapture`` on camera indices (file paths still reach OpenCV).

    Only camera 0 exists. Each opened capture sends (height, width, 3) uint8 BGR frames paced at
    ``fps``, filled with ``10 * capture number + frame number`` (capture numbers start at 1), so a
    frame tells which opening it came from. :meth:`unplug_after` makes the camera vanish mid-stream.
    ``opened`` lists the indices asked for, ``asked`` the properties set, ``released`` how many captures were closed.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, size: tuple[int, int] = (64, 48), fps: float = 30.0) -> None:
        self.size, self.fps = size, fps
        self.opened: list[int] = []
        self.asked: dict[int, float] = {}
        self.released = 0
        self.frames_left: int | None = None
        """Frames the open capture still sends before it dies (None: no end)."""
        self.failing_opens = 0
        """Openings of camera 0 that fail from now on (the device is still away)."""
        real = cv2.VideoCapture
        monkeypatch.setattr(cv2, "VideoCapture", lambda spec, *a: self._open(spec) if isinstance(spec, int) else real(spec, *a))

    def unplug_after(self, frames: int, *, failed_reopens: int = 0) -> None:
        """The open capture fails after ``frames`` more frames; the next ``failed_reopens`` openings fail too."""
        self.frames_left, self.failing_opens = frames, failed_reopens

    def _open(self, index: int) -> _FakeCapture:
        self.opened.append(index)
        ok = index == 0 and self.failing_opens == 0
        if index == 0 and self.failing_opens > 0:
            self.failing_opens -= 1
        return _FakeCapture(self, number=len(self.opened), is_open=ok)


class _FakeCapture:
    def __init__(self, cams: FakeCameras, *, number: int, is_open: bool) -> None:
        self.cams, self.number, self.is_open, self.frames = cams, number, is_open, 0

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.is_open

    def set(self, prop: int, value: float) -> bool:
        self.cams.asked[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.cams.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        cams = self.cams
        if cams.frames_left == 0:  # unplugged: this capture is dead for good
            cams.frames_left = None
            self.is_open = False
        if not self.is_open:
            return False, None
        if cams.frames_left is not None:
            cams.frames_left -= 1
        time.sleep(1.0 / cams.fps)  # a camera delivers at its frame rate
        self.frames += 1
        w, h = cams.size
        return True, np.full((h, w, 3), (10 * self.number + self.frames) % 256, np.uint8)

    def release(self) -> None:
        self.is_open = False
        self.cams.released += 1


def with_random_rows(net: torch.nn.Module, *, weight: tuple[float, float] = (0.5, 1.5), bias_std: float = 0.5) -> torch.nn.Module:
    """A LiveNet with different gamma/beta rows per style, as after training (in place): gammas
    uniform in ``weight``, betas normal with ``bias_std``."""
    with torch.no_grad():
        for norm in net.norms():
            norm.weight.uniform_(*weight)
            norm.bias.normal_(0.0, bias_std)
    return net


def run_until_first_progress(qtbot, panel) -> list[object]:  # noqa: ANN001 (pytest-qt's qtbot, a SnapshotPanel)
    """Start ``panel``'s snapshot and wait until its first progress report; returns the reports so far.

    Progress is emitted on the job's thread, so it is collected by a slot that stays connected, not
    by a ``waitSignal`` blocker: a blocker's queued cross-thread deliveries can outlive it and land
    in the next blocker (seen as a flaky CI failure and a segfault).
    """
    progressed: list[object] = []
    panel._bridge.progress.connect(progressed.append)
    panel.run()
    qtbot.waitUntil(lambda: bool(progressed), timeout=30000)
    return progressed
