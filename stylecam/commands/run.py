"""``stylecam run``: stylize a camera, file or folder, to a recording and/or the virtual camera.

A camera, or anything sent to the virtual camera, runs in real time (the newest frame wins). A
file, folder or image turned into a recording is converted: every frame, in order, as fast as the
machine allows, at the source's frame rate in the output; ``--realtime`` plays it live instead.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np

from stylecam.engine import PROVIDER_CHOICES
from stylecam.errors import StylecamError

STATUS_INTERVAL = 1.0


def parse_size(text: str) -> tuple[int, int]:
    """``640x480`` -> (640, 480); StylecamError unless both are integers >= 32."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise StylecamError(f"size must look like 640x480 (got {text!r})") from None
    if w < 32 or h < 32:
        raise StylecamError(f"size must be at least 32x32 (got {text})")
    return w, h


def parse_scale(text: str) -> float | None:
    """``auto`` -> None, else a float in (0, 1]; StylecamError otherwise."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise StylecamError(f"--scale must be a number in (0, 1] or 'auto' (got {text!r})") from None
    if not 0 < value <= 1:
        raise StylecamError(f"--scale must be in (0, 1] or 'auto' (got {text})")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="stylize a camera or file without the window")
    p.add_argument("--source", default="0", help="camera index, video/image file, image folder or 'demo' (default 0)")
    p.add_argument("--style", required=True, help="style name (see `stylecam styles`) or .onnx file")
    p.add_argument("--output", help="record the stylized video to this .mp4 file")
    p.add_argument("--virtual-camera", action="store_true", help="send the stylized video to a virtual camera")
    p.add_argument("--scale", default="auto", help="processing scale in (0, 1], or 'auto' (default: auto, as the window)")
    p.add_argument("--strength", type=float, default=1.0, help="0 = original .. 1 = fully stylized (default 1)")
    p.add_argument("--preserve-colors", action="store_true", help="keep the original colours")
    p.add_argument("--mirror", action="store_true", help="flip left-right")
    p.add_argument("--no-anchor", dest="anchor", action="store_false",
                   help="do not hold the scene on the network's grid while the camera pans (strokes then shimmer)")
    p.add_argument("--max-frames", type=int, help="stop after this many output frames")
    p.add_argument("--provider", choices=PROVIDER_CHOICES, default="auto")
    p.add_argument("--loop", action="store_true", help="loop video files and image folders")
    p.add_argument("--realtime", action="store_true",
                   help="play a file source at its frame rate and drop the frames the stylizer cannot keep up with "
                        "(default for cameras and the virtual camera; files to a recording keep every frame)")  # fmt: skip
    p.add_argument("--size", help="camera resolution to ask for, WxH (default: the camera's)")
    p.set_defaults(func=main)


class _FirstFrames:
    """Pass the first ``limit`` frames (None = all) on to ``sink``; close it on close."""

    def __init__(self, sink: object, limit: int | None) -> None:
        self.sink = sink
        self.limit = limit
        self.count = 0

    def write(self, frame: np.ndarray) -> None:
        if self.limit is None or self.count < self.limit:
            self.count += 1
            self.sink.write(frame)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.sink.close()  # type: ignore[attr-defined]


def main(args: argparse.Namespace) -> int:
    from stylecam.pipeline import Pipeline, PipelineEvent
    from stylecam.processing import FrameOptions
    from stylecam.sinks import CallbackSink, Mp4Recorder, VirtualCameraSink
    from stylecam.styles import StyleLibrary
    from stylecam.video import open_source

    scale = parse_scale(args.scale)
    if not 0 <= args.strength <= 1:
        raise StylecamError(f"--strength must be between 0 and 1 (got {args.strength:g})")
    if args.max_frames is not None and args.max_frames < 1:
        raise StylecamError(f"--max-frames must be at least 1 (got {args.max_frames})")
    size = parse_size(args.size) if args.size else (None, None)
    options = FrameOptions(scale=scale, strength=args.strength, preserve_colors=args.preserve_colors, mirror=args.mirror,
                           anchor=args.anchor)
    style = StyleLibrary().get(args.style)

    source = open_source(args.source, width=size[0], height=size[1], loop=args.loop)
    realtime = args.realtime or args.virtual_camera  # something watches it live
    sinks: list[object] = []
    try:
        if not realtime and source.recorded and source.endless and args.max_frames is None:
            raise StylecamError(
                f"{source.name} never ends (a single image, or --loop): give --max-frames N, or --realtime to run until Ctrl-C"
            )
        if args.output:
            sinks.append(_FirstFrames(Mp4Recorder(args.output, fps=source.fps, size=source.size), args.max_frames))
        if args.virtual_camera:
            w, h = source.size
            sinks.append(_FirstFrames(VirtualCameraSink(width=w, height=h, fps=source.fps), args.max_frames))
    except BaseException:
        for s in sinks:
            s.close()  # type: ignore[attr-defined]
        source.close()
        raise

    done = threading.Event()
    fatal: list[str] = []
    produced = [0]

    def count(_frame: np.ndarray) -> None:
        produced[0] += 1
        if args.max_frames is not None and produced[0] >= args.max_frames:
            done.set()

    def on_event(ev: PipelineEvent) -> None:
        if ev.kind in ("style_error", "sink_error"):  # without its style or its output, `run` has nothing to do
            fatal.append(ev.message)
            done.set()
        elif ev.kind == "style_loaded":
            print(f"stylecam: {ev.message}", file=sys.stderr)
        elif ev.kind == "source_ended":
            done.set()
        else:
            print(f"stylecam: {ev.message}", file=sys.stderr)

    pipe = Pipeline(
        source=source, style=style, options=options, provider=args.provider, realtime=realtime,
        sinks=[CallbackSink(count), *sinks], on_event=on_event,  # type: ignore[list-item]
    )
    try:
        pipe.start()
        last = time.monotonic()
        while not done.wait(0.1):
            if time.monotonic() - last >= STATUS_INTERVAL:
                last = time.monotonic()
                print(f"stylecam: {pipe.stats().line()}", file=sys.stderr)
    finally:
        pipe.stop()  # finalises the recording, also on Ctrl-C
    print(f"stylecam: {pipe.stats().line()}", file=sys.stderr)
    if fatal:
        raise StylecamError(fatal[0])
    if args.output:
        print(f"stylecam: recorded {min(produced[0], args.max_frames or produced[0])} frames to {args.output}", file=sys.stderr)
    return 0

