"""``stylecam bench``: end-to-end frame rate of the live pipeline on this machine."""

from __future__ import annotations

import argparse
import json

from stylecam.commands.run import parse_scale, parse_size
from stylecam.engine import PROVIDER_CHOICES
from stylecam.errors import StylecamError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="measure the live frame rate on this machine")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--style", help="style name or .onnx file to time")
    which.add_argument("--arch", choices=("full", "lite", "live"), help="time an untrained network of this architecture")
    p.add_argument("--size", default="640x480", help="frame size WxH (default 640x480)")
    p.add_argument("--frames", type=int, default=100, help="frames to time (default 100)")
    p.add_argument("--provider", choices=PROVIDER_CHOICES, default="auto")
    p.add_argument(
        "--scale", default="auto",
        help="processing scale in (0, 1], or 'auto' (default: auto, as the window: the largest scale that keeps up, measured now)",
    )
    p.add_argument("--source", choices=("synthetic", "demo"), default="synthetic", help="frames to feed (unpaced)")
    p.add_argument("--no-anchor", dest="anchor", action="store_false", help="time without grid anchoring (on in the window)")
    p.add_argument("--json", action="store_true", help="print one JSON object (fps = end-to-end rate)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from stylecam.bench import run_bench
    from stylecam.styles import StyleLibrary

    width, height = parse_size(args.size)
    if args.frames < 2:
        raise StylecamError(f"--frames must be at least 2 (got {args.frames})")
    scale = parse_scale(args.scale)
    style = StyleLibrary().get(args.style) if args.style else None
    arch = None if style is not None else (args.arch or "live")
    result = run_bench(
        style=style, arch=arch, width=width, height=height, frames=args.frames,
        provider=args.provider, scale=scale, source=args.source, anchor=args.anchor,
    )
    print(json.dumps(result.to_dict()) if args.json else result.report())
    return 0
