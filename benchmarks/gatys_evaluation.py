"""What one Gatys objective evaluation costs on this machine, and where the time goes.

One evaluation is what L-BFGS asks for at every step: VGG16 (bf16 where ``--bf16`` says so) to
relu5_1, the content and style losses and the TV term, and the backward pass to the image, on
the astronaut photo with Starry Night's Grams, as ``gatys`` builds them at ``--size``.

- default: the seconds of ``--repeats`` evaluations after 3 warm-ups;
- ``--profile``: then a ``torch.profiler`` table of 3 more, per operator and input shape;
- ``--gram-error IMAGE``: for a Gatys result (e.g. docs/snapshot_gatys_512_default.jpg), per
  style layer, how far its Gram is from the painting's (relative Frobenius norm) and how much a
  bf16 Gram product changes it (the rounding the bf16 path adds).

    .venv/bin/python benchmarks/gatys_evaluation.py --threads 2 --bf16 on
    .venv/bin/python benchmarks/gatys_evaluation.py --threads 2 --bf16 on --profile
    .venv/bin/python benchmarks/gatys_evaluation.py --gram-error docs/snapshot_gatys_512_default.jpg
"""

from __future__ import annotations

import argparse
import time

import torch

from gatys_vs_tutorial import SHARED
from stylecam.heap import retained_heap
from stylecam.imageio import read_image
from stylecam.perceptual.losses import ContentLoss, StyleLoss, gram_matrix, total_variation
from stylecam.snapshot import GatysConfig, PerceptualSource
from stylecam.snapshot.common import autocast_features, fit_long_side, resize_bgr, to_tensor


def gram_error(path: str, style_path: str, source: PerceptualSource, cfg: GatysConfig) -> None:
    """Print, per style layer, the result's Gram distance to the style's and the bf16 product's rounding."""
    cpu = torch.device("cpu")
    vgg = source.features(list(cfg.style_layers), cpu)
    result = read_image(path)
    style = read_image(style_path)
    style = resize_bgr(style, *fit_long_side(*style.shape[:2], round(cfg.style_scale * max(result.shape[:2]))))
    with torch.no_grad():
        fr, fs = vgg(to_tensor(result, cpu)), vgg(to_tensor(style, cpu))
        for layer in cfg.style_layers:
            g, target = gram_matrix(fr[layer]), gram_matrix(fs[layer])
            g16 = gram_matrix(fr[layer].to(torch.bfloat16))  # the bf16 path (no autocast here)
            g32 = gram_matrix(fr[layer].to(torch.bfloat16).float())  # the same values, float32 product
            fit = float((g - target).norm() / target.norm())
            rounding = float((g16 - g32).norm() / g32.norm())
            print(f"{layer}: result to painting {fit:.4f}, bf16 rounding {rounding:.5f} ({fit / rounding:.0f}x smaller)")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--gram-error", default="", metavar="IMAGE")
    ap.add_argument("--content", default=str(SHARED / "images/content/skimage_astronaut.png"))
    ap.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    ap.add_argument("--vgg-weights", default=str(SHARED / "models/vgg16-imagenet-caffe.safetensors"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GatysConfig(size=args.size, bf16=args.bf16)
    source = PerceptualSource.from_weights(args.vgg_weights)
    if args.gram_error:
        gram_error(args.gram_error, args.style, source, cfg)
        return
    cpu = torch.device("cpu")
    vgg = autocast_features(source.features([cfg.content_layer, *cfg.style_layers], cpu), cfg.bf16, cpu, float_outputs=False)
    content, style = read_image(args.content), read_image(args.style)
    h, w = fit_long_side(*content.shape[:2], args.size)
    target = to_tensor(resize_bgr(content, h, w), cpu)
    content_loss, style_loss = ContentLoss(cfg.content_layer, cfg.content_weight), StyleLoss(cfg.style_layers, cfg.style_weight)
    with torch.no_grad():
        content_loss.set_target(vgg(target))
        style_loss.set_targets([vgg(to_tensor(resize_bgr(style, *fit_long_side(*style.shape[:2], round(cfg.style_scale * max(h, w)))), cpu))])
    image = target.clone().requires_grad_(True)

    def evaluate() -> None:
        feats = vgg(image)
        (content_loss(feats) + style_loss(feats) + cfg.tv_weight * total_variation(image)).backward()
        image.grad = None

    print(f"{w}x{h}, bf16 {args.bf16} ({'bf16' if vgg.dtype is not None else 'float32'}), torch threads {torch.get_num_threads()}")
    with retained_heap():  # as gatys runs
        for _ in range(3):
            evaluate()
        seconds = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            evaluate()
            seconds.append(time.perf_counter() - t0)
        print("one evaluation, s:", " ".join(f"{s:.3f}" for s in seconds))
        if args.profile:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
                for _ in range(3):
                    evaluate()
            print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=40,
                                                                      max_name_column_width=30, max_shapes_column_width=90))  # fmt: skip


if __name__ == "__main__":
    main()
