"""Style metadata: what a style file says about itself (ONNX ``metadata_props``).

Keys: ``stylecam.name``, ``stylecam.title``, ``stylecam.artist``, ``stylecam.credit``,
``stylecam.arch``, ``stylecam.precision``, ``stylecam.thumbnail`` (base64 JPEG, long side
<= 128 px), ``stylecam.source_image`` (base64 JPEG, long side <= 512 px),
``stylecam.train_config`` (JSON) and ``stylecam.format`` (contract version).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from stylecam.errors import ImageError, StyleFileError

FORMAT_VERSION = "1"
THUMBNAIL_SIZE = 128
SOURCE_IMAGE_SIZE = 512
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def check_style_name(name: str) -> str:
    """Return ``name`` if it is a valid style name (lower-case letters, digits, ``_``, ``-``)."""
    if not _NAME_RE.match(name):
        raise StyleFileError(
            f"invalid style name {name!r}: use 1-64 lower-case letters, digits, '_' or '-', starting with a letter or digit"
        )
    return name


def encode_jpeg(image_bgr: np.ndarray, *, max_side: int, quality: int = 88) -> bytes:
    """Downscale (never upscale) ``image_bgr`` (H, W, 3) uint8 so its long side <= ``max_side``; JPEG bytes."""
    h, w = image_bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        image_bgr = cv2.resize(image_bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError("could not encode JPEG")
    return buf.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray:
    """JPEG bytes -> (H, W, 3) uint8 BGR."""
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ImageError("embedded image is not a readable JPEG")
    return img


@dataclass(frozen=True)
class StyleInfo:
    """Everything a style file says about itself besides its weights."""

    name: str
    title: str
    arch: str
    artist: str = ""
    credit: str = ""
    precision: str = "fp32"
    thumbnail_jpeg: bytes = b""
    source_jpeg: bytes = b""
    train_config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_style_image(
        cls,
        *,
        name: str,
        style_image_bgr: np.ndarray,
        arch: str,
        title: str = "",
        artist: str = "",
        credit: str = "",
        train_config: dict[str, Any] | None = None,
    ) -> StyleInfo:
        """Build the metadata of a style trained on ``style_image_bgr`` ((H, W, 3) uint8 BGR)."""
        return cls(
            name=check_style_name(name),
            title=title or name.replace("_", " ").title(),
            arch=arch,
            artist=artist,
            credit=credit,
            thumbnail_jpeg=encode_jpeg(style_image_bgr, max_side=THUMBNAIL_SIZE),
            source_jpeg=encode_jpeg(style_image_bgr, max_side=SOURCE_IMAGE_SIZE),
            train_config=dict(train_config or {}),
        )

    def thumbnail(self) -> np.ndarray | None:
        """The thumbnail, (h, w, 3) uint8 BGR, or None if the file has none."""
        return decode_jpeg(self.thumbnail_jpeg) if self.thumbnail_jpeg else None

    def source_image(self) -> np.ndarray | None:
        """The style image the network was trained on (long side <= 512), uint8 BGR, or None."""
        return decode_jpeg(self.source_jpeg) if self.source_jpeg else None

    def to_props(self) -> dict[str, str]:
        """The ``metadata_props`` of the ONNX file."""
        return {
            "stylecam.format": FORMAT_VERSION,
            "stylecam.name": self.name,
            "stylecam.title": self.title,
            "stylecam.artist": self.artist,
            "stylecam.credit": self.credit,
            "stylecam.arch": self.arch,
            "stylecam.precision": self.precision,
            "stylecam.thumbnail": base64.b64encode(self.thumbnail_jpeg).decode("ascii"),
            "stylecam.source_image": base64.b64encode(self.source_jpeg).decode("ascii"),
            "stylecam.train_config": json.dumps(self.train_config, sort_keys=True),
        }

    @classmethod
    def from_props(cls, props: dict[str, str], *, origin: str = "style file") -> StyleInfo:
        """Parse ``metadata_props``; a file without ``stylecam.name`` is not a style."""
        if "stylecam.name" not in props:
            raise StyleFileError(f"{origin} is an ONNX model but not a stylecam style (no stylecam.name metadata)")
        try:
            return cls(
                name=check_style_name(props["stylecam.name"]),
                title=props.get("stylecam.title", props["stylecam.name"]),
                arch=props.get("stylecam.arch", "unknown"),
                artist=props.get("stylecam.artist", ""),
                credit=props.get("stylecam.credit", ""),
                precision=props.get("stylecam.precision", "fp32"),
                thumbnail_jpeg=base64.b64decode(props.get("stylecam.thumbnail", ""), validate=True),
                source_jpeg=base64.b64decode(props.get("stylecam.source_image", ""), validate=True),
                train_config=json.loads(props.get("stylecam.train_config", "{}") or "{}"),
            )
        except (ValueError, TypeError) as exc:
            raise StyleFileError(f"{origin} has malformed stylecam metadata: {exc}") from None
