"""The main window on a real pipeline fed by a synthetic source (offscreen Qt)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from stylecam.settings import Settings, load_settings, save_settings, settings_path

from .helpers import FakeCameras, fake_cuda_that_falls_back, make_random_style, run_until_first_progress, synthetic_frame

W, H = 64, 48


@pytest.fixture(scope="module")
def style_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three random lite styles exported once for the module."""
    folder = tmp_path_factory.mktemp("bank")
    for i, name in enumerate(("alpha", "beta", "gamma")):
        make_random_style(folder, name=name, seed=10 + i)
    return folder


@pytest.fixture
def user_styles(style_bank: Path) -> Path:
    dest = Path(os.environ["STYLECAM_STYLES_DIR"])
    dest.mkdir(parents=True, exist_ok=True)
    for p in style_bank.glob("alpha*.onnx"):
        shutil.copy(p, dest)
    for p in style_bank.glob("beta*.onnx"):
        shutil.copy(p, dest)
    return dest


@pytest.fixture
def make_window(qtbot, user_styles):
    from stylecam.snapshot import PerceptualSource
    from stylecam.ui.app import build_window

    windows = []

    def make(**kw):
        kw.setdefault("source", "synthetic")
        kw.setdefault("cameras", [])
        kw.setdefault("perceptual", PerceptualSource.tiny(0))
        kw.setdefault("snapshot_device", "cpu")
        kw.setdefault("provider", "cpu")
        if kw["source"] == "synthetic":
            from stylecam.video import open_source

            real_open = open_source
            import stylecam.video as video

            # the synthetic clip at test size, paced so it does not burn the CPU
            orig = video.open_source
            video.open_source = lambda spec, **a: real_open(spec, width=W, height=H, fps=30.0, pace=True) if spec == "synthetic" else orig(spec, **a)
            try:
                w = build_window(**kw)
            finally:
                video.open_source = orig
        else:
            w = build_window(**kw)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=5000)  # window shortcuts need the active window
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()


def wait_frame(qtbot, window, after: int = 0) -> None:
    qtbot.waitUntil(lambda: window.preview.frames_shown > after, timeout=15000)


def stylized_now(window) -> np.ndarray:
    return window.pipeline.latest().stylized


def test_frames_reach_the_preview_and_the_status_bar(make_window, qtbot) -> None:
    w = make_window()
    wait_frame(qtbot, w, after=3)
    img = w.preview.image
    assert (img.width(), img.height()) == (W, H)
    w.update_status()
    labels = {k: v.text() for k, v in w.status_labels.items()}
    assert labels["resolution"] == f"{W}×{H}"
    assert labels["vcam"] == "vcam off" and labels["record"] == "rec off"
    qtbot.waitUntil(lambda: (w.update_status(), w.status_labels["fps"].text())[1] != "0.0 fps", timeout=10000)
    assert "fps" in w.status_labels["fps"].text()
    assert w.gallery.names == ["alpha", "beta"]


