"""The style gallery: thumbnails of the installed styles, "Original" first; kept in sync with the library."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from stylecam.errors import StylecamError
from stylecam.styles import Style
from stylecam.ui.convert import bgr_to_pixmap

THUMB = 96
_NAME_ROLE = Qt.ItemDataRole.UserRole


def _thumbnail(style: Style) -> QPixmap:
    try:
        return bgr_to_pixmap(style.info.thumbnail())
    except (StylecamError, ValueError):
        pix = QPixmap(THUMB, THUMB)
        pix.fill(QColor(70, 70, 80))
        return pix


class StyleGallery(QListWidget):
    """Icon grid of styles. Row 0 is the unstylized feed; rows 1..n are styles sorted by name.

    ``style_chosen(str)`` is emitted with the style name, or ``""`` for the unstylized feed, when
    the user clicks an entry (not when the selection is set from code).
    """

    style_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 22, THUMB + 40))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window's hotkeys
        self.setMinimumWidth(2 * (THUMB + 22) + 24)
        self._names: list[str] = []
        self._quiet = False
        self.itemClicked.connect(self._clicked)

    def set_styles(self, styles: list[Style], *, current: str | None) -> None:
        """Rebuild the entries from ``styles`` and select ``current`` (None = unstylized)."""
        self._quiet = True
        self.clear()
        self._names = [s.name for s in styles]
        original = QPixmap(THUMB, THUMB)
        original.fill(QColor(40, 40, 46))
        item = QListWidgetItem(QIcon(original), "0 · Original")
        item.setData(_NAME_ROLE, "")
        item.setToolTip("Unstylized feed (key 0)")
        self.addItem(item)
        for i, s in enumerate(styles, start=1):
            label = f"{i} · {s.info.title or s.name}" if i <= 9 else (s.info.title or s.name)
            item = QListWidgetItem(QIcon(_thumbnail(s)), label)
            item.setData(_NAME_ROLE, s.name)
            tip = [s.info.title or s.name]
            if s.info.artist:
                tip.append(s.info.artist)
            tip.append(f"{s.info.arch} network, {s.location}")
            item.setToolTip("\n".join(tip))
            self.addItem(item)
        self._quiet = False
        self.select(current)

    @property
    def names(self) -> list[str]:
        """Style names in gallery order (hotkey n picks ``names[n-1]``)."""
        return list(self._names)

    def select(self, name: str | None) -> None:
        """Highlight ``name`` (None or "" = Original) without emitting ``style_chosen``."""
        row = 0 if not name or name not in self._names else self._names.index(name) + 1
        self._quiet = True
        self.setCurrentRow(row)
        self._quiet = False

    def current_name(self) -> str | None:
        item = self.currentItem()
        name = item.data(_NAME_ROLE) if item is not None else ""
        return name or None

    def _clicked(self, item: QListWidgetItem) -> None:
        if not self._quiet:
            self.style_chosen.emit(item.data(_NAME_ROLE) or "")
