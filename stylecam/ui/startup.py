"""Qt start-up: whether a window can open here (a display, the platform plugin's system libraries), and the QApplication.

The checks run before the QApplication exists, so that a missing display or library is one line
from stylecam instead of Qt's abort and core dump.
"""

from __future__ import annotations

import os
import sys

from stylecam.errors import StylecamError


def check_display() -> None:
    """Raise StylecamError when no window can open (Linux without X11/Wayland), instead of Qt aborting."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise StylecamError(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset): the window needs a desktop session; "
            "use `stylecam run` for a headless live stream"
        )


def qt_platform() -> str | None:
    """The platform plugin Qt will load and that needs system libraries: ``xcb``, or ``wayland`` when asked for by name.

    None where there is nothing to check: not Linux, or a platform without system needs
    (``offscreen``, ``minimal``...), or a Wayland session where Qt picks its Wayland plugin itself
    (and falls back to xcb on its own).
    """
    if not sys.platform.startswith("linux"):
        return None
    requested = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        first = requested.split(";")[0].split(":")[0].strip()
        return first if first in ("xcb", "wayland", "wayland-egl") else None
    if os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return None
    return "xcb"


def check_platform_libraries() -> None:
    """Raise StylecamError naming the system libraries (and Debian/Ubuntu packages) that Qt's platform plugin lacks."""
    from stylecam.ui import syslibs

    platform = qt_platform()
    plugin = syslibs.platform_plugin(platform) if platform else None
    if plugin is None:
        return
    missing = syslibs.missing_libraries(plugin)
    if missing:
        packages = sorted({syslibs.debian_package(m) for m in missing})
        raise StylecamError(
            f"the window cannot open: Qt's {platform} platform plugin needs {', '.join(missing)}, missing on this "
            f"system; on Debian/Ubuntu install them with: sudo apt install {' '.join(packages)}"
        )


def check_can_open_window() -> None:
    """Both checks above: a display, and the libraries of the platform plugin."""
    check_display()
    check_platform_libraries()


def ensure_app(argv: list[str] | None = None):  # -> QApplication (import kept lazy for the CLI)
    """The process's QApplication, created on first call."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("stylecam")
        app.setApplicationDisplayName("stylecam")
        app.setOrganizationName("stylecam")
    return app
