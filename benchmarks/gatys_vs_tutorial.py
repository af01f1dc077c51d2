"""Gatys: stylecam's coarse-to-fine optimiser against the PyTorch neural-style tutorial's algorithm.

The reference is the algorithm the official tutorial (advanced_source/neural_style_tutorial.py)
describes, re-implemented here from its description: one scale, the image initialised from the
content, ``torch.optim.LBFGS`` with default settings, the image clamped to the valid range at
the start of every closure, and ``steps`` closure evaluations (the tutorial's ``num_steps=300``).
It uses the SAME VGG16 weights, layers and loss weights as ours (the tutorial itself uses VGG19
and 0-1 images; here everything is 0-255, which VGGFeatures takes), and no TV term.

Both results are then measured with the same VGG16 features at the output size:
content distance = MSE of the content layer's features to the content's; style distance = sum
over the style layers of the MSE between Gram matrices (normalised by C*H*W) and the style's;
objective = content_weight * content + style_weight * style.

Usage (the figures in docs/SNAPSHOT.md come from this):
    .venv/bin/python benchmarks/gatys_vs_tutorial.py --size 512 --fast-steps 88 --out docs --json docs/gatys_512_cpu.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from stylecam.imageio import read_image, write_image
from stylecam.perceptual import VGGFeatures
from stylecam.snapshot import GatysConfig, PerceptualSource, Progress, gatys
from stylecam.snapshot.gatys import scale_plan
from stylecam.snapshot.common import fit_long_side, resize_bgr, to_image, to_tensor

SHARED = Path(__file__).resolve().parents[2] / "shared"


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
    dev = torch.device("cpu")
    with torch.no_grad():
        fi, fc, fs = vgg(to_tensor(image, dev)), vgg(to_tensor(content, dev)), vgg(to_tensor(style, dev))
        c = float(torch.nn.functional.mse_loss(fi[cfg.content_layer], fc[cfg.content_layer]))
        s = float(sum(torch.nn.functional.mse_loss(gram(fi[la]), gram(fs[la])) for la in cfg.style_layers))
    return {"content": c, "style": s, "objective": cfg.content_weight * c + cfg.style_weight * s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--ref-steps", type=int, default=300)
    ap.add_argument("--steps", type=int, default=GatysConfig().steps, help="our total steps over all scales")
    ap.add_argument("--scales", type=int, default=GatysConfig().scales, help="0: automatic (as the default)")
    ap.add_argument("--fast-steps", type=int, default=0, help="also run ours with this many steps (the CPU 2-minute budget)")
    ap.add_argument("--json", default="", help="write the figures to this JSON file")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--out", default="", help="folder for snapshot_gatys_{ours,reference}.jpg")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GatysConfig(size=args.size, steps=args.steps, scales=args.scales)
    source = PerceptualSource.from_weights(args.vgg_weights)
    content_raw, style_raw = read_image(args.content), read_image(args.style)
    h, w = fit_long_side(*content_raw.shape[:2], args.size)
    content = resize_bgr(content_raw, h, w)
    sh, sw = fit_long_side(*style_raw.shape[:2], round(cfg.style_scale * args.size))
    style = resize_bgr(style_raw, sh, sw)
    vgg = source.features([cfg.content_layer, *cfg.style_layers], torch.device("cpu"))
    print(f"content {w}x{h}, style {sw}x{sh}, torch threads {torch.get_num_threads()}", flush=True)

    def report(p: Progress) -> None:
        if p.step % 25 == 0:
            print(f"  ours step {p.step}/{p.total} {p.stage}: objective {p.losses.get('total', 0):.4g}", flush=True)

    def run_ours(steps: int) -> tuple[np.ndarray, float, dict[str, float]]:
        config = GatysConfig(size=args.size, steps=steps, scales=args.scales)
        t0 = time.perf_counter()
        image = gatys(content, [style], config=config, perceptual=source, device="cpu", progress=report)
        seconds = time.perf_counter() - t0
        found = distances(image, content, style, vgg, cfg)
        print(f"ours      ({steps} steps, plan {scale_plan(h, w, config)}): {seconds:7.1f} s  {found}", flush=True)
        return image, seconds, found

    ours, t_ours, d_ours = run_ours(args.steps)
    fast = run_ours(args.fast_steps) if args.fast_steps else None

    t0 = time.perf_counter()
    ref = reference(content, style, vgg, cfg, args.ref_steps)
    t_ref = time.perf_counter() - t0
    d_ref = distances(ref, content, style, vgg, cfg)
    print(f"reference ({args.ref_steps} L-BFGS evaluations, one scale): {t_ref:7.1f} s  {d_ref}", flush=True)
    rows = {"reference": (t_ref, d_ref), "ours": (t_ours, d_ours)}
    if fast is not None:
        rows["ours_fast"] = fast[1:]
    for name, (seconds, found) in rows.items():
        print(
            f"{name:10s} time ratio {seconds / t_ref:.2f}; style ratio {found['style'] / d_ref['style']:.2f}; "
            f"content ratio {found['content'] / d_ref['content']:.2f}; objective ratio {found['objective'] / d_ref['objective']:.2f}"
        )
    if args.json:
        record = {
            "size": [w, h], "threads": torch.get_num_threads(), "ref_steps": args.ref_steps, "steps": args.steps,
            "fast_steps": args.fast_steps,
            "runs": {name: {"seconds": round(seconds, 1), **{k: round(v, 2) for k, v in found.items()}} for name, (seconds, found) in rows.items()},
        }
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
    if args.out:
        out = Path(args.out)
        write_image(out / "snapshot_gatys_ours.jpg", ours)
        write_image(out / "snapshot_gatys_reference.jpg", ref)
        if fast is not None:
            write_image(out / "snapshot_gatys_ours_fast.jpg", fast[0])


if __name__ == "__main__":
    main()
