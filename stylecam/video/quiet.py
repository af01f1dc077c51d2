"""Keep OpenCV's own log lines (and FFmpeg's) off the terminal: stylecam reports capture trouble in its own words.

Opening a camera index that does not exist makes OpenCV print a warning per backend it tries
(V4L2, FFMPEG, obsensor...), and FFmpeg prints its own lines for a file it cannot parse ("moov
atom not found"); the user should see only stylecam's one-line error. :func:`opencv_quiet`
silences OpenCV's logging while captures and writers are opened or probed (thread-safe,
nestable); FFmpeg's level is read once by OpenCV, so it is set to quiet for the whole process
when this module is imported, before any capture. Setting ``OPENCV_LOG_LEVEL`` (or
``OPENCV_FFMPEG_LOGLEVEL``) in the environment keeps OpenCV's (or FFmpeg's) messages, for debugging.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import cv2

_AV_LOG_QUIET = "-8"
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", _AV_LOG_QUIET)

_lock = threading.Lock()
_depth = 0
_saved_level: int | None = None


@contextmanager
def opencv_quiet() -> Iterator[None]:
    """OpenCV logs nothing inside this block (unless the user set ``OPENCV_LOG_LEVEL``); the level is restored after."""
    global _depth, _saved_level
    if os.environ.get("OPENCV_LOG_LEVEL"):
        yield
        return
    with _lock:
        if _depth == 0:
            _saved_level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved_level is not None:
                cv2.utils.logging.setLogLevel(_saved_level)
