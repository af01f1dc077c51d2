"""``stylecam train``: train a style network on a style image and a folder of photos.

The logic lives in :mod:`stylecam.training` (the repository's ``training/``); this module only maps
arguments to a :class:`stylecam.training.config.TrainConfig`. Exit status: 0 done, 1 user error
(one line on stderr), 130 interrupted (checkpoint saved, the message says how to resume).
"""

from __future__ import annotations

import argparse
import sys

from stylecam.errors import StylecamError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train",
        help="train a new style from an image and a folder of photos",
        description=(
            "Train a style network. Presets: quick (fine-tunes the bundled live network, ~15 min on a laptop CPU), "
            "cpu (every weight, ~1 h on a CPU), base (a multi-style network from scratch), lite (the former quick), full (GPU recipe)."
        ),
    )
    p.add_argument("--style", required=True, metavar="IMG", help="the style image (painting)")
    p.add_argument("--more-styles", nargs="+", default=None, metavar="IMG",
                   help="more paintings trained into the same live network (a multi-style base network)")
    p.add_argument("--base", default=None, metavar="FILE",
                   help="live base network to start from: 'bundled' (the quick and cpu presets' default) or a .safetensors file; '' for none")
    p.add_argument("--layout", type=int, default=None, choices=(1, 2, 3, 4, 5, 6),
                   help="live network layout (default: the base's; 5 = no 8 px diagonal mesh, see docs/STYLES.md)")
    p.add_argument("--edge-width", type=int, default=None, metavar="N",
                   help="live network: channels of its first and last stages (default: the base's; a base with fewer is widened)")
    p.add_argument("--tune", default=None, choices=("all", "norms"), help="train every weight, or only the style's gamma/beta (needs --base)")
    p.add_argument("--bf16", default=None, choices=("auto", "on", "off"),
                   help="bfloat16 autocast (default auto: on CUDA and on CPUs with AVX512-BF16/AMX)")
    p.add_argument("--dataset", required=True, metavar="DIR", help="folder of photos (searched recursively)")
    p.add_argument("--name", required=True, help="style name: lower-case letters, digits, _ and -")
    p.add_argument("--arch", default=None, help="network: live, lite or full (default: the preset's)")
    p.add_argument("--preset", default="quick", help="quick, cpu, base or full (default quick)")
    p.add_argument("--size", type=int, help="training crop size in px")
    p.add_argument("--iters", type=int, help="number of optimisation steps")
    p.add_argument("--batch", type=int, help="images per step (per GPU under torchrun)")
    p.add_argument("--lr", type=float, help="Adam learning rate")
    p.add_argument("--content-weight", type=float)
    p.add_argument("--content-layer", default=None, metavar="LAYER", help="VGG16 layer of the content loss (the live presets: relu3_3; lite and full: relu2_2)")
    p.add_argument("--style-weight", type=float)
    p.add_argument("--style-layers", default=None, metavar="L1,L2,...",
                   help="VGG16 layers of the style loss, comma-separated (the live presets: relu1_2,relu2_2,relu3_3)")
    p.add_argument("--tv-weight", type=float)
    p.add_argument("--stability-weight", type=float, help="temporal stability (anti-flicker) weight; 0 turns it off")
    p.add_argument("--lattice-weight", type=float, help="weight against a mesh locked to the network's pixel grid (levels); 0 turns it off")
    p.add_argument("--style-size", type=int, help="long side of the style image in px")
    p.add_argument("--style-detail", type=int, help="finest detail of the painting the style loss asks for, in px (the live presets: 2)")
    p.add_argument("--style-scales", default=None, metavar="S1,S2,...",
                   help="scales the style loss compares picture and painting at, comma-separated (default 1; 1,0.5 asks for strokes that survive a 2x reduction)")
    p.add_argument("--device", default=None, help="auto, cuda or cpu (default auto)")
    p.add_argument("--out", default=None, metavar="DIR", help="where the style files go (default: your styles folder)")
    p.add_argument("--work-dir", default=None, metavar="DIR", help="checkpoints and previews (default OUT/.train/NAME)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in the work dir")
    p.add_argument("--vgg-weights", default=None, metavar="FILE", help="VGG16 weights (.safetensors)")
    p.add_argument("--seed", type=int)
    p.add_argument("--checkpoint-every", type=int, metavar="N")
    p.add_argument("--preview-every", type=int, metavar="N")
    p.add_argument("--log-every", type=int, metavar="N")
    p.add_argument("--workers", type=int, metavar="N", help="data loading processes (0: in the main process)")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads (0: PyTorch's default; 1 is fastest on a busy machine)")
    p.add_argument("--title", default=None)
    p.add_argument("--artist", default=None)
    p.add_argument("--credit", default=None)
    p.add_argument("--progress-format", default="bar", choices=("bar", "json"))
    p.set_defaults(func=main)


def _scales(text: str | None) -> tuple[float, ...] | None:
    """``--style-scales`` "1,0.5" -> (1.0, 0.5); None when not given; StylecamError when not numbers."""
    if text is None:
        return None
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise StylecamError(f"--style-scales needs numbers separated by commas, e.g. 1,0.5 (got {text!r})") from None


def main(args: argparse.Namespace) -> int:
    from stylecam.training.config import preset
    from stylecam.training.progress import BarReporter, JsonReporter
    from stylecam.training.train import TrainingInterrupted, train

    config = preset(
        args.preset,
        style=args.style,
        dataset=args.dataset,
        name=args.name,
        arch=args.arch,
        styles=tuple(args.more_styles) if args.more_styles else None,
        base=args.base,
        tune=args.tune,
        layout=args.layout,
        edge_width=args.edge_width,
        bf16=args.bf16,
        size=args.size,
        iters=args.iters,
        batch=args.batch,
        lr=args.lr,
        content_weight=args.content_weight,
        content_layer=args.content_layer,
        style_weight=args.style_weight,
        style_layers=tuple(x.strip() for x in args.style_layers.split(",")) if args.style_layers is not None else None,
        tv_weight=args.tv_weight,
        stability_weight=args.stability_weight,
        lattice_weight=args.lattice_weight,
        style_size=args.style_size,
        style_detail=args.style_detail,
        style_scales=_scales(args.style_scales),
        device=args.device,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        preview_every=args.preview_every,
        log_every=args.log_every,
        workers=args.workers,
        threads=args.threads,
        title=args.title,
        artist=args.artist,
        credit=args.credit,
    )
    reporter = JsonReporter() if args.progress_format == "json" else BarReporter()
    try:
        train(config, out_dir=args.out, work_dir=args.work_dir, resume=args.resume, vgg_weights=args.vgg_weights, reporter=reporter)
    except TrainingInterrupted as exc:
        print(f"stylecam: {exc}", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:  # last line of defence: never a traceback for a bad input
        raise StylecamError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
    return 0
