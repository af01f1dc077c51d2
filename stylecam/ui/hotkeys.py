"""The window's hotkeys (one table drives the shortcuts and the ``?`` overlay)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class Hotkey:
    keys: tuple[str, ...]
    """QKeySequence strings."""
    label: str
    """How the key is written in the overlay."""
    action: str
    """Name of the window's action this key triggers."""
    help: str


HOTKEYS: tuple[Hotkey, ...] = (
    Hotkey(tuple(str(i) for i in range(1, 10)), "1 – 9", "pick_style", "pick a style from the gallery"),
    Hotkey(("Left", "Right"), "← / →", "cycle_style", "previous / next style"),
    Hotkey(("0",), "0", "original", "unstylized feed"),
    Hotkey(("Space",), "Space", "snapshot", "freeze the frame: snapshot and dream"),
    Hotkey(("V",), "V", "toggle_vcam", "virtual camera on / off"),
    Hotkey(("R",), "R", "toggle_record", "record MP4 on / off"),
    Hotkey(("M",), "M", "toggle_mirror", "mirror"),
    Hotkey(("C",), "C", "toggle_colors", "preserve colours"),
    Hotkey(("A",), "A", "toggle_anchor", "hold the strokes on the scene while the camera pans"),
    Hotkey(("+", "=", "-"), "+ / −", "strength", "strength up / down"),
    Hotkey(("F",), "F", "toggle_fullscreen", "fullscreen"),
    Hotkey(("Escape",), "Esc", "escape", "leave fullscreen / cancel a running snapshot"),
    Hotkey(("?", "Shift+/", "F1"), "?", "toggle_help", "show / hide this help"),
)


def markdown_table() -> str:
    """The hotkeys as a Markdown table (for the README)."""
    rows = ["| Key | Action |", "| --- | --- |"]
    rows += [f"| {h.label} | {h.help} |" for h in HOTKEYS]
    return "\n".join(rows)


class HotkeyOverlay(QWidget):
    """A translucent panel over its parent listing :data:`HOTKEYS`; any click or key hides it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.hide()
        parent.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.setGeometry(self.parentWidget().rect())
            self.raise_()
            self.show()

    def mousePressEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt API
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 185))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        p.setFont(font)
        fm = p.fontMetrics()
        line = fm.height() + 8
        key_w = max(fm.horizontalAdvance(h.label) for h in HOTKEYS) + 32
        text_w = max(fm.horizontalAdvance(h.help) for h in HOTKEYS)
        total_h = line * (len(HOTKEYS) + 2)
        x0 = max(16, (self.width() - key_w - text_w) // 2)
        y = max(16, (self.height() - total_h) // 2)
        p.setPen(QColor(255, 255, 255))
        title = QFont(font)
        title.setBold(True)
        p.setFont(title)
        p.drawText(x0, y + fm.ascent(), "Hotkeys")
        p.setFont(font)
        y += line * 2
        for h in HOTKEYS:
            p.setPen(QColor(255, 214, 110))
            p.drawText(x0, y + fm.ascent(), h.label)
            p.setPen(QColor(235, 235, 235))
            p.drawText(x0 + key_w, y + fm.ascent(), h.help)
            y += line
        p.setPen(QColor(160, 160, 160))
        p.drawText(x0, y + line // 2 + fm.ascent(), "press ? or click to close")
        p.end()
