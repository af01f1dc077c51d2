"""``stylecam gui`` (and bare ``stylecam``): open the window.

Qt is imported only inside :func:`main` (through :mod:`stylecam.ui`), so listing commands or
running the others never loads it.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "gui",
        help="open the window (what bare `stylecam` does)",
        description="Open the stylecam window: live stylized preview, style gallery, snapshot and dream, "
        "virtual camera, recording. Without --source it reopens the last source, else the first camera, "
        "else the demo clip.",
    )
    p.add_argument("--source", help="camera index (0, 1, ...), video or image file, image folder, or 'demo'")
    p.add_argument("--style", help="style name (see `stylecam styles`) or path to a .onnx style file")
    p.add_argument("--provider", default="auto", help="ONNX Runtime provider: auto, cuda, cpu (default: auto)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from stylecam.ui.app import run_gui

    return run_gui(source=args.source, style=args.style, provider=args.provider)
