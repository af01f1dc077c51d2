"""Gatys with changed settings, scored against a stored run of the tutorial's algorithm.

Each variant is a JSON object of :class:`~stylecam.snapshot.GatysConfig` fields (``{}`` is the
defaults), plus one experimental key, ``fine_detail_gain``: how many times the content's own
detail is added to the start of each finer scale (the library adds it once). Prints, per
variant, the wall time, the evaluations and the content and style distances as ratios to the
reference (``gatys_vs_tutorial.py --json``, same size and inputs). To compare two versions of
stylecam side by side, run this script with ``PYTHONPATH=<other checkout>`` and without it,
interleaved, since run-to-run speed drifts on a shared VM.

    .venv/bin/python benchmarks/gatys_variants.py --size 256 --reference-json docs/gatys_256_cpu_round4.json \\
        '{"steps": 300, "stop_tolerance": 0.0}' '{"steps": 300, "stop_tolerance": 0.001}'
    .venv/bin/python benchmarks/gatys_variants.py --size 512 --reference-json docs/gatys_512_cpu_round3.json \\
        '{}' '{"fine_detail_gain": 2.0}' '{"fine_detail_gain": 2.0, "steps": 128}'
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from gatys_vs_tutorial import SHARED, distances
from stylecam.imageio import read_image
from stylecam.snapshot import GatysConfig, PerceptualSource, Progress, gatys
from stylecam.snapshot.common import fit_long_side, resize_bgr, resize_tensor


@contextlib.contextmanager
def fine_detail_gain(gain: float) -> Iterator[None]:
    """While open, gatys adds ``gain`` times the guide's detail at each finer scale's start (an experiment)."""
    module = sys.modules["stylecam.snapshot.gatys"]  # the package's ``gatys`` is the function
    library_start = module._start
    if gain == 1.0:
        yield
        return

    def start(current: torch.Tensor | None, guide: torch.Tensor, config: GatysConfig, gen: torch.Generator) -> torch.Tensor:
        if current is None:
            return library_start(current, guide, config, gen)
        h, w = guide.shape[-2:]
        detail = guide - resize_tensor(resize_tensor(guide, *current.shape[-2:]), h, w)
        return (resize_tensor(current, h, w) + gain * detail).clamp(0.0, 255.0)

    module._start = start
    try:
        yield
    finally:
        module._start = library_start


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("variants", nargs="+", help="JSON objects of GatysConfig fields ('{}': the defaults)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--reference-json", required=True, help="a gatys_vs_tutorial.py --json file with a reference run")
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--json", default="", help="write the rows here")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    earlier = json.loads(Path(args.reference_json).read_text())
    reference = earlier["runs"]["reference"]
    cfg = GatysConfig(size=args.size)
    content_raw, style_raw = read_image(args.content), read_image(args.style)
    h, w = fit_long_side(*content_raw.shape[:2], args.size)
    inputs = {"content": Path(args.content).name, "style": Path(args.style).name, "size": [w, h]}
    if earlier.get("inputs") != inputs:
        raise SystemExit(f"error: {args.reference_json} was measured on {earlier.get('inputs')}, not {inputs}")
    content = resize_bgr(content_raw, h, w)
    style = resize_bgr(style_raw, *fit_long_side(*style_raw.shape[:2], round(cfg.style_scale * args.size)))
    source = PerceptualSource.from_weights(args.vgg_weights)
    vgg = source.features([cfg.content_layer, *cfg.style_layers], torch.device("cpu"))
    rows: list[dict[str, Any]] = []
    for text in args.variants:
        fields = json.loads(text)
        gain = float(fields.pop("fine_detail_gain", 1.0))
        config = replace(cfg, **fields)
        final: list[Progress] = []
        t0 = time.perf_counter()
        with fine_detail_gain(gain):
            image = gatys(content, [style], config=config, perceptual=source, device="cpu",
                          progress=lambda p: final.append(p) if p.stopped else None)  # fmt: skip
        seconds = time.perf_counter() - t0
        d = distances(image, content, style, vgg, cfg)
        row = {"variant": text, "seconds": round(seconds, 1), "evaluations": final[-1].evaluations,
               "content_ratio": round(d["content"] / reference["content"], 3), "style_ratio": round(d["style"] / reference["style"], 3),
               "stopped": final[-1].stopped}  # fmt: skip
        rows.append(row)
        print(f"{text:50s} {seconds:6.1f} s {row['evaluations']:4d} evaluations  content {row['content_ratio']:.3f}x  "
              f"style {row['style_ratio']:.3f}x  ({row['stopped']})", flush=True)  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"size": args.size, "reference": reference, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
