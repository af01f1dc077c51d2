"""Qt start-up: neutralise OpenCV's bundled-Qt environment and create the QApplication once.

opencv-python (the non-headless wheel) sets ``QT_QPA_PLATFORM_PLUGIN_PATH`` (and
``QT_QPA_FONTDIR``) to folders inside ``cv2/qt`` when it is imported. Those plugins are built
against OpenCV's own Qt, not PySide6's: loaded by PySide6 they crash or fail with "could not
load the Qt platform plugin". We drop the variables when they point into cv2, right before the
QApplication is created (cv2 may have been imported at any time before).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_CV2_VARS = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def neutralise_opencv_qt_env() -> list[str]:
    """Remove Qt environment variables that point into the cv2 package; returns the names removed."""
    removed = []
    for var in _CV2_VARS:
        value = os.environ.get(var)
        if value and "cv2" in Path(value).parts:
            del os.environ[var]
            removed.append(var)
    return removed


def check_display() -> None:
    """Raise StylecamError when no window can open (Linux without X11/Wayland), instead of Qt aborting."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        from stylecam.errors import StylecamError

        raise StylecamError(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset): the window needs a desktop session; "
            "use `stylecam run` for a headless live stream"
        )


def ensure_app(argv: list[str] | None = None):  # -> QApplication (import kept lazy for the CLI)
    """The process's QApplication, created on first call with a clean environment."""
    neutralise_opencv_qt_env()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("stylecam")
        app.setApplicationDisplayName("stylecam")
        app.setOrganizationName("stylecam")
    return app
