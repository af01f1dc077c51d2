"""Gatys at 512 px: what one evaluation costs, and how quality grows over the finest scale's evaluations.

1. ``--time``: forward, and forward + backward, of VGG16 up to relu5_1 on a channels-last float32
   (N, 3, S, S) image at 512 and 256 px, best of 5 (what one objective evaluation costs here).
2. The library defaults at 512 px (``GatysConfig(size=512)``, or ``--init image`` from the live
   starry_night frame) with a preview at every evaluation; each preview of the finest scale is
   measured with ``gatys_vs_tutorial.distances`` (float32 VGG16, the tutorial benchmark's
   content and style distances), so the table shows at which evaluation the result reaches the
   tutorial's quality (``--reference-json``, e.g. docs/gatys_512_cpu_round3.json).

    .venv/bin/python benchmarks/gatys_fine_scale.py --threads 2 --time --reference-json docs/gatys_512_cpu_round3.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from gatys_vs_tutorial import SHARED, distances, live_frame
from stylecam.imageio import read_image
from stylecam.snapshot import GatysConfig, PerceptualSource, Progress, gatys
from stylecam.snapshot.common import fit_long_side, resize_bgr


def time_evaluation(source: PerceptualSource, cfg: GatysConfig, size: int) -> tuple[float, float]:
    """(forward s, forward + backward s), best of 5, of the Gatys layers on a (1, 3, size, size) float32 image."""
    vgg = source.features([cfg.content_layer, *cfg.style_layers], torch.device("cpu"))
    x = (torch.rand(1, 3, size, size) * 255).contiguous(memory_format=torch.channels_last).requires_grad_()
    fwd, both = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        feats = vgg(x)
        t1 = time.perf_counter()
        sum(f.float().square().mean() for f in feats.values()).backward()
        fwd.append(t1 - t0)
        both.append(time.perf_counter() - t0)
    return min(fwd), min(both)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--init", choices=["content", "image"], default="content")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--time", action="store_true", help="also time one evaluation at 512 and 256 px")
    ap.add_argument("--reference-json", default="", help="the tutorial's distances (gatys_vs_tutorial.py --json)")
    ap.add_argument("--json", default="", help="write the rows here")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GatysConfig(size=512, init=args.init, preview_every=1)
    source = PerceptualSource.from_weights(args.vgg_weights)
    if args.time:
        for size in (512, 256):
            f, fb = time_evaluation(source, cfg, size)
            print(f"{size}x{size}: forward {f:.3f} s, forward + backward {fb:.3f} s")
    raw = read_image(args.content)
    h, w = fit_long_side(*raw.shape[:2], cfg.size)
    content = resize_bgr(raw, h, w)
    style_raw = read_image(args.style)
    style = resize_bgr(style_raw, *fit_long_side(*style_raw.shape[:2], cfg.size))
    init = live_frame(content, "starry_night") if args.init == "image" else None
    previews: dict[int, np.ndarray] = {}

    def keep(p: Progress) -> None:
        if p.preview is not None and p.preview.shape[:2] == (h, w):
            previews.setdefault(p.evaluations, p.preview.copy())

    t0 = time.perf_counter()
    result = gatys(content, [style], config=cfg, init_image=init, perceptual=source, device="cpu", progress=keep)
    seconds = time.perf_counter() - t0
    vgg = source.features([cfg.content_layer, *cfg.style_layers], torch.device("cpu"))
    rows = [{"evaluations": n, **distances(im, content, style, vgg, cfg)} for n, im in sorted(previews.items())]
    rows.append({"evaluations": "final", **distances(result, content, style, vgg, cfg)})
    ref = json.loads(Path(args.reference_json).read_text())["runs"]["reference"] if args.reference_json else None
    print(f"{seconds:.1f} s in all; finest scale, every 10th evaluation:")
    for row in rows:
        if row["evaluations"] == "final" or row["evaluations"] % 10 == 0:
            print(f"  {row['evaluations']!s:>5}  content {row['content']:9.0f}  style {row['style']:9.1f}")
    if ref is not None:
        both = [r["evaluations"] for r in rows[:-1] if r["content"] <= ref["content"] and r["style"] <= ref["style"]]
        print(f"the tutorial's content and style distances both reached first at evaluation {both[0] if both else 'never'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"init": args.init, "seconds": seconds, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
