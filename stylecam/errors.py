"""User-facing errors.

Every error a user can cause (bad file, bad argument, missing camera, missing backend) is a
:class:`StylecamError` whose ``str()`` is one line that says what went wrong and, where possible,
what to do. The CLI prints it as ``stylecam: error: <message>`` and exits non-zero; the window
shows it in a message. Anything else escaping is a bug.
"""

from __future__ import annotations


class StylecamError(Exception):
    """Base class of errors with a one-line, user-facing message."""


class StyleFileError(StylecamError):
    """A style file is missing, corrupt, truncated or not a stylecam style."""


class SourceError(StylecamError):
    """A frame source cannot be opened or has failed for good."""


class SinkError(StylecamError):
    """A sink (virtual camera, recorder) cannot be opened or written."""


class ProviderError(StylecamError):
    """The requested ONNX Runtime execution provider is not available."""


class WeightsError(StylecamError):
    """Perceptual-network weights are missing or malformed."""


class ImageError(StylecamError):
    """An image cannot be read or written."""
