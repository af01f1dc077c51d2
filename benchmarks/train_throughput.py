"""Training throughput: stylecam's trainer vs pytorch/examples' fast_neural_style, same work.

Both train the full (Johnson) network at the same batch and crop size on the same photos; the
reference is imported from a checkout given on the command line (never copied):

    git clone https://github.com/pytorch/examples /tmp/examples
    python benchmarks/train_throughput.py --reference /tmp/examples/fast_neural_style \
        --dataset ../shared/datasets/photos --style ../shared/images/style/udnie.jpg \
        --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors --size 256 --batch 8 --steps 60

Speed is timed between optimizer steps (``torch.optim`` global step hooks), after ``--warmup``
steps, so set-up (VGG loading, style Grams, first-call kernel selection) is left out for both.
The reference would download torchvision's VGG16; here its ``models.vgg16`` is replaced, for the
duration of its run, by one that builds torchvision's VGG16 and loads ``--vgg-weights`` into its
``features`` (same key layout; without ``--vgg-weights`` it stays untrained: weights do not change
speed). Nothing in the checkout is modified. Prints one JSON line with both it/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook


class StepClock:
    """Timestamps of every optimizer step taken while it is active."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._handle = None

    def __enter__(self) -> StepClock:
        self._handle = register_optimizer_step_post_hook(lambda opt, args, kwargs: self.times.append(time.perf_counter()))
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._handle is not None
        self._handle.remove()

    def it_s(self, warmup: int) -> float:
        t = self.times[warmup:]
        if len(t) < 2:
            raise SystemExit("too few steps to time: raise --steps or lower --warmup")
        return (len(t) - 1) / (t[-1] - t[0])


def run_ours(a: argparse.Namespace, device: str) -> float:
    from stylecam.training.config import preset
    from stylecam.training.train import train

    cfg = preset(
        "full", style=a.style, dataset=a.dataset, name="throughput", arch="full", size=a.size, batch=a.batch,
        iters=a.steps, workers=a.workers, device=device, log_every=10_000, preview_every=10_000,
        checkpoint_every=10_000, stability_weight=a.stability_weight,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, StepClock() as clock:
        train(cfg, out_dir=tmp, vgg_weights=a.vgg_weights, export=False)
    return clock.it_s(a.warmup)


def _vgg16_with_weights(real_vgg16: Callable[..., nn.Module], weights: str | None) -> nn.Module:
    """torchvision's VGG16 with our VGG16 weights file loaded into ``features`` (untrained without one)."""
    net = real_vgg16(weights=None)
    if weights:
        from stylecam.perceptual import load_vgg16_weights

        net.features.load_state_dict(load_vgg16_weights(weights).state_dict)  # type: ignore[union-attr]
    return net


def run_reference(a: argparse.Namespace, device: str) -> float:
    ref = Path(a.reference).resolve() / "neural_style"
    if not (ref / "neural_style.py").is_file():
        raise SystemExit(f"{ref}/neural_style.py not found: pass --reference <examples checkout>/fast_neural_style")
    sys.path.insert(0, str(ref))
    import torchvision.models as tv_models

    real_vgg16 = tv_models.vgg16
    tv_models.vgg16 = lambda *args, **kw: _vgg16_with_weights(real_vgg16, a.vgg_weights)  # no download
    try:
        import neural_style  # the reference module, from the checkout

        photos = sorted(p.resolve() for p in Path(a.dataset).rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        needed = a.steps * a.batch
        with tempfile.TemporaryDirectory() as tmp:
            cls = Path(tmp) / "data" / "photos"  # ImageFolder wants one sub-folder per class
            cls.mkdir(parents=True)
            for i in range(needed):
                os.symlink(photos[i % len(photos)], cls / f"{i:06d}{photos[i % len(photos)].suffix}")
            args = SimpleNamespace(
                accel=device == "cuda", seed=42, image_size=a.size, dataset=str(Path(tmp) / "data"), batch_size=a.batch,
                lr=1e-3, style_image=a.style, style_size=None, epochs=1, content_weight=1e5, style_weight=1e10,
                log_interval=10_000, checkpoint_model_dir=None, save_model_dir=str(Path(tmp) / "models"),
            )  # fmt: skip
            os.makedirs(args.save_model_dir)
            with StepClock() as clock:
                neural_style.train(args)
        return clock.it_s(a.warmup)
    finally:
        tv_models.vgg16 = real_vgg16
        sys.path.remove(str(ref))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference", required=True, help="path to pytorch/examples/fast_neural_style")
    p.add_argument("--dataset", required=True)
    p.add_argument("--style", required=True)
    p.add_argument("--vgg-weights", default=os.environ.get("STYLECAM_VGG_WEIGHTS"))
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--stability-weight", type=float, default=0.3, help="0 to leave out our extra stability pass")
    p.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    a = p.parse_args()
    device = "cuda" if a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available()) else "cpu"
    ours = run_ours(a, device)
    theirs = run_reference(a, device)
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(json.dumps({
        "device": name, "size": a.size, "batch": a.batch, "steps": a.steps, "stability_weight": a.stability_weight,
        "ours_it_s": round(ours, 4), "reference_it_s": round(theirs, 4), "ratio": round(ours / theirs, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
