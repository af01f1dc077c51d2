"""Window parts without the live pipeline: preview, gallery, hotkey table, snapshot panel, New-style dialog."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt

from stylecam.styles import StyleLibrary
from stylecam.ui.convert import bgr_to_qimage, qimage_to_bgr
from stylecam.ui.gallery import StyleGallery
from stylecam.ui.hotkeys import HOTKEYS, markdown_table
from stylecam.ui.preview import PreviewView, fit_rect

from .helpers import make_random_style, run_until_first_progress, synthetic_frame


def test_bgr_qimage_round_trip_keeps_channel_order(qapp) -> None:
    frame = synthetic_frame(37, 53, seed=3)  # odd width: rows are padded in the QImage
    back = qimage_to_bgr(bgr_to_qimage(frame))
    np.testing.assert_array_equal(back, frame)
    with pytest.raises(ValueError, match="uint8 BGR"):
        bgr_to_qimage(frame.astype(np.float32))


def test_fit_rect_keeps_aspect_and_centres() -> None:
    r = fit_rect(640, 480, QRectF(0, 0, 1000, 500))
    assert (r.width(), r.height()) == pytest.approx((500 * 4 / 3, 500))
    assert r.x() == pytest.approx((1000 - r.width()) / 2) and r.y() == pytest.approx(0, abs=1e-9)
    assert fit_rect(0, 10, QRectF(0, 0, 10, 10)).isEmpty()


def test_preview_draws_the_frame_letterboxed(qtbot) -> None:
    view = PreviewView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    frame = np.zeros((60, 80, 3), np.uint8)
    frame[:] = (0, 0, 255)  # pure red in BGR
    view.set_frame(frame)
    grab = qimage_to_bgr(view.grab().toImage())
    h, w = grab.shape[:2]
    centre = grab[h // 2, w // 2]
    assert centre[2] > 200 and centre[0] < 40, centre  # red in the middle
    assert grab[h // 2, 2].max() < 40  # dark bar at the side (4:3 in a 2:1 widget)


def test_hotkey_table_covers_the_issue_and_has_no_duplicate_keys() -> None:
    keys = [k for h in HOTKEYS for k in h.keys]
    assert len(keys) == len(set(keys))
    for k in [*"123456789", "0", "Left", "Right", "Space", "V", "R", "M", "C", "A", "+", "-", "F", "Escape", "?"]:
        assert k in keys, k
    table = markdown_table()
    assert table.startswith("| Key | Action |") and "Space" in table and table.count("\n") == len(HOTKEYS) + 1


def test_gallery_lists_styles_and_follows_the_library(qtbot) -> None:
    user = Path(os.environ["STYLECAM_STYLES_DIR"])
    make_random_style(user, name="bbb", seed=1)
    make_random_style(user, name="aaa", seed=2)
    lib = StyleLibrary()
    gallery = StyleGallery()
    qtbot.addWidget(gallery)
    gallery.set_styles(lib.styles, current="bbb")
    assert gallery.names == lib.names() and {"aaa", "bbb"} <= set(gallery.names)
    assert gallery.count() == len(lib.styles) + 1
    assert gallery.current_name() == "bbb"
    assert gallery.item(0).text().startswith("0 ")
    assert not gallery.item(gallery.names.index("aaa") + 1).icon().isNull()
    chosen: list[str] = []
    gallery.style_chosen.connect(chosen.append)
    gallery.select("aaa")  # from code: no signal
    assert chosen == [] and gallery.current_name() == "aaa"
    rect = gallery.visualItemRect(gallery.item(0))
    qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert chosen == [""] and gallery.current_name() is None

    make_random_style(user, name="ccc", seed=3)
    assert lib.refresh()
    gallery.set_styles(lib.styles, current="aaa")
    assert "ccc" in gallery.names and gallery.current_name() == "aaa"


# ---- snapshot panel ------------------------------------------------------------------------------
@pytest.fixture
def panel(qtbot):
    from stylecam.snapshot import PerceptualSource
    from stylecam.ui.snapshot_panel import SnapshotPanel

    p = SnapshotPanel(perceptual=PerceptualSource.tiny(0), device="cpu")
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def test_snapshot_panel_starts_from_the_library_defaults(panel) -> None:
    from stylecam.snapshot import GatysConfig

    assert panel.gatys_steps.value() == GatysConfig.steps


def test_snapshot_gatys_runs_to_completion_with_previews_and_saves_png(panel, qtbot) -> None:
    frame = synthetic_frame(48, 64, seed=1)
    style = synthetic_frame(40, 40, seed=9)[:, ::-1].copy()
    panel.freeze(frame, style_image=style, style_title="Test")
    panel.gatys_size.setValue(64)
    panel.gatys_steps.setValue(6)
    previews: list[int] = []
    panel._bridge.progress.connect(lambda p: previews.append(p.step))
    with qtbot.waitSignal(panel.finished, timeout=30000) as blocker:
        panel.run()
        assert panel.running and not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    assert blocker.args == ["done"]
    assert previews and max(previews) == 6
    assert panel.result is not None and panel.result.shape == (48, 64, 3) and panel.result.dtype == np.uint8
    assert not np.array_equal(panel.result, frame)
    assert panel.progress.value() == panel.progress.maximum()
    path = panel.save()
    assert path is not None and path.parent == Path(os.environ["STYLECAM_PICTURES_DIR"])
    assert path.suffix == ".png" and path.name.startswith("stylecam-") and "gatys" in path.name
    from stylecam.imageio import read_image

    np.testing.assert_array_equal(read_image(path), panel.result)
    assert panel.save() != path  # a second save never overwrites the first
    panel.compare.setValue(30)  # before/after split
    assert panel.view._compare is not None
    panel.show_before.setChecked(True)
    assert panel.view._compare is None


def test_snapshot_dream_runs_and_cancel_keeps_the_image_so_far(panel, qtbot) -> None:
    frame = synthetic_frame(48, 64, seed=2)
    panel.freeze(frame, style_image=None)
    assert panel.mode.currentData() == "dream"  # no style picture: dream is the only choice
    panel.dream_size.setValue(64)
    panel.dream_octaves.setValue(1)
    panel.dream_steps.setValue(200)
    run_until_first_progress(qtbot, panel)
    with qtbot.waitSignal(panel.finished, timeout=30000) as blocker:
        assert panel.cancel()
    assert blocker.args == ["cancelled"]
    assert panel.state == "cancelled" and panel.result is not None and panel.result.shape == (48, 64, 3)
    assert panel.save_button.isEnabled()

    panel.dream_steps.setValue(2)
    panel.dream_octaves.setValue(2)
    with qtbot.waitSignal(panel.finished, timeout=30000) as blocker:
        panel.run()
    assert blocker.args == ["done"]
    assert not np.array_equal(panel.result, frame)


def test_snapshot_gatys_starts_from_the_live_picture_when_ticked_and_the_style_is_the_live_one(panel) -> None:
    frame, painted = synthetic_frame(48, 64, seed=1), synthetic_frame(24, 32, seed=5)
    style = synthetic_frame(40, 40, seed=9)
    panel.freeze(frame, style_image=style, style_title="Test", live_picture=painted)
    # offered, but off by default: the photo start is as fast and keeps the content closer
    assert panel.gatys_from_live.isEnabled() and not panel.gatys_from_live.isChecked() and not panel.starts_from_live()
    _, job = panel._make_job()
    assert job._kwargs["config"].init == "content" and job._kwargs["init_image"] is None
    panel.gatys_from_live.setChecked(True)
    assert panel.starts_from_live()
    _, job = panel._make_job()
    assert job._kwargs["config"].init == "image" and np.array_equal(job._kwargs["init_image"], painted)

    panel.gatys_from_live.setChecked(False)  # the visible switch
    _, job = panel._make_job()
    assert job._kwargs["config"].init == "content" and job._kwargs["init_image"] is None
    panel.gatys_from_live.setChecked(True)

    panel.pick_style_image(synthetic_frame(40, 40, seed=3), "other.png")  # not the live style any more
    assert not panel.gatys_from_live.isEnabled() and not panel.starts_from_live()
    _, job = panel._make_job()
    assert job._kwargs["config"].init == "content" and job._kwargs["init_image"] is None
    panel.style_source.setCurrentIndex(0)
    assert panel.starts_from_live()

    panel.freeze(frame, style_image=style, style_title="Test")  # no live picture (e.g. no style running)
    assert not panel.gatys_from_live.isEnabled() and not panel.starts_from_live()


def test_snapshot_gatys_without_a_style_image_says_why(panel, qtbot) -> None:
    panel.freeze(synthetic_frame(48, 64), style_image=None)
    panel.mode.setCurrentIndex(0)
    messages: list[str] = []
    panel.message.connect(messages.append)
    panel.run()
    assert panel.state == "failed" and messages and "style image" in messages[0]
    assert not panel.running


# ---- New style dialog ----------------------------------------------------------------------------
FAKE_TRAINER = textwrap.dedent(
    """
    import json, sys, time, signal, os
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "fail":
        print("stylecam: error: the dataset folder has no photos", file=sys.stderr)
        sys.exit(1)
    if mode == "slow":
        signal.signal(signal.SIGINT, lambda *a: (open(out + ".sigint", "w").close(), sys.exit(130)))
        print(json.dumps({"event": "progress", "step": 1, "total": 100, "losses": {"style": 1.0}, "it_s": 2.0, "eta_s": 50}), flush=True)
        time.sleep(60)
    for i in range(1, 4):
        print(json.dumps({"event": "progress", "step": i, "total": 3, "losses": {"content": 2.5, "style": 1.25}, "it_s": 3.0, "eta_s": 3 - i}), flush=True)
    print(json.dumps({"event": "preview", "path": out + ".png"}), flush=True)
    print("some log line that is not json", flush=True)
    print(json.dumps({"event": "done", "files": [out + ".onnx"]}), flush=True)
    """
)


@pytest.fixture
def dialog_factory(qtbot, tmp_path):
    from stylecam.imageio import write_image
    from stylecam.ui.train_dialog import NewStyleDialog

    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    write_image(tmp_path / "out.png", synthetic_frame(32, 32))
    write_image(tmp_path / "style.jpg", synthetic_frame(40, 40, seed=5))
    (tmp_path / "photos").mkdir()
    made = []

    def make(mode: str) -> NewStyleDialog:
        dlg = NewStyleDialog(dataset_dir=str(tmp_path / "photos"), command=lambda img, data, name: (sys.executable, [str(script), mode, str(tmp_path / "out")]))
        qtbot.addWidget(dlg)
        dlg.image_edit.setText(str(tmp_path / "style.jpg"))
        made.append(dlg)
        return dlg

    yield make
    for d in made:
        d.stop_and_wait()


def test_new_style_dialog_follows_progress_and_reports_done(dialog_factory, qtbot) -> None:
    dlg = dialog_factory("ok")
    assert dlg.name_edit.text() == "style"  # suggested from the image's name
    with qtbot.waitSignal(dlg.trained, timeout=20000) as blocker:
        dlg.start()
        assert dlg.running
    assert blocker.args[0] == "style" and blocker.args[1][0].endswith("out.onnx")
    assert dlg.state == "done"
    assert dlg.progress.maximum() == 1 and dlg.progress.value() == 1
    assert dlg.preview.pixmap() is not None and not dlg.preview.pixmap().isNull()


def test_new_style_dialog_shows_the_trainers_one_line_reason(dialog_factory, qtbot) -> None:
    dlg = dialog_factory("fail")
    dlg.start()
    qtbot.waitUntil(lambda: dlg.state == "failed", timeout=20000)
    assert dlg.status.text() == "the dataset folder has no photos"


def test_new_style_dialog_validates_inputs_before_starting(dialog_factory) -> None:
    dlg = dialog_factory("ok")
    dlg.name_edit.setText("Bad Name!")
    dlg.start()
    assert dlg.state == "failed" and not dlg.running and "invalid style name" in dlg.status.text()
    dlg.name_edit.setText("fine")
    dlg.dataset_edit.setText("/nonexistent/photos")
    dlg.start()
    assert dlg.state == "failed" and "folder of photos" in dlg.status.text()


@pytest.mark.skipif(os.name != "posix", reason="SIGINT first is the POSIX path")
def test_new_style_dialog_cancel_sends_sigint(dialog_factory, qtbot, tmp_path) -> None:
    dlg = dialog_factory("slow")
    dlg.start()
    qtbot.waitUntil(lambda: dlg.progress.maximum() == 100, timeout=20000)
    assert "1/100" in dlg.status.text() and "it/s" in dlg.status.text()
    dlg.cancel()
    qtbot.waitUntil(lambda: dlg.state == "cancelled", timeout=10000)
    assert (tmp_path / "out.sigint").exists()
