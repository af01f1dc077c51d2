"""Start the window: settings, source choice, QApplication, event loop."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stylecam.settings import load_settings


def build_window(
    *,
    source: int | str | None = None,
    style: str | None = None,
    provider: str = "auto",
    cameras: list[int] | None = None,
    **window_options: Any,
) -> Any:
    """The main window, set up as ``stylecam [--source S] [--style N]`` would open it (not shown yet).

    Reads the settings (a broken file gives defaults and a notice in the window), picks the source
    (``source``, else the saved one, else the first camera, else the demo clip with a notice) and
    the style. ``cameras`` skips probing the camera indices. A ``source`` that cannot be opened
    raises SourceError; an unknown ``style`` StyleFileError, before any window exists.
    """
    from stylecam.styles import StyleLibrary
    from stylecam.ui.startup import ensure_app
    from stylecam.ui.sources import open_initial_source, parse_source_spec
    from stylecam.video import list_cameras, open_source

    settings, notice = load_settings()
    library = StyleLibrary()
    if style is not None:
        settings = replace(settings, style=library.get(style).name)
    probed: list[list[int]] = [] if cameras is None else [cameras]

    def cameras_once() -> list[int]:  # probing takes a moment: only once, and only when needed
        if not probed:
            probed.append(list_cameras())
        return probed[0]

    opened = open_initial_source(
        requested=parse_source_spec(source),
        saved=settings.source,
        open_source=open_source,
        list_cameras=cameras_once,
    )
    found = cameras_once()
    ensure_app()
    from stylecam.ui.main_window import MainWindow

    try:
        return MainWindow(
            source=opened.source,
            source_spec=opened.spec,
            settings=settings,
            notices=[n for n in (notice, opened.notice) if n],
            cameras=found,
            provider=provider,
            library=library,
            **window_options,
        )
    except BaseException:
        opened.source.close()
        raise


def run_gui(*, source: int | str | None = None, style: str | None = None, provider: str = "auto") -> int:
    """Open the window and run the Qt event loop; returns its exit status."""
    from stylecam.ui.startup import check_can_open_window, ensure_app

    check_can_open_window()  # a missing display or system library: one line, not Qt's abort
    window = build_window(source=source, style=style, provider=provider)  # bad source/style fail here
    app = ensure_app()
    window.show()
    try:
        return int(app.exec())
    finally:
        window.shutdown()
