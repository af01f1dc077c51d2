"""Gatys: stylecam's coarse-to-fine optimiser against the PyTorch neural-style tutorial's algorithm.

The reference is the algorithm the official tutorial (advanced_source/neural_style_tutorial.py)
describes, re-implemented here from its description: one scale, the image initialised from the
content, ``torch.optim.LBFGS`` with default settings, the image clamped to the valid range at
the start of every closure, and ``steps`` closure evaluations (the tutorial's ``num_steps=300``),
in float32. It uses the SAME VGG16 weights, layers and loss weights as ours (the tutorial itself
uses VGG19 and 0-1 images; here everything is 0-255, which VGGFeatures takes), and no TV term.

Ours runs in up to three variants (``--variants``):

- ``default``: the library defaults (``GatysConfig()`` at ``--size``: early stop, bf16 auto,
  start from the photo);
- ``live``: the same, started from the live frame, i.e. the content run through a bundled style
  network (``--live-style``, e.g. ``starry_night``; ``stylecam.engine.load_engine(..., provider="cpu")``),
  as the window does when the snapshot's style is the live style;
- ``old``: the previous defaults (240 steps, no early stop, float32).

Every result is measured with the same float32 VGG16 features at the output size:
content distance = MSE of the content layer's features to the content's; style distance = sum
over the style layers of the MSE between Gram matrices (normalised by C*H*W) and the style's;
objective = content_weight * content + style_weight * style.

The reference is expensive (~17 min at 512 px on 2 cores): ``--only reference --json ref.json``
measures it once, ``--only ours --reference-json ref.json`` compares against it later (the inputs
and size must match; they are checked).

Usage (the figures in docs/SNAPSHOT.md come from these):
    .venv/bin/python benchmarks/gatys_vs_tutorial.py --size 512 --threads 2 --only reference --json docs/gatys_512_ref.json
    .venv/bin/python benchmarks/gatys_vs_tutorial.py --size 512 --threads 2 --only ours --live-style starry_night \\
        --reference-json docs/gatys_512_ref.json --out docs --json docs/gatys_512_cpu.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylecam.imageio import read_image, write_image
from stylecam.perceptual import VGGFeatures
from stylecam.snapshot import GatysConfig, PerceptualSource, Progress, gatys
from stylecam.snapshot.common import fit_long_side, resize_bgr, to_image, to_tensor
from stylecam.snapshot.gatys import scale_plan

SHARED = Path(__file__).resolve().parents[2] / "shared"
VARIANTS = ("default", "live", "old")
OLD_DEFAULTS = {"steps": 240, "stop_tolerance": 0.0, "bf16": "off"}
"""The library defaults before issue 12."""


def gram(f: torch.Tensor) -> torch.Tensor:
    """Gram matrix of (1, C, H, W) features divided by the number of elements (the tutorial's)."""
    _, c, h, w = f.shape
    m = f.reshape(c, h * w)
    return (m @ m.t()) / (c * h * w)


def reference(content: np.ndarray, style: np.ndarray, vgg: VGGFeatures, cfg: GatysConfig, steps: int) -> np.ndarray:
    """The tutorial's algorithm: single scale, default L-BFGS, clamp in the closure, ``steps`` evaluations."""
    dev = torch.device("cpu")
    target_c = to_tensor(content, dev)
    with torch.no_grad():
        c_feat = vgg(target_c)[cfg.content_layer].detach()
        s_feats = vgg(to_tensor(style, dev))
        s_grams = {layer: gram(s_feats[layer]).detach() for layer in cfg.style_layers}
    image = target_c.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([image])
    run = [0]
    while run[0] < steps:

        def closure() -> torch.Tensor:
            with torch.no_grad():
                image.clamp_(0, 255)
            optimizer.zero_grad()
            feats = vgg(image)
            content_score = torch.nn.functional.mse_loss(feats[cfg.content_layer], c_feat)
            style_score = sum(torch.nn.functional.mse_loss(gram(feats[la]), s_grams[la]) for la in cfg.style_layers)
            loss = cfg.content_weight * content_score + cfg.style_weight * style_score
            loss.backward()
            run[0] += 1
            if run[0] % 25 == 0:
                print(f"  reference evaluation {run[0]}/{steps}: objective {float(loss.detach()):.4g}", flush=True)
            return loss

        optimizer.step(closure)
    with torch.no_grad():
        image.clamp_(0, 255)
    return to_image(image)


def distances(image: np.ndarray, content: np.ndarray, style: np.ndarray, vgg: VGGFeatures, cfg: GatysConfig) -> dict[str, float]:
    """Content, style and weighted objective of ``image`` (uint8 BGR) under float32 VGG16 features."""
    dev = torch.device("cpu")
    with torch.no_grad():
        fi, fc, fs = vgg(to_tensor(image, dev)), vgg(to_tensor(content, dev)), vgg(to_tensor(style, dev))
        c = float(torch.nn.functional.mse_loss(fi[cfg.content_layer], fc[cfg.content_layer]))
        s = float(sum(torch.nn.functional.mse_loss(gram(fi[la]), gram(fs[la])) for la in cfg.style_layers))
    return {"content": c, "style": s, "objective": cfg.content_weight * c + cfg.style_weight * s}


def live_frame(content: np.ndarray, style_name: str) -> np.ndarray:
    """``content`` (uint8 BGR) through the bundled live style ``style_name`` on the CPU, as the window shows it."""
    from stylecam.engine import load_engine
    from stylecam.styles import StyleLibrary

    return load_engine(StyleLibrary().get(style_name), provider="cpu").run(content)


def variant_config(name: str, size: int) -> GatysConfig:
    """The GatysConfig of variant ``name`` (see the module docstring) at ``size``."""
    base = GatysConfig(size=size)
    if name == "old":
        return replace(base, **OLD_DEFAULTS)  # type: ignore[arg-type]
    return replace(base, init="image") if name == "live" else base


def run_ours(name: str, content: np.ndarray, style: np.ndarray, init: np.ndarray | None, source: PerceptualSource,
             size: int) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
    """One variant of ours: (result, {seconds, evaluations, stopped, plan}); prints progress every 25 steps."""
    config = variant_config(name, size)
    final: list[Progress] = []

    def report(p: Progress) -> None:
        if p.stopped:
            final.append(p)
        elif p.evaluations % 25 == 0:
            print(f"  {name} step {p.evaluations} {p.stage}: objective {p.losses.get('total', 0):.4g}", flush=True)

    t0 = time.perf_counter()
    image = gatys(content, [style], config=config, init_image=init if name == "live" else None, perceptual=source,
                  device="cpu", progress=report)  # fmt: skip
    seconds = time.perf_counter() - t0
    plan = [list(p) for p in scale_plan(*content.shape[:2], config)]
    return image, {"seconds": seconds, "evaluations": final[-1].evaluations, "stopped": final[-1].stopped, "plan": plan}


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--ref-steps", type=int, default=300)
    ap.add_argument("--only", choices=["both", "reference", "ours"], default="both", help="run only the reference or only ours")
    ap.add_argument("--reference-json", default="", help="with --only ours: the reference figures of an earlier --only reference --json run")
    ap.add_argument("--variants", default="", help=f"ours to run, comma-separated from {','.join(VARIANTS)} "
                    "(default: default, plus live with --live-style)")  # fmt: skip
    ap.add_argument("--live-style", default="", metavar="NAME", help="bundled style that paints the live frame for the 'live' variant")
    ap.add_argument("--json", default="", help="write the figures to this JSON file")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--out", default="", help="folder for snapshot_gatys_<run>.jpg")
    args = ap.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()] or (["default", "live"] if args.live_style else ["default"])
    bad = [v for v in names if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant {bad[0]!r} (choose from {', '.join(VARIANTS)})")
    if "live" in names and not args.live_style:
        ap.error("the 'live' variant needs --live-style NAME (a bundled style, e.g. starry_night)")
    if args.reference_json and args.only != "ours":
        ap.error("--reference-json goes with --only ours")
    args.names = names if args.only != "reference" else []
    return args


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GatysConfig(size=args.size)
    source = PerceptualSource.from_weights(args.vgg_weights)
    content_raw, style_raw = read_image(args.content), read_image(args.style)
    h, w = fit_long_side(*content_raw.shape[:2], args.size)
    content = resize_bgr(content_raw, h, w)
    sh, sw = fit_long_side(*style_raw.shape[:2], round(cfg.style_scale * args.size))
    style = resize_bgr(style_raw, sh, sw)
    vgg = source.features([cfg.content_layer, *cfg.style_layers], torch.device("cpu"))
    inputs = {"content": Path(args.content).name, "style": Path(args.style).name, "size": [w, h]}
    print(f"content {w}x{h}, style {sw}x{sh}, torch threads {torch.get_num_threads()}", flush=True)

    rows: dict[str, dict[str, Any]] = {}
    images: dict[str, np.ndarray] = {}
    if args.only != "ours":
        t0 = time.perf_counter()
        images["reference"] = reference(content, style, vgg, cfg, args.ref_steps)
        rows["reference"] = {"seconds": time.perf_counter() - t0, "evaluations": args.ref_steps, "stopped": "fixed steps"}
    elif args.reference_json:
        earlier = json.loads(Path(args.reference_json).read_text())
        if earlier.get("inputs") != inputs:
            raise SystemExit(f"error: {args.reference_json} was measured on {earlier.get('inputs')}, not {inputs}")
        rows["reference"] = earlier["runs"]["reference"]
    init = live_frame(content, args.live_style) if "live" in args.names else None
    if init is not None:
        rows["live_frame"] = {"seconds": 0.0, "evaluations": 0, "stopped": f"the live style {args.live_style!r}"}
        images["live_frame"] = init
    for name in args.names:
        images[name], rows[name] = run_ours(name, content, style, init, source, args.size)
    for name, row in rows.items():
        if name in images:
            row.update(distances(images[name], content, style, vgg, cfg))
        print(f"{name:10s} {row['seconds']:7.1f} s  {row['evaluations']:4d} steps  content {row['content']:9.0f}  "
              f"style {row['style']:7.0f}  objective {row['objective']:9.0f}  ({row.get('stopped', '')})")  # fmt: skip
    ref = rows.get("reference")
    if ref is not None:
        for name, row in rows.items():
            if name != "reference":
                row["ratios"] = {k: row[k] / ref[k] for k in ("seconds", "content", "style", "objective") if ref[k]}
                r = row["ratios"]
                print(f"{name:10s} vs reference: time {r.get('seconds', 0):.2f}x, content {r['content']:.2f}x, "
                      f"style {r['style']:.2f}x, objective {r['objective']:.2f}x")  # fmt: skip
    if args.json:
        record = {"inputs": inputs, "threads": torch.get_num_threads(), "ref_steps": args.ref_steps, "defaults": str(cfg),
                  "live_style": args.live_style, "runs": _rounded(rows)}  # fmt: skip
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
    if args.out:
        for name, image in images.items():
            write_image(Path(args.out) / f"snapshot_gatys_{name}.jpg", image)


def _rounded(value: Any) -> Any:
    """Floats rounded to 3 decimals, recursively (the JSON stays readable)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


if __name__ == "__main__":
    main()
