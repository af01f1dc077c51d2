"""End-to-end benchmark of the live pipeline (importable; ``stylecam bench`` and benchmarks/ use it)."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from stylecam.engine import StyleEngine, load_engine
from stylecam.engine.autoscale import choose_scale, scales_for, target_fps_for, timing_function
from stylecam.errors import StylecamError
from stylecam.pipeline import Pipeline, PipelineEvent
from stylecam.processing import FrameOptions, network_size
from stylecam.sinks import CallbackSink
from stylecam.styles import Style, StyleInfo, export_style, read_style_file
from stylecam.video import demo_source, synthetic_source


@dataclass(frozen=True)
class BenchResult:
    """Figures of one run: ``fps`` is the end-to-end output rate through the real pipeline."""

    fps: float
    inference_fps: float
    """Network alone on network-size frames (no capture, resizing or threads)."""
    inference_ms_p50: float
    inference_ms_p95: float
    latency_ms_p50: float
    latency_ms_p95: float
    capture_fps: float
    frames: int
    dropped_frames: int
    provider: str
    style: str
    arch: str
    width: int
    height: int
    scale: float
    """Processing scale the run used (the automatic one when ``scale_auto``)."""
    scale_auto: bool
    source: str
    anchor: bool = True
    """Whether grid anchoring (:mod:`stylecam.anchor`) was on, as in the window by default."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def report(self) -> str:
        return "\n".join(
            [
                f"style {self.style} ({self.arch}) on {self.provider}, {self.width}x{self.height} at scale {self.scale:g}"
                f"{' (auto)' if self.scale_auto else ''}, "
                f"{self.frames} frames from {self.source}{'' if self.anchor else ', no grid anchoring'}",
                f"  end to end   {self.fps:8.1f} fps   latency p50 {self.latency_ms_p50:.1f} ms, p95 {self.latency_ms_p95:.1f} ms",
                f"  inference    {self.inference_fps:8.1f} fps   p50 {self.inference_ms_p50:.1f} ms, p95 {self.inference_ms_p95:.1f} ms",
                f"  capture      {self.capture_fps:8.1f} fps   dropped {self.dropped_frames}",
            ]
        )


def random_style(arch: str, folder: Path, *, seed: int = 0, fp16: bool = True) -> Style:
    """Export an untrained ``arch`` network (with its fp16 variant if ``fp16``) to ``folder``; return it as a Style."""
    import torch

    from stylecam.nets import build_net

    torch.manual_seed(seed)
    net = build_net(arch)
    yy, xx = np.mgrid[0:64, 0:64]
    swatch = np.stack([xx * 4, yy * 4, (xx + yy) * 2], axis=-1).clip(0, 255).astype(np.uint8)
    info = StyleInfo.from_style_image(name=f"untrained_{arch}", style_image_bgr=swatch, arch=arch, title=f"untrained {arch}")
    paths = export_style(net, folder, info, fp16=fp16)
    return Style(info=read_style_file(paths[0]), path=paths[0], fp16_path=paths[1] if fp16 else None, location="file")


def inference_times(
    style: Style, *, provider: str, width: int, height: int, frames: int, engine: StyleEngine | None = None
) -> tuple[str, np.ndarray]:
    """(provider, seconds per run) of the bare engine on a synthetic ``width`` x ``height`` frame.

    ``engine``: an engine already loaded for ``style`` on ``provider`` (else one is loaded).
    """
    engine = engine or load_engine(style, provider=provider)
    frame = synthetic_source(width=width, height=height, frames=1).read()
    assert frame is not None
    for _ in range(3):
        engine.run(frame)
    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        engine.run(frame)
        times.append(time.perf_counter() - t0)
    return engine.provider, np.asarray(times)


def auto_scale_now(
    style: Style, *, provider: str, width: int, height: int, source_fps: float | None, engine: StyleEngine | None = None
) -> float:
    """The scale the live view's Auto setting picks for ``style`` on this machine now (measured, not cached).

    Same rule as the pipeline (:func:`stylecam.engine.autoscale.choose_scale` among
    :func:`~stylecam.engine.autoscale.scales_for` the style's arch, at
    :func:`~stylecam.engine.autoscale.target_fps_for` the source's rate), on the same engine
    (``engine``: one already loaded for ``style`` on ``provider``, else one is loaded).
    """
    engine = engine or load_engine(style, provider=provider)
    target = target_fps_for(source_fps)
    return choose_scale(timing_function(engine.run, width, height), target_fps=target, scales=scales_for(engine.arch, width, height))


