"""``stylecam snapshot gatys|dream``: Gatys style transfer or DeepDream on one image, to a file."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stylecam.imageio import read_image, write_image
from stylecam.snapshot import DreamConfig, GatysConfig, PerceptualSource, Progress, SnapshotError, dream, gatys

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def _float_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content", required=True, metavar="IMG", help="the image to transform")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output image (.png or .jpg)")
    p.add_argument("--steps", type=int, help="optimisation steps (gatys: the most over all scales, default automatic: 145 coarse to fine "
                   "from 512 px, 300 on one scale below; dream: per octave)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                   help="VGG16 under bf16 autocast (auto: where this CPU or GPU is fast at it)")
    p.add_argument("--vgg-weights", metavar="FILE", help="VGG16 weights (.safetensors); default: $STYLECAM_VGG_WEIGHTS or download")
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("snapshot", help="Gatys style transfer or DeepDream on a single image")
    modes = p.add_subparsers(dest="mode", metavar="MODE", required=True)
    g = modes.add_parser("gatys", help="slow, high-quality style transfer by optimisation (Gatys et al.)")
    _common(g)
    g.add_argument("--style", action="append", required=True, metavar="IMG|NAME|FILE.onnx",
                   help="style image, or a style name / .onnx file (its embedded source image); repeat to blend")
    g.add_argument("--style-weights", type=_float_list, metavar="W1,W2", help="blend weights, one per --style")
    g.add_argument("--size", type=int, default=GatysConfig.size, help="long side of the result in px (default %(default)s)")
    g.add_argument("--scales", type=int, default=GatysConfig.scales, help="coarse-to-fine scales; 0 (default): from --size, coarsest 256-511 px")
    g.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    g.add_argument("--preserve-colors", nargs="?", const="luminance", default="none", choices=["none", "luminance", "histogram"],
                   help="keep the content's colours (bare flag: luminance)")
    g.add_argument("--init", choices=["content", "noise", "image"],
                   help="start from the content (default), noise, or --init-image (the default when it is given)")
    g.add_argument("--init-image", metavar="IMG", help="start from this image, e.g. the photo through a live style; the content stays the target")
    g.add_argument("--stop-tolerance", type=float, default=GatysConfig.stop_tolerance,
                   help="stop a scale when its objective improved by less than this (relative) over --stop-window steps (default %(default)s)")
    g.add_argument("--stop-window", type=int, default=GatysConfig.stop_window, help="steps of the plateau test (default automatic: 10 coarse to fine, 50 on one scale)")
    g.add_argument("--no-early-stop", action="store_true", help="run every scale's full share of --steps")
    g.add_argument("--content-weight", type=float, default=GatysConfig.content_weight)
    g.add_argument("--style-weight", type=float, default=GatysConfig.style_weight)
    g.add_argument("--tv-weight", type=float, default=GatysConfig.tv_weight)
    g.add_argument("--style-scale", type=float, default=GatysConfig.style_scale, help="style size relative to the output")
    g.set_defaults(func=main)
    d = modes.add_parser("dream", help="DeepDream: amplify what a VGG16 layer sees")
    _common(d)
    d.add_argument("--layer", default=DreamConfig.layer, help="VGG16 layer, e.g. relu3_3, relu4_3, relu5_2 (default %(default)s)")
    d.add_argument("--octaves", type=int, default=DreamConfig.octaves)
    d.add_argument("--octave-scale", type=float, default=DreamConfig.octave_scale)
    d.add_argument("--step-size", type=float, default=DreamConfig.step_size)
    d.add_argument("--jitter", type=int, default=DreamConfig.jitter)
    d.add_argument("--channels", type=_int_list, metavar="1,2,3", help="only these channels of the layer")
    d.add_argument("--guide", metavar="IMG", help="guide image: dream its motifs")
    d.add_argument("--guide-weight", type=float, default=DreamConfig.guide_weight)
    d.add_argument("--max-size", type=int, default=DreamConfig.max_size, help="long side cap in px (default %(default)s)")
    d.set_defaults(func=main)


def load_style_image(spec: str) -> np.ndarray:
    """An image file, or a style (name or .onnx path) whose embedded source image is used; uint8 BGR."""
    path = Path(spec)
    if path.suffix.lower() in _IMAGE_SUFFIXES:
        return read_image(path)
    from stylecam.styles import StyleLibrary

    style = StyleLibrary().get(spec)
    image = style.info.source_image()
    if image is None:
        raise SnapshotError(f"style {style.name!r} has no embedded source image to use as a Gatys style")
    return image


def _init_choice(init: str | None, init_image: str | None) -> str:
    """The Gatys init for ``--init`` and ``--init-image`` (given alone, it implies ``--init image``)."""
    if init is None:
        return "image" if init_image else "content"
    if init == "image" and not init_image:
        raise SnapshotError("--init image needs --init-image IMG")
    if init != "image" and init_image:
        raise SnapshotError(f"--init-image is only used with --init image (got --init {init})")
    return init


class _Bar:
    """tqdm progress bar fed by :class:`Progress` reports."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        self.stopped = ""
        """Why the run ended (from the final report)."""

    def __call__(self, p: Progress) -> None:
        self.stopped = p.stopped or self.stopped
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            class _Tqdm(tqdm):  # type: ignore[type-arg]
                monitor_interval = 0  # no monitor thread: we refresh on every report anyway

            self.bar = _Tqdm(total=p.total, unit="step", dynamic_ncols=True)
        self.bar.n = p.step
        self.bar.set_description(p.stage, refresh=False)
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in p.losses.items()}, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def main(args: argparse.Namespace) -> int:
    if Path(args.output).suffix.lower() not in _IMAGE_SUFFIXES:
        raise SnapshotError(f"cannot write {args.output!r}: use an image suffix such as .png or .jpg")
    content = read_image(args.content)
    source = PerceptualSource.from_weights(args.vgg_weights)
    bar = _Bar(args.quiet)
    try:
        if args.mode == "gatys":
            init = _init_choice(args.init, args.init_image)
            config = GatysConfig(
                size=args.size, steps=args.steps if args.steps is not None else GatysConfig.steps, scales=args.scales,
                optimizer=args.optimizer, content_weight=args.content_weight, style_weight=args.style_weight,
                tv_weight=args.tv_weight, style_scale=args.style_scale, init=init,
                preserve_colors=args.preserve_colors, seed=args.seed, bf16=args.bf16,
                stop_tolerance=0.0 if args.no_early_stop else args.stop_tolerance, stop_window=args.stop_window,
            )  # fmt: skip
            styles = [load_style_image(s) for s in args.style]
            if args.style_weights is not None and len(args.style_weights) != len(styles):
                raise SnapshotError(f"--style-weights has {len(args.style_weights)} values for {len(styles)} --style options")
            init_image = read_image(args.init_image) if args.init_image else None
            result = gatys(content, styles, config=config, style_weights=args.style_weights, init_image=init_image,
                           perceptual=source, device=args.device, progress=bar)  # fmt: skip
        else:
            guide = read_image(args.guide) if args.guide else None
            dconfig = DreamConfig(
                layer=args.layer, octaves=args.octaves, octave_scale=args.octave_scale,
                steps=args.steps if args.steps is not None else DreamConfig.steps, step_size=args.step_size,
                jitter=args.jitter, channels=args.channels, guide_weight=args.guide_weight,
                max_size=args.max_size, seed=args.seed, bf16=args.bf16,
            )  # fmt: skip
            result = dream(content, config=dconfig, guide=guide, perceptual=source, device=args.device, progress=bar)
    finally:
        bar.close()
    out = write_image(args.output, result)
    why = f"; {bar.stopped}" if bar.stopped else ""
    print(f"wrote {out} ({result.shape[1]}x{result.shape[0]}{why})")
    return 0

