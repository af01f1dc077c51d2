"""GPU targets (needs a CUDA GPU): full fp16 at 1280x720 through the pipeline, lite, and inference alone.

    python benchmarks/gpu.py [--frames 300] [--json]

Exits 2 with a message where no working CUDA provider exists.
"""

from __future__ import annotations

import argparse
import json
import sys

from stylecam.bench import run_bench
from stylecam.errors import StylecamError

CASES = [("full", 1280, 720, 1.0), ("full", 1920, 1080, 1.0), ("lite", 1280, 720, 1.0), ("lite", 1920, 1080, 1.0)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for arch, w, h, scale in CASES:
        try:
            r = run_bench(arch=arch, width=w, height=h, frames=args.frames, provider="cuda", scale=scale)
        except StylecamError as exc:
            print(f"gpu: {exc}", file=sys.stderr)
            return 2
        results.append(r.to_dict())
        if not args.json:
            print(r.report())
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