def test_hotkeys_switch_styles_and_toggles(make_window, qtbot) -> None:
    w = make_window()
    wait_frame(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_2)
    assert w.settings.style == "beta" and w.gallery.current_name() == "beta"
    qtbot.waitUntil(lambda: w.pipeline.stats().style == "beta", timeout=15000)
    w.update_status()
    assert w.status_labels["provider"].text() == "CPU"
    assert "infer" in w.status_labels["infer"].text()
    pair = w.pipeline.latest()
    qtbot.waitUntil(lambda: w.pipeline.latest().seq > pair.seq + 1, timeout=10000)
    pair = w.pipeline.latest()
    assert not np.array_equal(pair.stylized, pair.original)  # a random network really changes the frame

    qtbot.keyClick(w, Qt.Key.Key_Left)
    assert w.settings.style == "alpha"
    qtbot.keyClick(w, Qt.Key.Key_Left)
    assert w.settings.style is None  # Original sits before the first style
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.settings.style == "alpha"
    qtbot.keyClick(w, Qt.Key.Key_0)
    assert w.settings.style is None and w.gallery.current_name() is None
    qtbot.keyClick(w, Qt.Key.Key_9)  # no ninth style: nothing happens
    assert w.settings.style is None

    assert not w.settings.mirror
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert w.settings.mirror and w.controls.mirror.isChecked() and w.pipeline.options.mirror
    qtbot.keyClick(w, Qt.Key.Key_C)
    assert w.settings.preserve_colors and w.controls.preserve_colors.isChecked()
    assert w.settings.anchor and w.controls.anchor.isChecked() and w.pipeline.options.anchor  # on by default
    qtbot.keyClick(w, Qt.Key.Key_A)
    assert not w.settings.anchor and not w.controls.anchor.isChecked() and not w.pipeline.options.anchor
    qtbot.keyClick(w, Qt.Key.Key_A)
    assert w.pipeline.options.anchor
    qtbot.keyClick(w, Qt.Key.Key_Minus)
    qtbot.keyClick(w, Qt.Key.Key_Minus)
    assert w.settings.strength == pytest.approx(0.8) and w.controls.strength.value() == 80
    assert w.pipeline.options.strength == pytest.approx(0.8)
    qtbot.keyClick(w, Qt.Key.Key_Plus)
    assert w.settings.strength == pytest.approx(0.9)

    assert not w.overlay.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Question)
    assert w.overlay.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert not w.overlay.isVisible()

    qtbot.keyClick(w, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: w.isFullScreen(), timeout=3000)
    assert not w.side_dock.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not w.isFullScreen(), timeout=3000)
    assert w.side_dock.isVisible()


def test_status_bar_shows_cpu_when_the_cuda_session_fell_back(make_window, qtbot, monkeypatch) -> None:
    asked = fake_cuda_that_falls_back(monkeypatch)
    w = make_window(provider="auto", style="alpha")
    qtbot.waitUntil(lambda: w.pipeline.stats().style == "alpha", timeout=15000)
    w.update_status()
    assert ["CUDAExecutionProvider"] in asked
    assert w.status_labels["provider"].text() == "CPU"


def test_a_lost_camera_is_shown_and_the_window_reconnects(make_window, qtbot, monkeypatch) -> None:
    cams = FakeCameras(monkeypatch, size=(W, H))
    w = make_window(source="0", cameras=[0])
    wait_frame(qtbot, w)
    assert w.settings.source == 0 and not w.banner.isVisible()
    cams.unplug_after(0, failed_reopens=1)  # gone now; back at the second attempt, 0.5 + 1 s later
    qtbot.waitUntil(lambda: w.banner.text.startswith("camera 0"), timeout=10000)
    assert "camera 0: trying again in" in w.banner.text or "camera 0 stopped sending frames" in w.banner.text
    shown = w.preview.frames_shown
    qtbot.waitUntil(lambda: not w.banner.isVisible(), timeout=10000)
    assert w.statusBar().currentMessage() == "camera 0 is back"
    wait_frame(qtbot, w, after=shown)  # frames flow again
    assert cams.opened == [0, 0, 0]


def test_controls_drive_the_pipeline(make_window, qtbot) -> None:
    w = make_window()
    w.controls.scale.setCurrentIndex(w.controls.scale.findData(0.5))
    assert w.settings.scale == 0.5 and w.pipeline.options.scale == 0.5
    w.controls.scale.setCurrentIndex(0)
    assert w.settings.scale is None and w.pipeline.options.scale is None
    w.controls.strength.setValue(35)
    assert w.settings.strength == pytest.approx(0.35)


def test_new_style_file_appears_in_the_gallery(make_window, qtbot, style_bank, user_styles) -> None:
    w = make_window()
    assert "gamma" not in w.gallery.names
    for p in style_bank.glob("gamma*.onnx"):
        shutil.copy(p, user_styles)
    qtbot.waitUntil(lambda: "gamma" in w.gallery.names, timeout=10000)  # the library timer picks it up
    assert w.gallery.count() == 4


