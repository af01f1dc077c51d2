"""Does the temporal stability term remove flicker without weakening the style?

Trains two lite styles with the same seed, steps and data -- stability off and on -- with the real
VGG16, then measures on a panning clip of a content photo:

- flicker (:func:`stylecam.quality.flicker`, levels 0-255, lower is steadier);
- style distance (:func:`stylecam.quality.style_distance` to the style image, mean over the clip).

    python benchmarks/stability.py --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors \
        --style ../shared/images/style/starry_night.jpg --dataset ../shared/datasets/photos \
        --content ../shared/images/content/tubingen.jpg --steps 200 --size 160

Prints one JSON line per run and a summary line (flicker reduction, style-distance change).
Two styles trained already (e.g. by two ``stylecam train`` runs in parallel, stability off and on)
can be measured instead of training: ``--styles OFF.onnx ON.onnx`` (runs them in ONNX Runtime).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch

from stylecam.imageio import read_image
from stylecam.perceptual import VGGFeatures, load_vgg16_weights
from stylecam.quality import STYLE_LAYERS, flicker, panning_clip, style_distance
from stylecam.training.config import preset
from stylecam.training.train import train


def stylizer(net: torch.nn.Module):  # noqa: ANN201 - a (h, w, 3) uint8 BGR -> same callable
    net = net.eval()

    def run(frame: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(frame[:, :, ::-1].transpose(2, 0, 1))).float().unsqueeze(0)
        with torch.no_grad():
            y = (net(x).clamp(0, 255) + 0.5).to(torch.uint8)[0]
        return np.ascontiguousarray(y.permute(1, 2, 0).numpy()[:, :, ::-1])

    return run


def main() -> None:
    p = argparse.ArgumentParser(description="flicker and style distance with and without the stability term")
    p.add_argument("--vgg-weights", required=True)
    p.add_argument("--styles", nargs=2, metavar=("OFF_ONNX", "ON_ONNX"), help="measure these style files, train nothing")
    p.add_argument("--style", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--content", required=True, help="photo the panning clip is cut from")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--stability-weight", type=float, default=None, help="weight of the 'on' run (default: the preset's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shift", type=int, default=3, help="panning speed, px per frame")
    a = p.parse_args()

    content = read_image(a.content)
    clip = panning_clip(content, frames=8, shift_px=a.shift, size=(192, 256))
    vgg = VGGFeatures(STYLE_LAYERS, weights=load_vgg16_weights(a.vgg_weights))
    style_img = read_image(a.style)
    on_weight = a.stability_weight if a.stability_weight is not None else preset("quick").stability_weight
    results = {}
    if a.styles:
        import onnxruntime as ort

        for label, path in zip(("off", "on"), a.styles):
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            run = lambda f, sess=sess: sess.run(None, {"frames": f[None]})[0][0]  # noqa: E731
            fl = flicker(run, clip, a.shift)
            sd = float(np.mean([style_distance(vgg, run(f), style_img) for f in clip[::2]]))
            results[label] = {"style_file": path, "flicker": round(fl, 3), "style_distance": round(sd, 1)}
            print(json.dumps({"run": label, **results[label]}), flush=True)
    for label, weight in () if a.styles else (("off", 0.0), ("on", on_weight)):
        cfg = preset("quick", style=a.style, dataset=a.dataset, name=f"stab_{label}", size=a.size, batch=a.batch,
                     iters=a.steps, lr=a.lr, seed=a.seed, stability_weight=weight, log_every=10_000,
                     preview_every=10_000, checkpoint_every=10_000)  # fmt: skip
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            res = train(cfg, out_dir=tmp, vgg_weights=a.vgg_weights, export=False)
        seconds = time.perf_counter() - t0
        run = stylizer(res.net)
        fl = flicker(run, clip, a.shift)
        sd = float(np.mean([style_distance(vgg, run(f), style_img) for f in clip[::2]]))
        results[label] = {"stability_weight": weight, "flicker": round(fl, 3), "style_distance": round(sd, 1),
                          "train_loss": {k: round(v, 4) for k, v in res.losses.items()}, "train_s": round(seconds, 1)}  # fmt: skip
        print(json.dumps({"run": label, **results[label]}), flush=True)
    off, on = results["off"], results["on"]
    print(json.dumps({
        "flicker_reduction": round(1 - on["flicker"] / off["flicker"], 3),
        "style_distance_change": round(on["style_distance"] / off["style_distance"] - 1, 3),
        "shift_px": a.shift, **({"styles": a.styles} if a.styles else {"steps": a.steps, "size": a.size, "batch": a.batch}),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
