"""The live pipeline: newest-frame slot, threads, style/source/sink changes, events and statistics."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from stylecam.errors import SinkError, SourceError
from stylecam.pipeline import NewestSlot, Pipeline, PipelineEvent
from stylecam.processing import FrameOptions
from stylecam.sinks import CallbackSink
from stylecam.styles import StyleLibrary
from stylecam.video import FrameSource, GeneratedSource, ReconnectingSource, synthetic_source

from .helpers import SlowEngine, make_random_style


def _wait(cond, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_slot_keeps_only_the_newest_and_counts_drops() -> None:
    slot: NewestSlot[int] = NewestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.get(timeout=0) == 4 and slot.dropped == 4
    assert slot.get(timeout=0.01) is None  # nothing queued behind it
    got: list[int | None] = []
    t = threading.Thread(target=lambda: got.append(slot.get(timeout=5)))
    t.start()
    time.sleep(0.05)
    slot.put(7)
    t.join()
    assert got == [7] and slot.dropped == 4
    slot.close()
    assert slot.get(timeout=0) is None


class _Counting(FrameSource):
    """Live frames whose pixel value is their number, as fast as asked."""

    def __init__(self, n: int = 10**9) -> None:
        super().__init__()
        self.i, self.n, self.size, self.name = 0, n, (40, 32), "counting"

    def read(self) -> np.ndarray | None:
        if self._closed or self.i >= self.n:
            return None
        self.i += 1
        time.sleep(0.002)
        return np.full((32, 40, 3), self.i % 256, np.uint8)


def test_worker_gets_newest_frame_and_stale_ones_are_dropped() -> None:
    seen: list[int] = []

    def slow(frame: np.ndarray) -> None:
        seen.append(int(frame[0, 0, 0]))
        time.sleep(0.03)  # a slow consumer: the capture runs ~15x faster

    with Pipeline(source=_Counting(), style=None, sinks=[CallbackSink(slow)]) as p:
        assert _wait(lambda: len(seen) >= 6)
        st = p.stats()
    assert st.dropped_frames > 0 and st.frames_captured > st.frames_out
    gaps = np.diff(seen[1:6])
    assert (gaps >= 1).all() and gaps.max() > 1  # newest first, stale frames skipped, never queued
    assert p.latest() is not None


@pytest.fixture(scope="module")
def style_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("styles")
    make_random_style(folder, name="pipe", arch="lite", seed=1)
    return folder


def test_stylized_pipeline_stats_events_and_finish(style_dir: Path) -> None:
    style = StyleLibrary([(style_dir, "user")]).get("pipe")
    events: list[PipelineEvent] = []
    outs: list[np.ndarray] = []
    src = synthetic_source(width=64, height=48, frames=12, pace=False)
    with Pipeline(source=src, style=style, provider="cpu", sinks=[CallbackSink(outs.append)], on_event=events.append) as p:
        assert p.finished.wait(20)
        assert _wait(lambda: len(outs) >= 12, 5)
        st = p.stats()
        pair = p.latest()
    assert [e.kind for e in events] == ["style_loaded", "source_ended"]
    assert p.provider == "CPUExecutionProvider" == st.provider
    assert st.frames_out == 12 and st.dropped_frames == 0  # a non-live source is not dropped
    assert st.resolution == (64, 48) and st.inference_ms_p50 > 0 and st.latency_ms_p95 >= st.latency_ms_p50 > 0
    assert pair is not None and pair.seq == 12 and not np.array_equal(pair.original, pair.stylized)
    assert not p.running


def test_set_style_options_source_and_bad_style(style_dir: Path, tmp_path: Path) -> None:
    style = StyleLibrary([(style_dir, "user")]).get("pipe")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"garbage")
    events: list[PipelineEvent] = []
    p = Pipeline(source=_Counting(), style=None, on_event=events.append)
    with p:
        assert _wait(lambda: p.latest() is not None)
        pair = p.latest()
        assert pair is not None and pair.original is pair.stylized  # unstylized feed
        p.set_options(FrameOptions(mirror=True, scale=0.5))
        p.set_style(style)
        assert _wait(lambda: any(e.kind == "style_loaded" for e in events))
        seq = p.latest().seq  # type: ignore[union-attr]
        assert _wait(lambda: p.latest().seq > seq + 2)  # type: ignore[union-attr]
        assert p.stats().scale == 0.5 and p.stats().style == "pipe"
        from stylecam.styles import Style

        p.set_style(Style(info=style.info, path=broken, fp16_path=None, location="file"))
        assert _wait(lambda: any(e.kind == "style_error" for e in events))
        assert p.stats().style == "pipe"  # the working style stays
        new = synthetic_source(width=48, height=32, pace=False)
        p.set_source(new)
        assert _wait(lambda: p.latest() is not None and p.latest().original.shape == (32, 48, 3))  # type: ignore[union-attr]
    assert new.closed
    assert all("\n" not in e.message for e in events)


def test_failing_sink_is_removed_closed_and_reported() -> None:
    events: list[PipelineEvent] = []
    closed = threading.Event()
    good: list[int] = []

    def explode(_f: np.ndarray) -> None:
        raise SinkError("disk full")

    bad = CallbackSink(explode, on_close=closed.set)
    with Pipeline(source=_Counting(), style=None, sinks=[bad, CallbackSink(lambda f: good.append(1))], on_event=events.append):
        assert _wait(lambda: len(good) >= 5)  # the pipeline keeps running
    assert closed.is_set()
    assert [e.kind for e in events] == ["sink_error"] and "disk full" in events[0].message


def test_remove_sink_closes_it() -> None:
    closed = threading.Event()
    sink = CallbackSink(lambda f: None, on_close=closed.set)
    with Pipeline(source=_Counting(), style=None) as p:
        p.add_sink(sink)
        p.remove_sink(sink)
        assert closed.is_set()


class _Unplugging(FrameSource):
    def __init__(self, frames: int) -> None:
        super().__init__()
        self.left, self.size, self.name = frames, (40, 32), "camera 0"

    def read(self) -> np.ndarray | None:
        if self._closed or self.left <= 0:
            return None
        self.left -= 1
        time.sleep(0.005)
        return np.zeros((32, 40, 3), np.uint8)


def test_camera_loss_reconnects_while_pipeline_keeps_running() -> None:
    tries = [0]

    def factory() -> FrameSource:
        tries[0] += 1
        if tries[0] < 3:
            raise SourceError("camera 0 cannot be opened")
        return _Unplugging(10**6)

    src = ReconnectingSource(factory, first=_Unplugging(5), backoff=(0.02,))
    events: list[PipelineEvent] = []
    with Pipeline(source=src, style=None, on_event=events.append) as p:
        assert _wait(lambda: any(e.kind == "reconnected" for e in events))
        n = p.stats().frames_out
        assert _wait(lambda: p.stats().frames_out > n + 3)
        assert not p.finished.is_set()
    kinds = [e.kind for e in events]
    assert kinds[0] == "camera_lost" and kinds.count("reconnecting") == 3 and kinds[-1] == "reconnected"


def numbered_clip(n: int = 30, fps: float = 30.0) -> GeneratedSource:
    """``n`` frames at ``fps``, paced like a file shown live; frame i is filled with the value 8 * i."""
    return GeneratedSource(lambda i: np.full((48, 64, 3), 8 * i, np.uint8), name="numbered", size=(64, 48), fps=fps,
                           frames=n, pace=True)  # fmt: skip


@pytest.mark.parametrize("realtime", [False, True])
def test_file_to_file_keeps_every_frame_in_order(style_dir: Path, monkeypatch: pytest.MonkeyPatch, realtime: bool) -> None:
    # The stylizer takes 4 frame periods per frame: real time must drop, a conversion must not.
    monkeypatch.setattr("stylecam.pipeline.pipeline.load_engine", lambda style, provider: SlowEngine(0.12))
    style = StyleLibrary([(style_dir, "user")]).get("pipe")
    seen: list[int] = []
    events: list[PipelineEvent] = []
    src = numbered_clip()
    pipe = Pipeline(source=src, style=style, options=FrameOptions(scale=1.0), sinks=[CallbackSink(lambda f: seen.append(int(f[0, 0, 0]) // 8))],
                    on_event=events.append, realtime=realtime)  # fmt: skip
    with pipe:
        assert pipe.finished.wait(30)
    kinds = [e.kind for e in events]
    assert kinds == ["style_loaded", "source_ended"]
    if realtime:
        assert src.live and 0 < len(seen) < 30 and pipe.stats().dropped_frames > 0  # today's live behaviour
    else:
        assert not src.live  # unpaced: as fast as the stylizer goes
        assert seen == list(range(30)) and pipe.stats().dropped_frames == 0


def test_cameras_stay_real_time_when_not_realtime() -> None:
    cam = _Counting()
    with Pipeline(source=cam, style=None, realtime=False) as p:
        assert _wait(lambda: p.latest() is not None)
    assert cam.live and not cam.recorded


@pytest.mark.parametrize("anchor", [True, False])
def test_the_worker_holds_a_panning_scene_at_one_phase_of_the_networks_grid(
    style_dir: Path, monkeypatch: pytest.MonkeyPatch, anchor: bool
) -> None:
    """Grid anchoring (FrameOptions.anchor, on by default) happens in the worker: the engine gets each
    frame padded so that the panning scene keeps one phase of its 4 px grid; the output is cropped back."""
    import cv2

    from stylecam.quality import panning_clip

    from .helpers import synthetic_frame

    inputs: list[np.ndarray] = []

    class Recording(SlowEngine):
        arch = "live"

        def run(self, frames: np.ndarray) -> np.ndarray:
            inputs.append(frames.copy())
            return frames.copy()

    monkeypatch.setattr("stylecam.pipeline.pipeline.load_engine", lambda style, provider: Recording(0.0))
    scene = cv2.resize(synthetic_frame(60, 100, seed=11), (400, 240), interpolation=cv2.INTER_CUBIC)
    clip = panning_clip(scene, frames=8, shift_px=1, size=(96, 128))
    src = GeneratedSource(lambda i: clip[i], name="pan", size=(128, 96), fps=30, frames=len(clip), pace=False)
    outs: list[np.ndarray] = []
    style = StyleLibrary([(style_dir, "user")]).get("pipe")
    with Pipeline(source=src, style=style, options=FrameOptions(scale=1.0, anchor=anchor), sinks=[CallbackSink(outs.append)]) as p:
        assert p.finished.wait(20) and _wait(lambda: len(outs) == len(clip), 5)
    assert all(np.array_equal(o, f) for o, f in zip(outs, clip))
    if not anchor:
        assert {x.shape for x in inputs} == {(96, 128, 3)}
        return
    assert {x.shape for x in inputs} == {(99, 131, 3)}
    lefts = [next(left for left in range(4) if np.array_equal(x[:96, left : left + 128], f)) for x, f in zip(inputs, clip)]
    # the scene moves 1 px left a frame; the padding moves it back, so its grid phase stays put
    assert len({(left - i) % 4 for i, left in enumerate(lefts)}) == 1 and len(set(lefts)) == 4


@pytest.mark.parametrize("scale", [None, 1.0])
def test_auto_steps_the_scale_down_when_the_machine_gets_busy(
    style_dir: Path, monkeypatch: pytest.MonkeyPatch, scale: float | None
) -> None:
    """Auto measured 100 % on an idle machine; then every frame takes 60 ms, over a 24 fps source's
    budget: the worker steps down and says so. A scale the user set is left alone."""
    monkeypatch.setattr("stylecam.pipeline.pipeline.load_engine", lambda style, provider: SlowEngine(0.06))
    monkeypatch.setattr("stylecam.pipeline.pipeline.auto_scale", lambda run, **kw: 1.0)
    style = StyleLibrary([(style_dir, "user")]).get("pipe")
    events: list[PipelineEvent] = []
    with Pipeline(source=numbered_clip(n=45, fps=24.0), style=style, options=FrameOptions(scale=scale),
                  on_event=events.append, realtime=False) as pipe:  # fmt: skip
        assert pipe.finished.wait(30)
        used = pipe.stats().scale
    changed = [e.message for e in events if e.kind == "scale_changed"]
    if scale is None:
        assert changed == ["the machine is busy: processing scale 100% -> 75%"] and used == 0.75
    else:
        assert changed == [] and used == 1.0
