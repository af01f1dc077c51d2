"""The OpenCV build stylecam depends on (opencv-python-headless): video I/O without a GUI module or a Qt of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import cv2
import pytest
from cv2 import videoio_registry


def test_importing_cv2_leaves_qt_alone() -> None:
    """opencv-python (not headless) bundles Qt 5 and points QT_QPA_PLATFORM_PLUGIN_PATH at it on import,
    which breaks PySide6's QApplication; the headless build must touch no Qt variable."""
    code = textwrap.dedent(
        """
        import os
        before = dict(os.environ)
        import cv2
        print(sorted(k for k, v in os.environ.items() if k.startswith("QT_") and before.get(k) != v))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    assert out.stdout.strip() == "[]", (
        f"importing cv2 set {out.stdout.strip()}: the non-headless opencv-python is installed; "
        "`pip uninstall opencv-python opencv-python-headless && pip install opencv-python-headless`"
    )
    assert re.search(r"^\s*GUI:\s+NONE\s*$", cv2.getBuildInformation(), re.M)


def test_opencv_captures_cameras_and_reads_and_writes_video() -> None:
    names = {videoio_registry.getBackendName(b) for b in videoio_registry.getCameraBackends()}
    if sys.platform.startswith("linux"):
        assert "V4L2" in names  # cameras by index go through V4L2
    assert "FFMPEG" in {videoio_registry.getBackendName(b) for b in videoio_registry.getStreamBackends()}
    assert "FFMPEG" in {videoio_registry.getBackendName(b) for b in videoio_registry.getWriterBackends()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="V4L2 is Linux's camera interface")
def test_v4l2_capture_is_compiled_in() -> None:
    info = cv2.getBuildInformation()
    video_io = info[info.index("Video I/O:") :]
    assert re.search(r"v4l/v4l2:\s+YES", video_io) and re.search(r"FFMPEG:\s+YES", video_io)
