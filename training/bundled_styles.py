"""Train the six bundled styles (``trained_styles/``) with the project's own trainer.

    python -m stylecam.training.bundled_styles --images ../shared/images/style --dataset ../shared/datasets/photos \
        --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors --preset quick [--only udnie,...]

Each style is trained by ``stylecam train`` in a subprocess (exactly what a user runs), into
``trained_styles/`` (or ``--out``). Per style it records the command, wall time and the trainer's
last progress line (steps, losses, it/s) in ``<out>/training_log.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Painting:
    name: str
    file: str
    title: str
    artist: str
    credit: str


PAINTINGS = (
    Painting("starry_night", "starry_night.jpg", "The Starry Night", "Vincent van Gogh, 1889", "Public domain (Vincent van Gogh, died 1890)"),
    Painting("the_scream", "the_scream.jpg", "The Scream", "Edvard Munch, 1893", "Public domain (Edvard Munch, died 1944)"),
    Painting("great_wave", "great_wave.jpg", "The Great Wave off Kanagawa", "Katsushika Hokusai, c. 1831", "Public domain (Katsushika Hokusai, died 1849)"),
    Painting("composition_vii", "composition_vii.jpg", "Composition VII", "Wassily Kandinsky, 1913", "Public domain (Wassily Kandinsky, died 1944)"),
    Painting("shipwreck", "shipwreck.jpg", "The Shipwreck", "J. M. W. Turner, 1805", "Public domain (J. M. W. Turner, died 1851)"),
    Painting("udnie", "udnie.jpg", "Udnie", "Francis Picabia, 1913", "Public domain (Francis Picabia, died 1953)"),
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the bundled styles.")
    ap.add_argument("--images", type=Path, required=True, help="folder with the paintings")
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--vgg-weights", required=True)
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--arch", default=None)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "trained_styles")
    ap.add_argument("--only", default="", help="comma-separated style names")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more arguments for stylecam train")
    args = ap.parse_args(argv)

    chosen = [p for p in PAINTINGS if not args.only or p.name in args.only.split(",")]
    log = args.out / "training_log.jsonl"
    for p in chosen:
        cmd = [
            sys.executable, "-m", "stylecam", "train", "--style", str(args.images / p.file), "--dataset", str(args.dataset),
            "--name", p.name, "--preset", args.preset, "--title", p.title, "--artist", p.artist, "--credit", p.credit,
            "--vgg-weights", args.vgg_weights, "--out", str(args.out), "--work-dir", str(args.out.parent / "runs" / p.name),
            "--progress-format", "json", *(["--arch", args.arch] if args.arch else []), *args.extra,
        ]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        last: dict[str, object] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "progress":
                last = event
        code = proc.wait()
        record = {"name": p.name, "exit": code, "wall_s": round(time.perf_counter() - t0, 1), "last": last, "command": cmd[1:]}
        with log.open("a") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps({k: record[k] for k in ("name", "exit", "wall_s")} | {"last": last}), flush=True)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
