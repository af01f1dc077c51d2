"""Where ONNX Runtime spends a style's inference on the CPU: the share of each operator type.

Runs the style file (a bundled name or a path) on a random 640x480 frame (``--size``) with
ONNX Runtime's profiler, as stylecam's CPU session does (intra-op threads = ``--threads``, no
spinning), and prints the total per operator type over ``--runs`` runs after 3 warm-ups.

    .venv/bin/python benchmarks/ort_profile.py udnie --threads 2
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from stylecam.styles import StyleLibrary


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("style", help="a bundled style name or an .onnx file")
    ap.add_argument("--size", default="640x480", help="frame size WxH")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    path = Path(args.style) if args.style.endswith(".onnx") else StyleLibrary().get(args.style).path
    if path is None:
        raise SystemExit(f"error: style {args.style!r} has no float32 file for the CPU")
    width, height = (int(v) for v in args.size.lower().split("x"))
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.enable_profiling = True
    so.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "ort")
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    frame = np.random.default_rng(0).integers(0, 256, (1, height, width, 3), dtype=np.uint8)
    for _ in range(3):
        session.run(None, {name: frame})
    t0 = time.perf_counter()
    for _ in range(args.runs):
        session.run(None, {name: frame})
    ms = (time.perf_counter() - t0) / args.runs * 1000
    events = json.loads(Path(session.end_profiling()).read_text())
    per_op: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"]
    total = sum(per_op.values())
    print(f"{path.name}: {ms:.1f} ms a frame at {width}x{height}, {args.threads} threads (warm-ups included in the shares)")
    for op, us in per_op.most_common(12):
        print(f"  {op:24s} {100 * us / total:5.1f} %")


if __name__ == "__main__":
    main()
