"""The live pipeline, wired in one place: capture thread -> newest-frame slot -> stylize worker -> sinks.

The capture thread reads the source as fast as it delivers; the worker always takes the newest
frame (older ones are dropped and counted, never queued), stylizes it with the current style and
options, keeps it for the window to poll (:meth:`Pipeline.latest`) and writes it to the sinks.
Style, options, source and sinks can change while running; trouble is reported as events.

Real time is for cameras and for what is watched live (the window, the virtual camera). Turning
a file into a file is not: with ``realtime=False`` a recorded source (video file, image folder,
image, generated clip) is read unpaced, one frame each time the worker has taken the previous
one, so every frame is stylized and written, in order, as fast as the machine allows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType

import numpy as np

from stylecam.anchor import GridAnchor, stride_for
from stylecam.engine.autoscale import LoadWatch, auto_scale, scales_for, target_fps_for
from stylecam.engine.engine import StyleEngine, load_engine
from stylecam.errors import StylecamError
from stylecam.pipeline.slot import NewestSlot
from stylecam.pipeline.stats import PipelineStats, StatsCollector
from stylecam.processing import FrameOptions, apply_options
from stylecam.sinks.base import Sink
from stylecam.styles import Style
from stylecam.video.base import FrameSource

log = logging.getLogger(__name__)

EVENT_KINDS = ("camera_lost", "reconnecting", "reconnected", "source_ended", "style_loaded", "style_error", "sink_error", "scale_changed")


def _auto_key(engine: StyleEngine, width: int, height: int) -> tuple[int, str, int, int]:
    """What an Auto scale and its :class:`LoadWatch` belong to: one engine, provider and frame size."""
    return (id(engine), engine.provider, width, height)


@dataclass(frozen=True)
class PipelineEvent:
    """Something the user should hear about. ``kind`` is one of EVENT_KINDS; ``message`` is one line.

    ``sink`` is the sink concerned by a ``sink_error`` (already removed from the pipeline), else None.
    """

    kind: str
    message: str
    sink: Sink | None = None


@dataclass(frozen=True)
class FramePair:
    """The newest result: the frame as shown (mirrored if asked) and its stylized version, (H, W, 3) uint8 BGR."""

    original: np.ndarray
    stylized: np.ndarray
    seq: int


@dataclass(frozen=True)
class _Captured:
    frame: np.ndarray
    at: float
    seq: int


_UNSET = object()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Pipeline:
    """Live stylization of ``source`` with ``style`` (None = unstylized feed) into ``sinks``.

    ``on_event`` is called from the pipeline's threads with :class:`PipelineEvent`s. Use as a
    context manager or call start() and stop(); stop() joins the threads and closes the source
    and the sinks (finalising recordings).

    ``realtime`` (default): sources play at their own pace and the newest frame wins. False: recorded
    sources (this one and any set later) are unpaced and none of their frames is dropped; cameras
    stay real time.
    """

    def __init__(
        self,
        *,
        source: FrameSource,
        style: Style | None,
        options: FrameOptions = FrameOptions(),
        provider: str = "auto",
        sinks: Sequence[Sink] = (),
        on_event: Callable[[PipelineEvent], None] | None = None,
        realtime: bool = True,
    ) -> None:
        if not isinstance(options, FrameOptions):
            raise TypeError(f"options must be FrameOptions, got {type(options).__name__}")
        self._lock = threading.Lock()
        self._sink_lock = threading.Lock()
        self._source = source
        self._pending_source: FrameSource | None = None
        self._source_done = False
        self._source_changed = threading.Event()
        self._pending_style: object = style if style is not None else _UNSET
        self._engine: StyleEngine | None = None
        self._style_name = ""
        self._options = options
        self._provider_request = provider
        self._realtime = realtime
        self._sinks: list[Sink] = list(sinks)
        self._on_event = on_event
        self._slot: NewestSlot[_Captured] = NewestSlot()
        self._stats = StatsCollector()
        self._latest: FramePair | None = None
        self._resolution = source.size
        self._scales: dict[tuple[int, str, int, int], float] = {}
        self._watches: dict[tuple[int, str, int, int], LoadWatch] = {}
        self._anchor: GridAnchor | None = None
        self._anchor_engine: StyleEngine | None = None  # the engine the anchor's state belongs to
        self._scale_in_use = options.scale if options.scale is not None else 1.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        self._stopped = False
        self.finished = threading.Event()
        """Set when the source has ended (a file without loop); cleared by set_source()."""
        self._hook(source)

    # -- control -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the capture and stylize threads (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self._threads = [
            threading.Thread(target=self._capture_loop, name="stylecam-capture", daemon=True),
            threading.Thread(target=self._worker_loop, name="stylecam-stylize", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop and join the threads, close the source and the sinks; idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            source, pending = self._source, self._pending_source
            self._pending_source = None
        self._stop.set()
        self._slot.close()
        self._source_changed.set()
        for s in (source, pending):
            if s is not None:
                s.interrupt()
        for t in self._threads:
            t.join()
        for s in (source, pending):
            if s is not None:
                s.close()
        with self._sink_lock:
            sinks, self._sinks = self._sinks, []
        for sink in sinks:
            self._close_sink(sink)

    def __enter__(self) -> Pipeline:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._started and not self._stopped

    def set_style(self, style: Style | None) -> None:
        """Switch style (None = unstylized feed); it is loaded in the worker and reported as an event."""
        with self._lock:
            self._pending_style = style

    @property
    def options(self) -> FrameOptions:
        """The options applied to frames from now on."""
        with self._lock:
            return self._options

    def set_options(self, options: FrameOptions) -> None:
        if not isinstance(options, FrameOptions):
            raise TypeError(f"options must be FrameOptions, got {type(options).__name__}")
        with self._lock:
            self._options = options

    def set_source(self, source: FrameSource) -> None:
        """Switch to ``source`` live; the old source is closed."""
        self._hook(source)
        with self._lock:
            if self._stopped:
                source.close()
                return
            old_pending, self._pending_source = self._pending_source, source
            current = self._source
            running = self._started
            self._anchor = None  # another shot: the worker starts a fresh anchor
            if not running:
                self._source, self._pending_source = source, None
        if old_pending is not None:
            old_pending.close()
        if running:
            if current is not None:
                current.interrupt()
            self._source_changed.set()
        elif current is not None:
            current.close()
        self.finished.clear()

    def add_sink(self, sink: Sink) -> None:
        with self._sink_lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        """Stop writing to ``sink`` and close it (waits for a write in progress)."""
        with self._sink_lock:
            if sink not in self._sinks:
                return
            self._sinks.remove(sink)
        self._close_sink(sink)

    # -- observation -----------------------------------------------------------------------

    def latest(self) -> FramePair | None:
        """The newest (original, stylized, seq), or None before the first frame."""
        return self._latest

    def stats(self) -> PipelineStats:
        engine = self._engine
        return self._stats.snapshot(
            dropped_frames=self._slot.dropped,
            provider=engine.provider if engine is not None else "",
            resolution=self._resolution,
            scale=self._scale_in_use,
            style=self._style_name,
        )

    @property
    def provider(self) -> str:
        """The ONNX Runtime provider really in use ("" while no style is loaded)."""
        engine = self._engine
        return engine.provider if engine is not None else ""

    # -- internals -------------------------------------------------------------------------

    def _emit(self, kind: str, message: str, sink: Sink | None = None) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(PipelineEvent(kind, message, sink))
        except Exception:
            log.exception("pipeline event handler failed")

    def _hook(self, source: FrameSource) -> None:
        source.on_event = self._emit
        if not self._realtime:
            source.set_paced(False)  # a no-op for cameras

    def _close_sink(self, sink: Sink) -> None:
        try:
            sink.close()
        except Exception as exc:
            self._emit("sink_error", f"{type(sink).__name__}: {_one_line(exc)}", sink)

    def _capture_loop(self) -> None:
        seq = 0
        while not self._stop.is_set():
            with self._lock:
                pending, self._pending_source = self._pending_source, None
                old = self._source if pending is not None else None
                if pending is not None:
                    self._source, self._source_done = pending, False
                    self._resolution = pending.size
                    self._source_changed.clear()
                source = self._source
            if old is not None:
                old.close()
            if source is None or self._source_done:
                self._source_changed.wait(0.1)
                continue
            if not source.live:  # read only when the worker has taken the previous frame: none dropped, no stale wait
                while not self._slot.wait_empty(0.1):
                    if self._stop.is_set():
                        return
            try:
                frame = source.read()
            except Exception as exc:
                frame = None
                self._emit("source_ended", f"{source.name} failed: {_one_line(exc)}")
            if frame is None:
                with self._lock:
                    switching = self._pending_source is not None
                if not switching and not self._stop.is_set() and not source.closed:
                    self._source_done = True
                    self.finished.set()
                    self._emit("source_ended", f"{source.name} ended")
                continue
            now = time.monotonic()
            self._stats.captured(now)
            seq += 1
            self._slot.put(_Captured(frame, now, seq))

    def _load_pending_style(self) -> None:
        with self._lock:
            pending, self._pending_style = self._pending_style, _UNSET
        if pending is _UNSET:
            return
        if pending is None:
            self._engine, self._style_name = None, ""
            return
        assert isinstance(pending, Style)
        try:
            engine = load_engine(pending, provider=self._provider_request)
        except StylecamError as exc:
            self._emit("style_error", f"style {pending.name!r} not loaded: {exc}")
            return
        except Exception as exc:  # an ONNX Runtime failure on a file that passed the checks
            self._emit("style_error", f"style {pending.name!r} not loaded: {_one_line(exc)}")
            return
        self._engine, self._style_name = engine, pending.name
        self._emit("style_loaded", f"style {pending.name!r} ({engine.arch}) running on {engine.provider}")

    def _scale_for(self, engine: StyleEngine, options: FrameOptions, width: int, height: int) -> float:
        if options.scale is not None:
            return options.scale
        key = _auto_key(engine, width, height)
        if key not in self._scales:
            target = target_fps_for(self._source.fps if self._source is not None else None)
            self._scales[key] = auto_scale(
                engine.run, arch=engine.arch, provider=engine.provider, width=width, height=height, target_fps=target
            )
            self._watches[key] = LoadWatch(scales_for(engine.arch, width, height), target_fps=target)
        return self._scales[key]

    def _watch_load(self, engine: StyleEngine, options: FrameOptions, width: int, height: int, scale: float, seconds: float) -> None:
        """Auto only: step this stream's scale down when inference keeps missing its budget (:class:`LoadWatch`)."""
        key = _auto_key(engine, width, height)
        watch = self._watches.get(key)
        if options.scale is not None or watch is None:
            return
        lower = watch.observe(scale, seconds)
        if lower != scale:
            self._scales[key] = lower
            self._emit("scale_changed", f"the machine is busy: processing scale {scale:.0%} -> {lower:.0%}")

    def _worker_loop(self) -> None:
        while not self._stop.is_set():
            self._load_pending_style()
            item = self._slot.get(timeout=0.05)
            if item is None:
                continue
            frame = item.frame
            h, w = frame.shape[:2]
            self._resolution = (w, h)
            with self._lock:
                options = self._options
            engine = self._engine
            inference = [0.0]

            def timed(x: np.ndarray, run: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
                t0 = time.perf_counter()
                out = run(x)
                inference[0] += time.perf_counter() - t0
                return out

            try:
                if engine is not None:
                    scale = self._scale_for(engine, options, w, h)
                    self._scale_in_use = scale
                    if self._anchor is None or self._anchor_engine is not engine:
                        self._anchor, self._anchor_engine = GridAnchor(stride=stride_for(engine.arch)), engine
                    run = partial(timed, run=engine.run)
                    original, stylized = apply_options(frame, run, options, scale=scale, anchor=self._anchor)
                else:
                    original, stylized = apply_options(frame, None, options)
            except Exception as exc:
                self._emit("style_error", f"style {self._style_name!r} failed on a {w}x{h} frame: {_one_line(exc)}")
                self._engine, self._style_name = None, ""
                continue
            if engine is not None:
                self._watch_load(engine, options, w, h, scale, inference[0])
            self._latest = FramePair(original, stylized, item.seq)
            self._stats.output(captured_at=item.at, inference_s=inference[0] if engine is not None else None)
            self._write_sinks(stylized)

    def _write_sinks(self, frame: np.ndarray) -> None:
        failed: list[tuple[Sink, BaseException]] = []
        with self._sink_lock:
            for sink in list(self._sinks):
                try:
                    sink.write(frame)
                except Exception as exc:
                    self._sinks.remove(sink)
                    failed.append((sink, exc))
        for sink, exc in failed:
            self._emit("sink_error", f"{type(sink).__name__} stopped: {_one_line(exc)}", sink)
            self._close_sink(sink)
