"""numpy frames <-> Qt images."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """(H, W, 3) uint8 BGR -> a QImage that owns a copy of the pixels (safe after ``image`` changes)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} {image.dtype}")
    img = np.ascontiguousarray(image)
    h, w = img.shape[:2]
    qimg = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_BGR888)
    return qimg.copy()


def bgr_to_pixmap(image: np.ndarray) -> QPixmap:
    """(H, W, 3) uint8 BGR -> QPixmap."""
    return QPixmap.fromImage(bgr_to_qimage(image))


def qimage_to_bgr(qimg: QImage) -> np.ndarray:
    """Any QImage -> (H, W, 3) uint8 BGR (a copy)."""
    conv = qimg.convertToFormat(QImage.Format.Format_BGR888)
    h, w, bpl = conv.height(), conv.width(), conv.bytesPerLine()
    buf = np.frombuffer(conv.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
