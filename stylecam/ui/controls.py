"""The side panel's controls: source, strength, processing scale, toggles.

The panel only reflects and edits a :class:`~stylecam.settings.Settings`; it emits
``changed(Settings)`` on user edits and ``source_requested(object)`` (an int camera index,
``"demo"`` or a file path) when the user picks a source. :meth:`show_settings` updates the
widgets from code without emitting anything.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

from stylecam.settings import SCALE_CHOICES, Settings

VIDEO_FILTER = "Videos and images (*.mp4 *.mov *.avi *.mkv *.webm *.m4v *.jpg *.jpeg *.png *.bmp *.webp);;All files (*)"


def source_label(source: int | str) -> str:
    if isinstance(source, int):
        return f"Camera {source}"
    if source == "demo":
        return "Demo clip"
    return Path(source).name or source


class ControlPanel(QWidget):
    changed = Signal(object)
    """Settings after a user edit."""
    source_requested = Signal(object)
    """int camera index, "demo" or a path."""

    def __init__(self, settings: Settings, *, cameras: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._quiet = False
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.source_combo = QComboBox()
        self.source_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.open_button = QPushButton("File…")
        self.open_button.setToolTip("Use a video or image file as the source (or drop one on the window)")
        self.open_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = QHBoxLayout()
        row.addWidget(self.source_combo, 1)
        row.addWidget(self.open_button)
        form.addRow("Source", row)

        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.strength_value = QLabel()
        self.strength_value.setMinimumWidth(36)
        row = QHBoxLayout()
        row.addWidget(self.strength, 1)
        row.addWidget(self.strength_value)
        form.addRow("Strength", row)

        self.scale = QComboBox()
        self.scale.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scale.addItem("Auto", None)
        for s in SCALE_CHOICES:
            self.scale.addItem(f"{round(s * 100)} %", s)
        self.scale.setToolTip("Resolution the style network runs at (Auto: the largest that keeps up, up to the size the style paints at)")
        form.addRow("Processing", self.scale)

        self.preserve_colors = QCheckBox("Preserve colours (C)")
        self.mirror = QCheckBox("Mirror (M)")
        self.anchor = QCheckBox("Strokes follow the pan (A)")
        self.anchor.setToolTip("Hold the scene on the style network's grid while the camera pans, so the strokes move with it")
        for cb in (self.preserve_colors, self.mirror, self.anchor):
            cb.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            form.addRow(cb)

        self.set_cameras(cameras, current=settings.source)
        self.show_settings(settings)
        self.source_combo.activated.connect(self._source_activated)
        self.open_button.clicked.connect(self._open_file)
        self.strength.valueChanged.connect(self._edited)
        self.scale.currentIndexChanged.connect(self._edited)
        self.preserve_colors.toggled.connect(self._edited)
        self.mirror.toggled.connect(self._edited)
        self.anchor.toggled.connect(self._edited)

    def set_cameras(self, cameras: list[int], *, current: int | str | None) -> None:
        """Fill the source list: the cameras found, the demo clip and ``current`` if it is a file."""
        self._quiet = True
        self.source_combo.clear()
        for i in cameras:
            self.source_combo.addItem(source_label(i), i)
        self.source_combo.addItem(source_label("demo"), "demo")
        if isinstance(current, str) and current != "demo":
            self.source_combo.addItem(source_label(current), current)
            self.source_combo.setItemData(self.source_combo.count() - 1, current, Qt.ItemDataRole.ToolTipRole)
        self.show_source(current)
        self._quiet = False

    def show_source(self, source: int | str | None) -> None:
        """Select ``source`` in the list (adding it when it is a new file)."""
        idx = self.source_combo.findData(source) if source is not None else -1
        if idx < 0 and isinstance(source, str):
            self.source_combo.addItem(source_label(source), source)
            idx = self.source_combo.count() - 1
        if idx >= 0:
            quiet, self._quiet = self._quiet, True
            self.source_combo.setCurrentIndex(idx)
            self._quiet = quiet

    def show_settings(self, settings: Settings) -> None:
        """Reflect ``settings`` in the widgets without emitting ``changed``."""
        self._settings = settings
        quiet, self._quiet = self._quiet, True
        self.strength.setValue(round(settings.strength * 100))
        self.strength_value.setText(f"{settings.strength:.0%}" if settings.strength < 1 else "100%")
        idx = self.scale.findData(settings.scale) if settings.scale is not None else 0
        if idx < 0:
            self.scale.addItem(f"{round(settings.scale * 100)} %", settings.scale)
            idx = self.scale.count() - 1
        self.scale.setCurrentIndex(idx)
        self.preserve_colors.setChecked(settings.preserve_colors)
        self.mirror.setChecked(settings.mirror)
        self.anchor.setChecked(settings.anchor)
        self._quiet = quiet

    def _edited(self, *_: object) -> None:
        if self._quiet:
            return
        from dataclasses import replace

        s = replace(
            self._settings,
            strength=self.strength.value() / 100,
            scale=self.scale.currentData(),
            preserve_colors=self.preserve_colors.isChecked(),
            mirror=self.mirror.isChecked(),
            anchor=self.anchor.isChecked(),
        )
        self.strength_value.setText(f"{s.strength:.0%}")
        self._settings = s
        self.changed.emit(s)

    def _source_activated(self, index: int) -> None:
        if not self._quiet:
            self.source_requested.emit(self.source_combo.itemData(index))

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or image", "", VIDEO_FILTER)
        if path:
            self.source_requested.emit(path)
