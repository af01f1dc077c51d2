"""Evidence for the bundled styles: a grid of each style on the content photos, VGG distances, flicker.

    python benchmarks/styles_report.py --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors \
        --content-dir ../shared/images/content --out docs

For every style in ``--styles`` (default: the bundled ``trained_styles/``), grouped by architecture:

- ``docs/styles_grid_<arch>.jpg``: one row per style (the painting's thumbnail first), one column per
  photo in ``--grid-photos`` (only clearly licensed photos go into docs);
- style distance (Gram MSE over relu1_2..relu4_3, :func:`stylecam.quality.style_distance`) of the
  stylized photo to the painting, next to the unstylized photo's distance (the baseline);
- content distance (relu3_3 MSE, :func:`stylecam.quality.content_distance`) to the photo;
- flicker on panning clips with known motion (:func:`stylecam.quality.flicker`, mean over pans of 1-8 px a frame, the clips
  run as the window runs a stream: with grid anchoring, :mod:`stylecam.anchor`), levels 0-255;
- file sizes. Prints a Markdown table (and writes it to ``<out>/styles_metrics.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _common import LICENSED, cell, clips_for, fit, load_photos, load_styles, pan_flicker, run_cli, stack_rows, stylize_clips, write_jpeg

from stylecam.anchor import stride_for
from stylecam.engine import load_engine
from stylecam.perceptual import VGGFeatures, load_vgg16_weights
from stylecam.quality import CONTENT_LAYER, STYLE_LAYERS, content_distance, style_distance


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vgg-weights", required=True)
    ap.add_argument("--content-dir", type=Path, required=True)
    ap.add_argument("--styles", type=Path, default=None, help="folder of style files (default: bundled)")
    ap.add_argument("--grid-photos", default=",".join(LICENSED))
    ap.add_argument("--measure-size", type=int, default=384, help="long side of the photos for the distances")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args(argv)

    styles = load_styles(args.styles)
    vgg = VGGFeatures([*STYLE_LAYERS, CONTENT_LAYER], weights=load_vgg16_weights(args.vgg_weights))
    photos = load_photos(args.content_dir)
    grid_names = [n for n in args.grid_photos.split(",") if n in photos]
    clips = clips_for(photos)

    rows: list[dict[str, object]] = []
    grids: dict[str, list[np.ndarray]] = {}
    args.out.mkdir(parents=True, exist_ok=True)
    for style in styles:
        engine = load_engine(style, provider="cpu")
        painting = style.info.source_image()
        if painting is None:
            print(f"{style.name}: no embedded source image, skipped", file=sys.stderr)
            continue
        s_dist, s_base, c_dist = [], [], []
        for name, photo in photos.items():
            small = fit(photo, args.measure_size)
            out = engine.run(small)
            s_dist.append(style_distance(vgg, out, painting))
            s_base.append(style_distance(vgg, small, painting))
            c_dist.append(content_distance(vgg, out, small))
        cells = [cell(painting, 160)] + [cell(engine.run(fit(photos[n], 480)), 160) for n in grid_names]
        grids.setdefault(style.info.arch, []).append(np.concatenate(cells, axis=1))
        sizes = {p.name: p.stat().st_size for p in (style.path, style.fp16_path) if p is not None}
        rows.append(
            {
                "name": style.name,
                "arch": style.info.arch,
                "style_distance": float(np.mean(s_dist)),
                "style_distance_photo": float(np.mean(s_base)),
                "content_distance": float(np.mean(c_dist)),
                "flicker": float(np.mean(list(pan_flicker(stylize_clips(engine.run, clips, anchor_stride=stride_for(style.info.arch))).values()))),
                "files": sizes,
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    for arch, strips in grids.items():
        write_jpeg(args.out / f"styles_grid_{arch}.jpg", stack_rows(strips))

    lines = [
        "| style | arch | style distance (stylized → painting) | same, unstylized photo | ratio | content distance | flicker (levels) | files |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        files = ", ".join(f"{k} {v / 1e3:.0f} kB" for k, v in r["files"].items())  # type: ignore[union-attr]
        lines.append(
            f"| {r['name']} | {r['arch']} | {r['style_distance']:.3g} | {r['style_distance_photo']:.3g} | "
            f"{r['style_distance_photo'] / r['style_distance']:.1f}x | {r['content_distance']:.3g} | {r['flicker']:.2f} | {files} |"  # type: ignore[operator]
        )
    table = "\n".join(lines)
    (args.out / "styles_metrics.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
