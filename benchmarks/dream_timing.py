"""DeepDream wall time at the window's default (512 px, 4 octaves x 10 steps, relu4_3) and the previous settings.

``new`` is ``DreamConfig(max_size=SIZE)`` as the snapshot panel builds it (bf16 autocast where
this CPU is fast at it); ``old`` the same with ``bf16="off"``, i.e. float32 as before issue 12.
Each run is timed end to end, including the weights already cached in the process (the window
loads them once) but not their first load; the first octave's per-step time is printed too.

Usage (the figures in docs/SNAPSHOT.md come from this):
    .venv/bin/python benchmarks/dream_timing.py --threads 2 --json docs/dream_512_cpu.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from stylecam.imageio import read_image
from stylecam.snapshot import DreamConfig, PerceptualSource, dream

SHARED = Path(__file__).resolve().parents[2] / "shared"
RUNS = {"new": {}, "old": {"bf16": "off"}}


def timed(content: np.ndarray, config: DreamConfig, source: PerceptualSource) -> dict[str, object]:
    """Wall seconds of one dream, and the seconds per step of its first (smallest) octave."""
    marks: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    out = dream(content, config=config, perceptual=source, device="cpu",
                progress=lambda p: marks.append((time.perf_counter(), p.stage)))  # fmt: skip
    seconds = time.perf_counter() - t0
    first = [t for t, stage in marks if stage.startswith("octave 1/")]
    per_step = (first[-1] - t0) / len(first) if first else 0.0
    return {"seconds": seconds, "first_octave_s_per_step": per_step, "size": [out.shape[1], out.shape[0]]}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--content", default=str(SHARED / "images/content/sklearn_china.jpg"))
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    ap.add_argument("--size", type=int, default=512, help="long side (the panel's Size, default 512)")
    ap.add_argument("--only", choices=["both", "new", "old"], default="both")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--json", default="", help="write the figures to this JSON file")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    source = PerceptualSource.from_weights(args.vgg_weights)
    content = read_image(args.content)
    base = DreamConfig(max_size=args.size)
    dream(content[:64, :64].copy(), config=replace(base, octaves=1, steps=1), perceptual=source, device="cpu")  # load the weights
    results = {}
    for name, change in RUNS.items():
        if args.only in ("both", name):
            results[name] = timed(content, replace(base, **change), source)  # type: ignore[arg-type]
            r = results[name]
            print(f"{name}: {r['seconds']:.1f} s ({r['size'][0]}x{r['size'][1]}, {base.octaves} octaves x {base.steps} steps; "
                  f"first octave {r['first_octave_s_per_step']:.2f} s/step)", flush=True)  # fmt: skip
    if "new" in results and "old" in results:
        print(f"speed-up {results['old']['seconds'] / results['new']['seconds']:.2f}x")
    if args.json:
        record = {"content": Path(args.content).name, "threads": torch.get_num_threads(), "config": str(base), "runs": results}
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