def run_bench(
    *,
    style: Style | None = None,
    arch: str | None = None,
    width: int = 640,
    height: int = 480,
    frames: int = 100,
    provider: str = "auto",
    scale: float | None = None,
    source: str = "synthetic",
    anchor: bool = True,
    warmup: int = 5,
    timeout: float = 600.0,
) -> BenchResult:
    """Push ``frames`` frames through the real pipeline as fast as it goes and measure it.

    Give ``style`` or ``arch`` (an untrained network of that architecture, exported to a temp
    folder). ``source`` is ``synthetic`` (precomputed gradients) or ``demo`` (the pan/zoom
    clip), unpaced. The first ``warmup`` output frames are not counted. ``scale`` None (the
    default, as in the window) is the automatic scale, measured afresh on this machine for the
    source's frame rate (:func:`auto_scale_now`) rather than read from the window's cache.
    ``anchor``: grid anchoring (:mod:`stylecam.anchor`), on as in the window.
    """
    if (style is None) == (arch is None):
        raise StylecamError("give a style or an architecture to benchmark, not both")
    if frames < 2 or warmup < 0:
        raise StylecamError(f"need at least 2 frames to time (got {frames})")
    if width < 32 or height < 32:
        raise StylecamError(f"frame size must be at least 32x32 (got {width}x{height})")
    if scale is not None and not 0 < scale <= 1:
        raise StylecamError(f"scale must be in (0, 1] (got {scale:g})")
    with tempfile.TemporaryDirectory(prefix="stylecam-bench-") as tmp:
        if style is None:
            assert arch is not None
            style = random_style(arch, Path(tmp), fp16=provider != "cpu")
        if source == "demo":
            src = demo_source(width=width, height=height, loop=True, pace=False)
        elif source == "synthetic":
            src = synthetic_source(width=width, height=height, pace=False)
        else:
            raise StylecamError(f"bench source must be 'synthetic' or 'demo' (got {source!r})")
        scale_auto = scale is None
        # one engine of our own for the Auto probe and the bare timings (the pipeline loads its own in its worker)
        engine = load_engine(style, provider=provider)
        if scale is None:
            scale = auto_scale_now(style, provider=provider, width=width, height=height, source_fps=src.fps, engine=engine)
        stamps: list[float] = []
        done = threading.Event()
        errors: list[str] = []

        def count(_frame: np.ndarray) -> None:
            stamps.append(time.perf_counter())
            if len(stamps) >= warmup + frames:
                done.set()

        def on_event(ev: PipelineEvent) -> None:
            if ev.kind == "style_error":
                errors.append(ev.message)
                done.set()

        pipe = Pipeline(
            source=src, style=style, options=FrameOptions(scale=scale, anchor=anchor), provider=provider,
            sinks=[CallbackSink(count)], on_event=on_event,
        )
        with pipe:
            finished = done.wait(timeout)
            stats = pipe.stats()
            used = pipe.provider
        if errors:
            raise StylecamError(errors[0])
        if not finished:
            raise StylecamError(f"benchmark did not finish within {timeout:g} s")
        timed = stamps[warmup : warmup + frames]
        fps = (len(timed) - 1) / (timed[-1] - timed[0]) if timed[-1] > timed[0] else 0.0
        scale = stats.scale  # what the pipeline ran at
        nw, nh = network_size(width, height, scale)
        _, times = inference_times(style, provider=provider, width=nw, height=nh, frames=max(5, min(frames, 30)), engine=engine)
        return BenchResult(
            fps=fps,
            inference_fps=1.0 / float(np.median(times)),
            inference_ms_p50=float(np.percentile(times, 50) * 1000),
            inference_ms_p95=float(np.percentile(times, 95) * 1000),
            latency_ms_p50=stats.latency_ms_p50,
            latency_ms_p95=stats.latency_ms_p95,
            capture_fps=stats.capture_fps,
            frames=len(timed),
            dropped_frames=stats.dropped_frames,
            provider=used,
            style=style.name,
            arch=style.info.arch,
            width=width,
            height=height,
            scale=scale,
            scale_auto=scale_auto,
            source=source,
            anchor=anchor,
        )
