"""Train the six bundled styles (``trained_styles/``) with the project's own trainer.

    python -m stylecam.training.bundled_styles train --images ../shared/images/style --dataset ../shared/datasets/photos \
        --vgg-weights ../shared/models/vgg16-imagenet-caffe.safetensors [--work-dir DIR] [--resume] [--extra ...]
    python -m stylecam.training.bundled_styles export --base DIR/out/bundled_base.safetensors

``train`` runs ``stylecam train --preset base`` (exactly what a user runs) on all six paintings at
once: one ``live`` network, one gamma/beta row per painting (conditional instance norm). ``export``
bakes each row into a one-style network and writes ``trained_styles/<name>.onnx`` and
``<name>.fp16.onnx`` with title, artist and credit (or, with ``--finetuned NAME=FILE.onnx``, ships
that style's own fine-tune of the base instead of its row), copies the base network to
``stylecam/assets/live_base.safetensors`` (what ``stylecam train`` fine-tunes new styles from), and
records the run in ``trained_styles/training_log.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, replace
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


BASE_NAME = "bundled_base"


def train_command(args: argparse.Namespace) -> list[str]:
    first, *more = [str(args.images / p.file) for p in PAINTINGS]
    return [
        sys.executable, "-m", "stylecam", "train", "--preset", "base", "--name", BASE_NAME,
        "--style", first, "--more-styles", *more, "--dataset", str(args.dataset), "--vgg-weights", args.vgg_weights,
        "--out", str(args.work_dir / "out"), "--work-dir", str(args.work_dir / "work"), "--progress-format", "json",
        *(["--resume"] if args.resume else []), *args.extra,
    ]  # fmt: skip


def run_training(args: argparse.Namespace) -> int:
    cmd = train_command(args)
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
            print(line.strip(), flush=True)
    code = proc.wait()
    record = {"exit": code, "wall_s": round(time.perf_counter() - t0, 1), "last": last, "command": cmd[1:]}
    (args.work_dir / "train_record.json").write_text(json.dumps(record, indent=1))
    return code


def export_bundled(
    base_path: Path,
    out: Path,
    assets: Path,
    *,
    record: dict[str, object] | None = None,
    retuned: dict[str, Path] | None = None,
    finetuned: dict[str, Path] | None = None,
    layout: int = 0,
) -> list[Path]:
    """Write the six style files from the base network at ``base_path``; copy the base into ``assets``.

    retuned: style name -> checkpoint of a ``--tune norms`` fine-tune of that style from this
    base; its gamma/beta row replaces the base's (:func:`~stylecam.training.base_net.merge_row`).
    finetuned: style name -> a style file (``NAME.onnx``, with its ``NAME.fp16.onnx`` beside it)
    written by ``stylecam train`` fine-tuning every weight of this base on that painting alone
    (a one-style network: all of its capacity for one painting); it is shipped as it is, instead
    of the base's row. The base keeps that style's row for fine-tunes and mixtures.
    layout: 0 keeps every network's layout; else the base and each fine-tune are upgraded to it
    (:func:`~stylecam.nets.live.upgrade_layout`, e.g. 4: the same weights without the 4 px
    lattice) and the fine-tunes re-exported from their recovered weights.
    """
    from stylecam.atomic import atomic_write_bytes
    from stylecam.imageio import read_image
    from stylecam.styles import StyleInfo, export_style
    from stylecam.styles import read_style_file
    from stylecam.training.base_net import BaseNet, base_from_checkpoint, current_layout, load_base, merge_row, save_base
    from stylecam.training.checkpoint import safetensors_metadata

    is_checkpoint = safetensors_metadata(base_path.read_bytes()).get("format", "").startswith("stylecam-train-checkpoint")
    base = base_from_checkpoint(base_path) if is_checkpoint else load_base(base_path)
    if layout:
        base = BaseNet(net=current_layout(base.net, layout), styles=base.styles, train_config=base.train_config)
    for name, ckpt_path in (retuned or {}).items():
        base = merge_row(base, name, base_from_checkpoint(ckpt_path).net)
    by_stem = {Path(p.file).stem: p for p in PAINTINGS}
    style_files = [base.train_config.get("style", ""), *base.train_config.get("styles", [])]
    shipped_as_is = {name: _checked_finetune(name, path) for name, path in (finetuned or {}).items()}
    unknown = sorted(set(shipped_as_is) - {by_stem[stem].name for stem in base.styles})
    if unknown:
        raise SystemExit(f"error: --finetuned {unknown[0]!r} is not a style of the base network")
    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    for index, stem in enumerate(base.styles):
        painting = by_stem[stem]
        if painting.name in shipped_as_is and layout:
            src = shipped_as_is[painting.name][0]
            tuned = load_base(src).net
            if tuned.layout != layout:
                info = read_style_file(src)
                info = replace(info, title=painting.title, artist=painting.artist, credit=painting.credit,
                               train_config={**info.train_config, "exported_layout": layout})
                written += export_style(current_layout(tuned, layout), out, info, fp16=True)
                continue
        if painting.name in shipped_as_is:
            for src in shipped_as_is[painting.name]:
                dst = out / src.name
                # as export_style writes: never a half-written style
                atomic_write_bytes(dst, _credited(src.read_bytes(), painting))
                written.append(dst)
            continue
        info = StyleInfo.from_style_image(
            name=painting.name,
            style_image_bgr=read_image(style_files[index]),
            arch="live",
            title=painting.title,
            artist=painting.artist,
            credit=painting.credit,
            train_config={**base.train_config, "name": painting.name, "style": style_files[index],
                          "trained_in": base.train_config.get("name", ""), "style_index": index, "base_styles": base.styles},
        )
        written += export_style(base.net.single_style(index), out, info, fp16=True)
    assets.mkdir(parents=True, exist_ok=True)
    save_base(assets / "live_base.safetensors", base.net, styles=base.styles, train_config=base.train_config)
    if record is not None:
        with (out / "training_log.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
    return written


def _credited(onnx_bytes: bytes, painting: Painting) -> bytes:
    """A style file's bytes with the painting's title, artist and credit in its metadata; the graph untouched."""
    import onnx

    model = onnx.load_from_string(onnx_bytes)
    fields = {"stylecam.title": painting.title, "stylecam.artist": painting.artist, "stylecam.credit": painting.credit}
    for prop in model.metadata_props:
        if prop.key in fields:
            prop.value = fields.pop(prop.key)
    for key, value in fields.items():
        model.metadata_props.add(key=key, value=value)
    return model.SerializeToString()


def _checked_finetune(name: str, path: Path) -> tuple[Path, Path]:
    """(fp32, fp16) style files of a ``--finetuned`` style, checked: the right name, a ``live`` fine-tune of a base."""
    from stylecam.styles import read_style_file

    fp16 = path.with_name(f"{name}.fp16.onnx")
    if path.name != f"{name}.onnx" or not path.is_file() or not fp16.is_file():
        raise SystemExit(f"error: --finetuned {name} wants {name}.onnx with {name}.fp16.onnx beside it, got {path}")
    for file in (path, fp16):
        info = read_style_file(file)
        if info.name != name or info.arch != "live" or not info.train_config.get("base"):
            raise SystemExit(f"error: {file} is not a fine-tune of a live base network for style {name!r}")
    return path, fp16


def _pairs(specs: list[str], option: str, what: str) -> dict[str, Path]:
    """``NAME=PATH`` arguments -> {name: path}."""
    pairs = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"error: {option} wants NAME={what}, got {spec!r}")
        pairs[name] = Path(path)
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train and export the bundled styles.")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the multi-style base network")
    t.add_argument("--images", type=Path, required=True, help="folder with the paintings")
    t.add_argument("--dataset", type=Path, required=True)
    t.add_argument("--vgg-weights", required=True)
    t.add_argument("--work-dir", type=Path, default=Path("runs") / "bundled")
    t.add_argument("--resume", action="store_true")
    t.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more arguments for stylecam train")
    e = sub.add_parser("export", help="write trained_styles/ and the bundled base from a trained base network")
    e.add_argument("--base", type=Path, required=True, help="the base network written by train, or its checkpoint")
    e.add_argument("--record", type=Path, default=None, help="train_record.json of the run, appended to training_log.jsonl")
    e.add_argument("--retuned", nargs="+", default=[], metavar="NAME=CHECKPOINT",
                   help="a style's gamma/beta from a --tune norms fine-tune of the base (its checkpoint) instead of the base's")
    e.add_argument("--finetuned", nargs="+", default=[], metavar="NAME=STYLE.onnx",
                   help="ship a style's own every-weight fine-tune of the base (stylecam train --preset cpu) instead of its row")
    e.add_argument("--layout", type=int, default=0, choices=(0, 2, 3, 4, 5, 6),
                   help="upgrade the base and the fine-tunes to this live layout (default 0: keep theirs)")
    e.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "trained_styles")
    e.add_argument("--assets", type=Path, default=Path(__file__).resolve().parent.parent / "stylecam" / "assets",
                   help="where the base network goes (default: this checkout's stylecam/assets)")
    args = ap.parse_args(argv)
    if args.command == "train":
        return run_training(args)
    record = json.loads(args.record.read_text()) if args.record else None
    retuned = _pairs(args.retuned, "--retuned", "CHECKPOINT")
    finetuned = _pairs(args.finetuned, "--finetuned", "STYLE.onnx")
    for path in export_bundled(args.base, args.out, args.assets, record=record, retuned=retuned, finetuned=finetuned, layout=args.layout):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