def test_virtual_camera_error_is_shown_and_the_window_stays_usable(make_window, qtbot) -> None:
    from stylecam.errors import SinkError
    from stylecam.sinks import VirtualCameraSink

    try:
        VirtualCameraSink(width=W, height=H, fps=30).close()
    except SinkError as exc:
        expected = str(exc)
    else:
        pytest.skip("a virtual camera backend exists on this machine")
    w = make_window()
    wait_frame(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_V)
    assert w.banner.isVisible()
    assert w.banner.text == f"Virtual camera unavailable: {expected}"
    w.update_status()
    assert w.status_labels["vcam"].text() == "vcam off"
    shown = w.preview.frames_shown
    wait_frame(qtbot, w, after=shown + 2)  # still running
    qtbot.keyClick(w, Qt.Key.Key_1)
    assert w.settings.style == "alpha"


def test_recording_writes_an_mp4_into_the_pictures_folder(make_window, qtbot) -> None:
    import cv2

    w = make_window()
    wait_frame(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_R)
    assert w._recorder is not None
    path = w.record_path
    w.update_status()
    assert w.status_labels["record"].text().startswith("● REC")
    seq = w.pipeline.latest().seq
    qtbot.waitUntil(lambda: w.pipeline.latest().seq > seq + 10, timeout=10000)
    qtbot.keyClick(w, Qt.Key.Key_R)
    assert w._recorder is None
    assert path.parent == Path(os.environ["STYLECAM_PICTURES_DIR"]) and path.suffix == ".mp4"
    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read()
        assert ok and frame.shape == (H, W, 3)
        assert cap.get(cv2.CAP_PROP_FRAME_COUNT) >= 5
    finally:
        cap.release()


def test_recording_is_finalised_when_the_window_closes(make_window, qtbot) -> None:
    import cv2

    w = make_window()
    wait_frame(qtbot, w)
    assert w.toggle_recording()
    seq = w.pipeline.latest().seq
    qtbot.waitUntil(lambda: w.pipeline.latest().seq > seq + 5, timeout=10000)
    path = w.record_path
    w.close()
    cap = cv2.VideoCapture(str(path))
    try:
        assert cap.read()[0]
    finally:
        cap.release()


def test_space_freezes_a_frame_and_escape_cancels_the_snapshot(make_window, qtbot) -> None:
    w = make_window(style="alpha")
    wait_frame(qtbot, w)
    assert not w.snapshot_dock.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.snapshot_dock.isVisible()
    panel = w.snapshot
    assert panel.frame is not None and panel.frame.shape == (H, W, 3)
    assert panel.style_image is not None  # the current style's source picture
    assert panel.live_picture is not None and panel.live_picture.shape == (H, W, 3)  # the frame as the style painted it
    assert panel.gatys_from_live.isEnabled() and not panel.starts_from_live()  # offered, off by default
    assert panel.mode.currentData() == "gatys"
    panel.gatys_size.setValue(64)
    panel.gatys_steps.setValue(3000)
    run_until_first_progress(qtbot, panel)
    seen = w.preview.frames_shown
    wait_frame(qtbot, w, after=seen + 2)  # the live preview keeps running meanwhile
    with qtbot.waitSignal(panel.finished, timeout=30000) as blocker:
        w.activateWindow()
        qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert blocker.args == ["cancelled"] and panel.result is not None


def test_the_snapshot_freezes_the_frame_as_the_preview_showed_it_mirrored_or_not(make_window, qtbot, monkeypatch) -> None:
    w = make_window(style="alpha")
    wait_frame(qtbot, w)
    w.toggle("mirror")
    seq = w.pipeline.latest().seq
    qtbot.waitUntil(lambda: w.pipeline.latest().seq > seq + 2, timeout=10000)  # frames made with mirror on
    pair = w.pipeline.latest()
    monkeypatch.setattr(w.pipeline, "latest", lambda: pair)
    assert w.settings.mirror and w.take_snapshot()
    # the pipeline mirrored the pair already: the frozen frame is the preview's picture, not flipped back
    assert np.array_equal(w.snapshot.frame, pair.original) and np.array_equal(w.snapshot.live_picture, pair.stylized)
    assert not np.array_equal(pair.original, pair.original[:, ::-1])  # the test picture is not symmetric


def test_broken_settings_fall_back_with_a_notice(make_window, qtbot) -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("{ this is not json")
    w = make_window()
    assert w.banner.isVisible() and "not valid JSON" in w.banner.text
    assert w.settings.strength == Settings().strength


