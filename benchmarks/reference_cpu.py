"""Side by side on this CPU, in one process: the pytorch/examples reference in eager PyTorch,
our ``full`` network through ONNX Runtime, and our ``lite`` network through the live pipeline.

The reference is loaded from a checkout of github:pytorch/examples (never copied here):

    python benchmarks/reference_cpu.py --reference-dir /path/to/examples [--size 640x480] [--frames 5]

Prints fps of each and the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from stylecam.bench import inference_times, random_style, run_bench

REL = Path("fast_neural_style/neural_style/transformer_net.py")


def load_reference(reference_dir: Path) -> type[torch.nn.Module]:
    """The reference ``TransformerNet`` class from a pytorch/examples checkout (or its neural_style folder)."""
    for candidate in (reference_dir / REL, reference_dir / REL.name):
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("reference_transformer_net", candidate)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.TransformerNet  # type: ignore[no-any-return]
    sys.exit(f"reference_cpu: {reference_dir / REL} not found (fetch github:pytorch/examples and pass its folder)")


def reference_fps(net_cls: type[torch.nn.Module], width: int, height: int, frames: int) -> float:
    """Eager PyTorch, as the reference's own stylize loop runs it: uint8 frame -> float tensor -> net -> uint8."""
    net = net_cls().eval()
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)

    def once() -> None:
        with torch.inference_mode():
            x = torch.from_numpy(frame[..., ::-1].copy()).permute(2, 0, 1)[None].float()
            y = net(x).clamp(0, 255)
            y[0].permute(1, 2, 0).byte().numpy()

    once()
    t0 = time.perf_counter()
    for _ in range(frames):
        once()
    return frames / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-dir", type=Path, required=True)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--frames", type=int, default=5, help="frames for the full-size networks")
    ap.add_argument("--lite-frames", type=int, default=100)
    ap.add_argument("--lite-scale", type=float, default=1.0)
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {width}x{height}")

    ref = reference_fps(load_reference(args.reference_dir), width, height, args.frames)
    print(f"reference TransformerNet, PyTorch eager : {ref:7.2f} fps")
    with tempfile.TemporaryDirectory() as tmp:
        full = random_style("full", Path(tmp), fp16=False)
        _, times = inference_times(full, provider="cpu", width=width, height=height, frames=args.frames)
        full_fps = 1.0 / float(np.median(times))
    print(f"stylecam full, ONNX Runtime CPU         : {full_fps:7.2f} fps  ({full_fps / ref:.2f}x reference)")
    lite = run_bench(arch="lite", width=width, height=height, frames=args.lite_frames, provider="cpu", scale=args.lite_scale)
    print(
        f"stylecam lite, live pipeline (scale {args.lite_scale:g})  : {lite.fps:7.2f} fps end to end "
        f"({lite.fps / ref:.1f}x reference); inference alone {lite.inference_fps:.1f} fps, "
        f"latency p50 {lite.latency_ms_p50:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
