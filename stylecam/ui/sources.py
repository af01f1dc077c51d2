"""Choosing the source the window opens on (Qt-free logic, kept here because only the window uses it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stylecam.errors import SourceError


def parse_source_spec(text: str | int | None) -> int | str | None:
    """``"2"`` -> camera 2; other strings (``"demo"``, paths) unchanged; None stays None."""
    if text is None or isinstance(text, int):
        return text
    text = text.strip()
    return int(text) if text.isdigit() else text


@dataclass
class OpenedSource:
    source: Any
    """The FrameSource."""
    spec: int | str
    notice: str | None = None


def open_initial_source(
    *,
    requested: int | str | None,
    saved: int | str | None,
    open_source: Callable[..., Any],
    list_cameras: Callable[[], list[int]],
) -> OpenedSource:
    """The source to start on, and a notice for the window when it is not what was asked for.

    An explicitly ``requested`` source (``--source``) that cannot be opened raises SourceError
    (the CLI prints it). A saved one falls back to the first camera, then to the demo clip; no
    camera at all falls back to the demo clip. Files loop; cameras do not.
    """
    def _open(spec: int | str) -> Any:
        return open_source(spec, loop=not isinstance(spec, int))

    if requested is not None:
        return OpenedSource(_open(requested), requested)
    notice = None
    if saved is not None:
        try:
            return OpenedSource(_open(saved), saved)
        except SourceError as exc:
            notice = f"could not reopen the last source ({exc})"
    for index in list_cameras():
        try:
            return OpenedSource(_open(index), index, notice)
        except SourceError:
            continue
    demo_note = "No camera found: showing the demo clip. Plug in a camera and pick it under Source."
    return OpenedSource(_open("demo"), "demo", f"{notice}; {demo_note}" if notice else demo_note)