def test_no_camera_opens_the_demo_clip_and_says_so(make_window, qtbot) -> None:
    w = make_window(source=None, cameras=[])
    assert w.settings.source == "demo"
    assert "No camera found" in w.banner.text
    wait_frame(qtbot, w)
    assert w.controls.source_combo.currentData() == "demo"


def test_settings_are_saved_on_close_and_restored(make_window, qtbot) -> None:
    w = make_window(style="beta")
    qtbot.keyClick(w, Qt.Key.Key_M)
    qtbot.keyClick(w, Qt.Key.Key_Minus)
    w.close()
    saved, notice = load_settings()
    assert notice is None
    assert saved.style == "beta" and saved.mirror and saved.strength == pytest.approx(0.9)
    assert saved.source == "synthetic" and saved.geometry
    w2 = make_window(source=None)  # bare `stylecam`: reopens the saved source and style
    assert w2.settings.style == "beta" and w2.settings.source == "synthetic" and w2.controls.mirror.isChecked()


def test_dropping_an_image_switches_the_source(make_window, qtbot, tmp_path) -> None:
    from stylecam.imageio import write_image

    img = tmp_path / "dropped.png"
    write_image(img, synthetic_frame(40, 56, seed=4))
    w = make_window()
    wait_frame(qtbot, w)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(img))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    w.dropEvent(ev)
    assert w.settings.source == str(img)
    qtbot.waitUntil(lambda: w.preview.image is not None and w.preview.image.width() == 56, timeout=10000)
    assert w.controls.source_combo.currentData() == str(img)
    assert not w.open_source(str(tmp_path / "missing.mp4"))
    assert "no such camera, file or folder" in w.banner.text
    assert w.settings.source == str(img)


FAKE_TRAINER = textwrap.dedent(
    """
    import json, shutil, sys
    bank, dest, name = sys.argv[1], sys.argv[2], sys.argv[3]
    print(json.dumps({"event": "progress", "step": 1, "total": 1, "losses": {}, "it_s": 1.0, "eta_s": 0}), flush=True)
    out = shutil.copy(bank + "/gamma.onnx", dest + "/gamma.onnx")
    print(json.dumps({"event": "done", "files": [out]}), flush=True)
    """
)


def test_trained_style_appears_and_is_selected(make_window, qtbot, tmp_path, style_bank, user_styles) -> None:
    script = tmp_path / "trainer.py"
    script.write_text(FAKE_TRAINER)
    cmd = lambda img, data, name: (sys.executable, [str(script), str(style_bank), str(user_styles), name])  # noqa: E731
    w = make_window(train_command=cmd)
    dlg = w.open_new_style_dialog()
    from stylecam.imageio import write_image

    write_image(tmp_path / "gamma.jpg", synthetic_frame(40, 40))
    (tmp_path / "photos").mkdir()
    dlg.image_edit.setText(str(tmp_path / "gamma.jpg"))
    dlg.dataset_edit.setText(str(tmp_path / "photos"))
    with qtbot.waitSignal(dlg.trained, timeout=20000):
        dlg.start()
    assert "gamma" in w.gallery.names and w.settings.style == "gamma"
    assert w.settings.dataset_dir == str(tmp_path / "photos")
    dlg.close()


def test_closing_the_window_stops_every_thread(make_window, qtbot) -> None:
    before = {t.name for t in threading.enumerate()}
    w = make_window(style="alpha")
    wait_frame(qtbot, w)
    assert any(t.name.startswith("stylecam-") for t in threading.enumerate())
    w.close()
    assert not w.pipeline.running
    assert not [t for t in threading.enumerate() if t.name.startswith("stylecam-") and t.name not in before]


def test_cli_reports_a_bad_source_or_style_in_one_line(capsys, user_styles) -> None:
    from stylecam.cli import main

    assert main(["--source", "/nonexistent/clip.mp4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stylecam: error: no such camera, file or folder") and err.count("\n") == 1
    assert main(["gui", "--source", "demo", "--style", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown style 'nope'" in err and "alpha" in err and err.count("\n") == 1
