"""The window's per-user settings: a small JSON file, validated field by field.

``<user_config_dir>/settings.json`` holds the last style, the source, strength, processing
scale, the toggles, the trainer's dataset folder and the window geometry. It is written
atomically; a missing file means defaults, and a broken one (bad JSON, wrong types, values out
of range) falls back to defaults for what is broken and says so in a one-line notice that the
window shows. Qt-free so it can be tested without a display.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from stylecam.atomic import atomic_write_bytes

SETTINGS_VERSION = 1
STRENGTH_STEP = 0.1
SCALE_CHOICES: tuple[float, ...] = (1.0, 0.75, 0.5, 0.35, 0.25)
"""Fixed processing scales offered in the window (None means auto)."""


def settings_path() -> Path:
    """``<user_config_dir>/settings.json`` (honours ``$STYLECAM_CONFIG_DIR``)."""
    from stylecam.paths import user_config_dir

    return user_config_dir() / "settings.json"


@dataclass(frozen=True)
class Settings:
    """What the window remembers between runs."""

    style: str | None = None
    """Last style name; None = unstylized feed."""
    source: str | int | None = None
    """Camera index (int), ``"demo"`` or a path to a video, image or folder; None = first camera."""
    strength: float = 1.0
    """Blend of stylized over original, 0.0-1.0."""
    scale: float | None = None
    """Processing scale in (0, 1]; None = auto."""
    preserve_colors: bool = False
    mirror: bool = False
    anchor: bool = True
    """Grid anchoring (:mod:`stylecam.anchor`): strokes held on the scene while the camera pans."""
    dataset_dir: str | None = None
    """Photo folder the "New style" dialog trains on."""
    geometry: str | None = None
    """Window geometry as base64 (Qt's saveGeometry), opaque here."""
    recent_files: tuple[str, ...] = field(default_factory=tuple)

    def with_strength_step(self, steps: int) -> Settings:
        """Strength moved by ``steps`` x 0.1, clamped to [0, 1] and rounded to the step."""
        value = min(1.0, max(0.0, round(self.strength + steps * STRENGTH_STEP, 2)))
        return replace(self, strength=value)

    def to_json(self) -> str:
        data: dict[str, Any] = {"version": SETTINGS_VERSION, **asdict(self)}
        data["recent_files"] = list(self.recent_files)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _check_field(name: str, value: Any) -> tuple[Any, bool]:
    """(cleaned value, ok) for one field read from JSON."""
    if name in ("style", "dataset_dir", "geometry"):
        return value, value is None or (isinstance(value, str) and value != "")
    if name == "source":
        if value is None or (isinstance(value, str) and value):
            return value, True
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value, True
        return None, False
    if name == "strength":
        return (float(value), True) if _is_number(value) and 0.0 <= value <= 1.0 else (None, False)
    if name == "scale":
        if value is None:
            return None, True
        return (float(value), True) if _is_number(value) and 0.0 < value <= 1.0 else (None, False)
    if name in ("preserve_colors", "mirror", "anchor"):
        return value, isinstance(value, bool)
    if name == "recent_files":
        ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        return (tuple(value[:10]), True) if ok else (None, False)
    return None, False  # pragma: no cover - every field is handled above


def parse_settings(text: str, *, origin: str = "settings.json") -> tuple[Settings, str | None]:
    """Settings from JSON text, plus a one-line notice when something had to be reset (else None).

    Unknown keys are ignored (a newer version may add some); each invalid field falls back to
    its default on its own, so one bad value does not lose the rest.
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Settings(), f"{origin} is not valid JSON (line {getattr(exc, 'lineno', '?')}); using default settings"
    if not isinstance(data, dict):
        return Settings(), f"{origin} does not hold a JSON object; using default settings"
    values: dict[str, Any] = {}
    bad: list[str] = []
    for f in fields(Settings):
        if f.name not in data:
            continue
        cleaned, ok = _check_field(f.name, data[f.name])
        if ok:
            values[f.name] = cleaned
        else:
            bad.append(f.name)
    notice = None
    if bad:
        notice = f"{origin} had invalid values for {', '.join(bad)}; those were reset to defaults"
    return Settings(**values), notice


def load_settings(path: str | os.PathLike[str] | None = None) -> tuple[Settings, str | None]:
    """Read the settings file; defaults (and no notice) when it does not exist.

    Never raises for a broken file: it returns defaults and a one-line notice instead.
    """
    p = Path(path) if path is not None else settings_path()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        return Settings(), f"could not read {p} ({exc.strerror or type(exc).__name__}); using default settings"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Settings(), f"{p.name} is not UTF-8 text; using default settings"
    return parse_settings(text, origin=p.name)


def save_settings(settings: Settings, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``settings`` atomically as JSON; returns the path written."""
    p = Path(path) if path is not None else settings_path()
    atomic_write_bytes(p, settings.to_json().encode("utf-8"))
    return p
