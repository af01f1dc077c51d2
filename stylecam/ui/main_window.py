"""The main window: live preview, style gallery, controls, status bar, hotkeys, outputs.

The window never waits on inference: the pipeline runs on its own threads and the window polls
``pipeline.latest()`` on a timer, redrawing only when a new frame arrived. Pipeline events
(camera lost, reconnected, ...) come from worker threads and are marshalled onto the GUI thread
through a Qt signal.
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stylecam.errors import SinkError, SourceError, StylecamError
from stylecam.settings import Settings, save_settings
from stylecam.styles import Style, StyleLibrary
from stylecam.ui.controls import ControlPanel, source_label
from stylecam.ui.gallery import StyleGallery
from stylecam.ui.hotkeys import HOTKEYS, HotkeyOverlay
from stylecam.ui.preview import PreviewView
from stylecam.ui.snapshot_panel import SnapshotPanel

POLL_MS = 10
STATS_MS = 500
LIBRARY_MS = 2000
SOURCE_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class _EventBridge(QObject):
    event = Signal(str, str, object)  # kind, one-line message, sink (or None); emitted from pipeline threads


class Banner(QWidget):
    """A one-line notice above the preview (warnings, errors a user can act on), closable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(close)
        self.setAutoFillBackground(True)
        self.setStyleSheet("Banner { background: #5a4a1a; } QLabel { color: #fff3cf; }")
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """The stylecam window on a running pipeline.

    ``source`` is an opened FrameSource and ``source_spec`` what it was opened from (kept in the
    settings). ``notices`` are shown in the banner (broken settings, no camera...).
    ``perceptual``/``snapshot_device`` go to snapshot mode; ``train_command`` to the New-style dialog.
    ``persist`` saves the settings on close.
    """

    def __init__(
        self,
        *,
        source: Any,
        source_spec: int | str,
        settings: Settings = Settings(),
        notices: list[str] | None = None,
        cameras: list[int] | None = None,
        provider: str = "auto",
        library: StyleLibrary | None = None,
        perceptual: Any = None,
        snapshot_device: str = "auto",
        train_command: Any = None,
        persist: bool = True,
    ) -> None:
        super().__init__()
        from stylecam.pipeline import Pipeline

        self.setWindowTitle("stylecam")
        self.setAcceptDrops(True)
        self.settings = replace(settings, source=source_spec)
        self.persist = persist
        self.library = library if library is not None else StyleLibrary()
        self._train_command = train_command
        self._last_seq: int | None = None
        self._vcam: Any = None
        self._recorder: Any = None
        self.record_path: Path | None = None
        self._closed = False
        self._train_dialog: Any = None
        self._source = source

        # ---- central: banner + preview (+ hotkey overlay) ----
        central = QWidget()
        v = QVBoxLayout(central)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(0)
        self.banner = Banner()
        self.preview = PreviewView(placeholder="Waiting for the first frame…")
        v.addWidget(self.banner)
        v.addWidget(self.preview, 1)
        self.setCentralWidget(central)
        self.overlay = HotkeyOverlay(self.preview)

        # ---- side panel: gallery + controls ----
        side = QWidget()
        sv = QVBoxLayout(side)
        self.gallery = StyleGallery()
        self.controls = ControlPanel(self.settings, cameras=cameras if cameras is not None else [])
        self.new_style_button = QPushButton("New style…")
        self.new_style_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.snapshot_button = QPushButton("Snapshot && dream (Space)")
        self.snapshot_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        sv.addWidget(self.gallery, 1)
        sv.addWidget(self.controls)
        row = QHBoxLayout()
        row.addWidget(self.snapshot_button)
        row.addWidget(self.new_style_button)
        sv.addLayout(row)
        self.side_dock = QDockWidget("Styles", self)
        self.side_dock.setObjectName("styles")
        self.side_dock.setWidget(side)
        self.side_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.side_dock)

        # ---- snapshot panel (hidden until Space) ----
        self.snapshot = SnapshotPanel(perceptual=perceptual, device=snapshot_device)
        self.snapshot_dock = QDockWidget("Snapshot", self)
        self.snapshot_dock.setObjectName("snapshot")
        self.snapshot_dock.setWidget(self.snapshot)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.snapshot_dock)
        self.snapshot_dock.hide()
        self.snapshot.closed.connect(self.snapshot_dock.hide)
        self.snapshot.message.connect(self.statusBar().showMessage)

        # ---- status bar ----
        self.status_labels: dict[str, QLabel] = {}
        for key in ("fps", "infer", "provider", "resolution", "scale", "vcam", "record"):
            lab = QLabel("")
            lab.setObjectName(f"status_{key}")
            self.status_labels[key] = lab
            self.statusBar().addPermanentWidget(lab)

        # ---- pipeline ----
        self._events = _EventBridge(self)
        self._events.event.connect(self._on_pipeline_event)
        style = self._find_style(self.settings.style)
        if self.settings.style and style is None:
            notices = [*(notices or []), f"style {self.settings.style!r} is not installed; showing the unstylized feed"]
            self.settings = replace(self.settings, style=None)
        self.pipeline = Pipeline(
            source=source,
            style=style,
            options=self.frame_options(),
            provider=provider,
            on_event=lambda ev: self._events.event.emit(ev.kind, ev.message, ev.sink),
        )
        self.gallery.set_styles(self.library.styles, current=self.settings.style)
        self.pipeline.start()

        # ---- wiring ----
        self.gallery.style_chosen.connect(lambda name: self.set_style(name or None))
        self.controls.changed.connect(self.apply_settings)
        self.controls.source_requested.connect(self.open_source)
        self.snapshot_button.clicked.connect(self.take_snapshot)
        self.new_style_button.clicked.connect(self.open_new_style_dialog)
        self._make_shortcuts()
        self._make_menu()

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll_frame)
        self._poll.start()
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(STATS_MS)
        self._stats_timer.timeout.connect(self.update_status)
        self._stats_timer.start()
        self._lib_timer = QTimer(self)
        self._lib_timer.setInterval(LIBRARY_MS)
        self._lib_timer.timeout.connect(self.refresh_library)
        self._lib_timer.start()

        self._restore_geometry()
        for n in notices or []:
            self.show_notice(n)
        self.update_status()

    # ---- helpers ----------------------------------------------------------------------------
    def frame_options(self) -> Any:
        from stylecam.processing import FrameOptions

        s = self.settings
        return FrameOptions(scale=s.scale, strength=s.strength, preserve_colors=s.preserve_colors, mirror=s.mirror, anchor=s.anchor)

    def _find_style(self, name: str | None) -> Style | None:
        if not name:
            return None
        try:
            return self.library.get(name)
        except StylecamError:
            return None

    def show_notice(self, text: str) -> None:
        """Show a one-line notice in the banner above the preview."""
        self.banner.show_message(text)

    # ---- frames and status --------------------------------------------------------------------
    def poll_frame(self) -> None:
        pair = self.pipeline.latest()
        if pair is None or pair.seq == self._last_seq:
            return
        self._last_seq = pair.seq
        self.preview.set_frame(pair.stylized)

    def update_status(self) -> None:
        st = self.pipeline.stats()
        lab = self.status_labels
        lab["fps"].setText(f"{st.output_fps:.1f} fps")
        infer = float(getattr(st, "inference_ms_p50", getattr(st, "infer_ms_p50", 0.0)) or 0.0)
        lab["infer"].setText(f"infer {infer:.1f} ms" if infer else "infer –")
        lab["provider"].setText(_provider_label(str(st.provider or getattr(self.pipeline, "provider", ""))))
        res = st.resolution
        lab["resolution"].setText(f"{res[0]}×{res[1]}" if res and res[0] else "–")
        scale = st.scale
        auto = " (auto)" if self.settings.scale is None else ""
        lab["scale"].setText(f"scale {scale:.0%}{auto}" if scale else f"scale –{auto}")
        lab["vcam"].setText("vcam ON" if self._vcam is not None else "vcam off")
        lab["record"].setText(f"● REC {self.record_path.name}" if self._recorder is not None and self.record_path else "rec off")
        lab["record"].setStyleSheet("color: #ff5050;" if self._recorder is not None else "")

    def _on_pipeline_event(self, kind: str, message: str, sink: object = None) -> None:
        """React to a pipeline event (already on the GUI thread)."""
        if kind == "style_loaded":
            self.statusBar().showMessage(message, 3000)
        elif kind == "scale_changed":  # Auto stepped down under load: worth a line, not a banner
            self.statusBar().showMessage(message, 5000)
        elif kind == "reconnected":
            self.banner.hide()
            self.statusBar().showMessage(message, 5000)
        else:  # camera_lost, reconnecting, source_ended, style_error, sink_error
            self.show_notice(message)
        if kind == "sink_error":  # the pipeline dropped the sink that failed
            if sink is not None and sink is self._vcam:
                _close(self._vcam)
                self._vcam = None
            elif sink is not None and sink is self._recorder:
                _close(self._recorder)
                self._recorder = None
            self.update_status()

    # ---- styles -------------------------------------------------------------------------------
    def set_style(self, name: str | None) -> None:
        """Switch to style ``name`` (None = unstylized feed)."""
        style = self._find_style(name)
        if name and style is None:
            self.show_notice(f"style {name!r} is not installed")
            return
        self.pipeline.set_style(style)
        self.settings = replace(self.settings, style=style.name if style else None)
        self.gallery.select(self.settings.style)
        self.statusBar().showMessage(f"Style: {style.info.title or style.name}" if style else "Unstylized feed", 3000)

    def pick_style_number(self, n: int) -> None:
        names = self.gallery.names
        if 1 <= n <= len(names):
            self.set_style(names[n - 1])

    def cycle_style(self, step: int) -> None:
        order: list[str | None] = [None, *self.gallery.names]
        i = order.index(self.settings.style) if self.settings.style in order else 0
        self.set_style(order[(i + step) % len(order)])

    def refresh_library(self) -> bool:
        """Pick up new, changed or removed style files; True if the gallery changed."""
        if not self.library.refresh():
            return False
        current = self.settings.style
        if current and current not in self.library.names():
            self.set_style(None)
            current = None
        self.gallery.set_styles(self.library.styles, current=current)
        return True

    # ---- options ------------------------------------------------------------------------------
    def apply_settings(self, settings: Settings) -> None:
        """Take new strength/scale/toggles (from the controls or hotkeys) into the pipeline."""
        self.settings = replace(
            self.settings,
            strength=settings.strength,
            scale=settings.scale,
            preserve_colors=settings.preserve_colors,
            mirror=settings.mirror,
            anchor=settings.anchor,
        )
        self.controls.show_settings(self.settings)
        self.pipeline.set_options(self.frame_options())
        self.update_status()

    def toggle(self, name: str) -> None:
        """Flip ``mirror``, ``preserve_colors`` or ``anchor``."""
        self.apply_settings(replace(self.settings, **{name: not getattr(self.settings, name)}))

    def step_strength(self, steps: int) -> None:
        self.apply_settings(self.settings.with_strength_step(steps))
        self.statusBar().showMessage(f"Strength {self.settings.strength:.0%}", 2000)

    # ---- sources ------------------------------------------------------------------------------
    def open_source(self, spec: int | str) -> bool:
        """Switch the pipeline to ``spec`` (camera index, "demo" or a path); False with a notice on failure."""
        from stylecam.video import open_source

        try:
            src = open_source(spec, loop=not isinstance(spec, int))
        except SourceError as exc:
            self.show_notice(str(exc))
            self.controls.show_source(self.settings.source)
            return False
        self.pipeline.set_source(src)
        self._source = src
        self._last_seq = None
        self.settings = replace(self.settings, source=spec)
        self.controls.show_source(spec)
        self.banner.hide()
        self.statusBar().showMessage(f"Source: {source_label(spec)}", 3000)
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if _dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        path = _dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_source(path)

    # ---- outputs ------------------------------------------------------------------------------
    def _frame_size(self) -> tuple[int, int]:
        pair = self.pipeline.latest()
        if pair is not None:
            return pair.stylized.shape[1], pair.stylized.shape[0]
        size = getattr(self._source, "size", (0, 0))
        return (int(size[0]), int(size[1])) if size and size[0] else (640, 480)

    def _fps(self) -> float:
        fps = float(getattr(self._source, "fps", 0) or 0)
        return fps if fps > 0 else 30.0

    def toggle_virtual_camera(self) -> bool:
        """Start or stop sending the stylized stream to the virtual camera; True if now on."""
        from stylecam.sinks import VirtualCameraSink

        if self._vcam is not None:
            sink, self._vcam = self._vcam, None
            self.pipeline.remove_sink(sink)
            _close(sink)
            self.statusBar().showMessage("Virtual camera off", 3000)
        else:
            w, h = self._frame_size()
            try:
                sink = VirtualCameraSink(width=w, height=h, fps=self._fps())
            except SinkError as exc:
                self.show_notice(f"Virtual camera unavailable: {exc}")
                self.update_status()
                return False
            self.pipeline.add_sink(sink)
            self._vcam = sink
            self.statusBar().showMessage(f"Virtual camera on ({getattr(sink, 'device', '') or 'running'})", 3000)
        self.update_status()
        return self._vcam is not None

    def toggle_recording(self) -> bool:
        """Start or stop recording the stylized stream as MP4 in the pictures folder; True if now on."""
        from stylecam.paths import user_pictures_dir
        from stylecam.sinks import Mp4Recorder

        if self._recorder is not None:
            self._stop_recording()
            return False
        folder = user_pictures_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"stylecam-{time.strftime('%Y%m%d-%H%M%S')}.mp4"
        n = 2
        while path.exists():
            path = folder / f"stylecam-{time.strftime('%Y%m%d-%H%M%S')}-{n}.mp4"
            n += 1
        try:
            rec = Mp4Recorder(path, fps=self._fps(), size=self._frame_size())
        except SinkError as exc:
            self.show_notice(f"Cannot record: {exc}")
            return False
        self.pipeline.add_sink(rec)
        self._recorder = rec
        self.record_path = path
        self.statusBar().showMessage(f"Recording to {path}", 3000)
        self.update_status()
        return True

    def _stop_recording(self) -> None:
        rec, self._recorder = self._recorder, None
        if rec is None:
            return
        self.pipeline.remove_sink(rec)  # closes (finalises) it; failures arrive as a sink_error event
        _close(rec)
        self.statusBar().showMessage(f"Saved {self.record_path}", 5000)
        self.update_status()

    # ---- snapshot -----------------------------------------------------------------------------
    def take_snapshot(self) -> bool:
        """Freeze the current original frame into the snapshot panel; False if there is no frame yet."""
        pair = self.pipeline.latest()
        if pair is None:
            self.statusBar().showMessage("No frame yet", 2000)
            return False
        style = self._find_style(self.settings.style)
        style_image = None
        if style is not None:
            try:
                style_image = style.info.source_image()
            except StylecamError:
                style_image = None
        # The pair is what the preview showed: already mirrored when mirror is on.
        frame, painted = pair.original, pair.stylized
        self.snapshot.freeze(
            frame, style_image=style_image, style_title=style.info.title if style else "", live_picture=painted if style else None
        )
        if not self.snapshot_dock.isVisible():
            self.snapshot_dock.show()
            # share the space with the live preview instead of squeezing it
            self.resizeDocks([self.snapshot_dock], [int(self.width() * 0.4)], Qt.Orientation.Horizontal)
        return True

    def escape(self) -> None:
        if self.overlay.isVisible():
            self.overlay.hide()
        elif self.snapshot.cancel():
            pass
        elif self.isFullScreen():
            self.toggle_fullscreen()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
            self.side_dock.show()
        else:
            self.side_dock.hide()
            self.showFullScreen()

    # ---- training -----------------------------------------------------------------------------
    def open_new_style_dialog(self) -> Any:
        from stylecam.ui.train_dialog import NewStyleDialog, trainer_command

        if self._train_dialog is None:
            dlg = NewStyleDialog(self, dataset_dir=self.settings.dataset_dir, command=self._train_command or trainer_command)
            dlg.trained.connect(self._style_trained)
            dlg.dataset_chosen.connect(lambda d: setattr(self, "settings", replace(self.settings, dataset_dir=d)))
            self._train_dialog = dlg
        self._train_dialog.show()
        self._train_dialog.raise_()
        return self._train_dialog

    def _style_trained(self, name: str, files: list) -> None:
        self.refresh_library()
        if name in self.library.names():
            self.set_style(name)
        self.statusBar().showMessage(f"New style '{name}' is ready", 5000)

    # ---- keys ---------------------------------------------------------------------------------
    def _make_shortcuts(self) -> None:
        actions = {
            "original": lambda key: self.set_style(None),
            "pick_style": lambda key: self.pick_style_number(int(key)),
            "cycle_style": lambda key: self.cycle_style(-1 if key == "Left" else 1),
            "snapshot": lambda key: self.take_snapshot(),
            "toggle_vcam": lambda key: self.toggle_virtual_camera(),
            "toggle_record": lambda key: self.toggle_recording(),
            "toggle_mirror": lambda key: self.toggle("mirror"),
            "toggle_colors": lambda key: self.toggle("preserve_colors"),
            "toggle_anchor": lambda key: self.toggle("anchor"),
            "strength": lambda key: self.step_strength(-1 if key == "-" else 1),
            "toggle_fullscreen": lambda key: self.toggle_fullscreen(),
            "escape": lambda key: self.escape(),
            "toggle_help": lambda key: self.overlay.toggle(),
        }
        self._shortcuts: list[QShortcut] = []
        for hk in HOTKEYS:
            for key in hk.keys:
                sc = QShortcut(QKeySequence(key), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.activated.connect(lambda fn=actions[hk.action], k=key: fn(k))
                self._shortcuts.append(sc)

    def _make_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        act = QAction("Open video or image…", self)
        act.setShortcut(QKeySequence.StandardKey.Open)
        act.triggered.connect(self.controls._open_file)
        menu.addAction(act)
        act = QAction("New style…", self)
        act.triggered.connect(self.open_new_style_dialog)
        menu.addAction(act)
        menu.addSeparator()
        act = QAction("Quit", self)
        act.setShortcut(QKeySequence.StandardKey.Quit)
        act.triggered.connect(self.close)
        menu.addAction(act)
        help_menu = self.menuBar().addMenu("&Help")
        act = QAction("Hotkeys (?)", self)
        act.triggered.connect(self.overlay.toggle)
        help_menu.addAction(act)

    # ---- geometry and close -------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        if self.settings.geometry:
            try:
                self.restoreGeometry(QByteArray(base64.b64decode(self.settings.geometry)))
                return
            except (ValueError, TypeError):
                pass
        self.resize(1280, 760)

    def shutdown(self) -> None:
        """Stop everything the window started: timers, outputs, snapshot, trainer, pipeline. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for t in (self._poll, self._stats_timer, self._lib_timer):
            t.stop()
        self.snapshot.shutdown()
        if self._train_dialog is not None:
            self._train_dialog.stop_and_wait()
        self._stop_recording()
        if self._vcam is not None:
            sink, self._vcam = self._vcam, None
            self.pipeline.remove_sink(sink)
            _close(sink)
        self.pipeline.stop()
        if self.persist:
            geometry = base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii")
            self.settings = replace(self.settings, geometry=geometry)
            try:
                save_settings(self.settings)
            except OSError as exc:
                print(f"stylecam: could not save settings: {exc}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)


def _provider_label(provider: str) -> str:
    p = provider.lower()
    if "cuda" in p or "tensorrt" in p:
        return "CUDA"
    if "coreml" in p:
        return "CoreML"
    if "dml" in p or "directml" in p:
        return "DirectML"
    if "cpu" in p:
        return "CPU"
    return provider or "–"


def _close(obj: Any) -> None:
    """Close a sink (idempotent on the sinks' side); a failure to finalise is not fatal here."""
    close = getattr(obj, "close", None)
    if callable(close):
        try:
            close()
        except StylecamError:
            pass


def _dropped_path(mime: Any) -> str | None:
    """The first local file or folder in a drop that could be a source."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            p = Path(url.toLocalFile())
            if p.is_dir() or p.suffix.lower() in SOURCE_SUFFIXES:
                return str(p)
    return None
