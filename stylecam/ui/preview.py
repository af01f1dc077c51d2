"""The preview: a frame drawn aspect-correct and HiDPI-sharp, optionally split before/after."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from stylecam.ui.convert import bgr_to_qimage


def fit_rect(image_w: int, image_h: int, area: QRectF) -> QRectF:
    """The largest rectangle of the image's aspect ratio centred in ``area``."""
    if image_w <= 0 or image_h <= 0 or area.width() <= 0 or area.height() <= 0:
        return QRectF()
    s = min(area.width() / image_w, area.height() / image_h)
    w, h = image_w * s, image_h * s
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


class PreviewView(QWidget):
    """Shows one (H, W, 3) uint8 BGR frame letterboxed in the widget.

    The painter draws straight into device pixels (it maps the logical target rectangle through
    the device pixel ratio), so on HiDPI screens the frame is sampled at the screen's real
    resolution instead of being drawn at logical size and upscaled. With :meth:`set_compare`
    the left part (up to the split fraction) shows ``image`` and the right part ``compare``.
    """

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "") -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._compare: QImage | None = None
        self._split = 0.5
        self.placeholder = placeholder
        self.frames_shown = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(960, 540)

    def set_frame(self, image: np.ndarray | None) -> None:
        """Show ``image`` ((H, W, 3) uint8 BGR) or clear it (None)."""
        self._image = None if image is None else bgr_to_qimage(image)
        self.frames_shown += image is not None
        self.update()

    def set_compare(self, before: np.ndarray | None, *, split: float | None = None) -> None:
        """Show ``before`` right of the split line (None turns the comparison off)."""
        self._compare = None if before is None else bgr_to_qimage(before)
        if split is not None:
            self.set_split(split)
        self.update()

    def set_split(self, fraction: float) -> None:
        """Where the before/after line sits, 0.0 (all before) to 1.0 (all after)."""
        self._split = min(1.0, max(0.0, float(fraction)))
        self.update()

    @property
    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRectF:
        """Where the frame is drawn, in logical pixels (empty when there is none)."""
        if self._image is None:
            return QRectF()
        return fit_rect(self._image.width(), self._image.height(), QRectF(self.rect()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(18, 18, 20))
        if self._image is None:
            if self.placeholder:
                p.setPen(QColor(170, 170, 170))
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        target = self.image_rect()
        if self._compare is None:
            p.drawImage(target, self._image)
        else:
            x = target.x() + target.width() * self._split
            left = QRectF(target.x(), target.y(), x - target.x(), target.height())
            right = QRectF(x, target.y(), target.right() - x, target.height())
            iw, cw = self._image.width(), self._compare.width()
            p.drawImage(left, self._image, QRectF(0, 0, iw * self._split, self._image.height()))
            p.drawImage(right, self._compare, QRectF(cw * self._split, 0, cw * (1 - self._split), self._compare.height()))
            p.setPen(QPen(QColor(255, 255, 255, 220), 2))
            p.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
        p.end()
