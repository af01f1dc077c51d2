"""Evidence for the bundled styles: a grid of each style on the content photos, VGG distances, flicker.

    python benchmarks/styles_report.py --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors \
        --content-dir ../shared/images/content --out docs

For every style in ``--styles`` (default: the bundled ``trained_styles/``), grouped by architecture:

- ``docs/styles_grid_<arch>.jpg``: one row per style (the painting's thumbnail first), one column per
  photo in ``--grid-photos`` (only clearly licensed photos go into docs);
- style distance (Gram MSE over relu1_2..relu4_3, :func:`stylecam.quality.style_distance`) of the
  stylized photo to the painting, next to the unstylized photo's distance (the baseline);
- content distance (relu3_3 MSE, :func:`stylecam.quality.content_distance`) to the photo;
- flicker on a panning clip with known motion (:func:`stylecam.quality.flicker`), levels 0-255;
- file sizes. Prints a Markdown table (and writes it to ``<out>/styles_metrics.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from stylecam.engine import load_engine
from stylecam.imageio import read_image
from stylecam.perceptual import VGGFeatures, load_vgg16_weights
from stylecam.quality import STYLE_LAYERS, CONTENT_LAYER, content_distance, flicker, panning_clip, style_distance
from stylecam.styles import StyleLibrary

LICENSED = ("skimage_astronaut.png", "mpl_grace_hopper.jpg", "skimage_coffee.png", "sklearn_china.jpg")


def _fit(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = long_side / max(h, w)
    return cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def _cell(image: np.ndarray, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * height / h), height), interpolation=cv2.INTER_AREA)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vgg-weights", required=True)
    ap.add_argument("--content-dir", type=Path, required=True)
    ap.add_argument("--styles", type=Path, default=None, help="folder of style files (default: bundled)")
    ap.add_argument("--grid-photos", default=",".join(LICENSED))
    ap.add_argument("--measure-size", type=int, default=384, help="long side of the photos for the distances")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args(argv)

    if args.styles is None:
        lib = StyleLibrary()
        styles = [s for s in lib.styles if s.location == "bundled"]
    else:
        lib = StyleLibrary([(args.styles, "file")])
        styles = lib.styles
    if not styles:
        print("no styles found", file=sys.stderr)
        return 1
    vgg = VGGFeatures([*STYLE_LAYERS, CONTENT_LAYER], weights=load_vgg16_weights(args.vgg_weights))
    photos = {p.name: read_image(p) for p in sorted(args.content_dir.iterdir()) if p.suffix.lower() in (".jpg", ".png")}
    grid_names = [n for n in args.grid_photos.split(",") if n in photos]
    pan_source = photos.get("skimage_astronaut.png", next(iter(photos.values())))
    clip = panning_clip(pan_source, frames=8, shift_px=4, size=(240, 320))

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
            small = _fit(photo, args.measure_size)
            out = engine.run(small)
            s_dist.append(style_distance(vgg, out, painting))
            s_base.append(style_distance(vgg, small, painting))
            c_dist.append(content_distance(vgg, out, small))
        cells = [_cell(painting, 160)] + [_cell(engine.run(_fit(photos[n], 480)), 160) for n in grid_names]
        grids.setdefault(style.info.arch, []).append(np.concatenate(cells, axis=1))
        sizes = {p.name: p.stat().st_size for p in (style.path, style.fp16_path) if p is not None}
        rows.append(
            {
                "name": style.name,
                "arch": style.info.arch,
                "style_distance": float(np.mean(s_dist)),
                "style_distance_photo": float(np.mean(s_base)),
                "content_distance": float(np.mean(c_dist)),
                "flicker": flicker(engine.run, clip, 4),
                "files": sizes,
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    for arch, strips in grids.items():
        width = max(s.shape[1] for s in strips)
        padded = [np.pad(s, ((0, 4), (0, width - s.shape[1]), (0, 0)), constant_values=255) for s in strips]
        cv2.imwrite(str(args.out / f"styles_grid_{arch}.jpg"), np.concatenate(padded, axis=0), [cv2.IMWRITE_JPEG_QUALITY, 85])

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
    sys.exit(main())
