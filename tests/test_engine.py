"""The inference engine: contract, providers (fallback and the CUDA-missing error), auto scale, per-frame options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from stylecam.engine import autoscale, choose_scale, engine as engine_mod, load_engine
from stylecam.engine.providers import CPU, CUDA, candidate_providers
from stylecam.errors import ProviderError, StyleFileError
from stylecam.processing import FrameOptions, apply_options, network_size
from stylecam.styles import StyleLibrary

from .helpers import make_random_style, synthetic_frame


@pytest.fixture(scope="module")
def lite_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_random_style(tmp_path_factory.mktemp("styles"), name="eng", arch="lite", fp16=True)


def test_engine_contract_shapes_dtypes_odd_sizes_and_batch(lite_files: list[Path]) -> None:
    eng = load_engine(lite_files[0], provider="cpu")
    assert eng.provider == CPU and eng.arch == "lite"
    for h, w in [(48, 64), (33, 47), (32, 32)]:
        out = eng.run(synthetic_frame(h, w, seed=1))
        assert out.shape == (h, w, 3) and out.dtype == np.uint8
    batch = np.stack([synthetic_frame(40, 56, seed=s) for s in range(3)])
    out = eng.run(batch)
    assert out.shape == batch.shape and out.dtype == np.uint8
    # batch items are independent: the batch result equals frame-by-frame results
    np.testing.assert_array_equal(out[1], eng.run(batch[1]))
    assert not np.array_equal(out[0], out[1])


@pytest.mark.parametrize(
    "bad",
    [np.zeros((48, 64, 3), np.float32), np.zeros((48, 64), np.uint8), np.zeros((16, 64, 3), np.uint8), [[1, 2, 3]]],
)
def test_engine_rejects_bad_frames(lite_files: list[Path], bad: object) -> None:
    with pytest.raises(ValueError):
        load_engine(lite_files[0], provider="cpu").run(bad)  # type: ignore[arg-type]


def test_broken_style_file_is_style_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx model at all")
    with pytest.raises(StyleFileError) as info:
        load_engine(bad, provider="cpu")
    assert "\n" not in str(info.value)


def test_unknown_provider_is_provider_error() -> None:
    with pytest.raises(ProviderError):
        candidate_providers("tpu")


def test_auto_prefers_accelerators_and_ends_with_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CPU, "DmlExecutionProvider", CUDA])
    assert candidate_providers("auto") == [CUDA, "DmlExecutionProvider", CPU]
    assert candidate_providers("cpu") == [CPU]
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CPU])
    with pytest.raises(ProviderError, match="CUDA"):
        candidate_providers("cuda")


class _FakeSession:
    """Stands in for a session on which ONNX Runtime silently fell back to ``got``."""

    def __init__(self, got: list[str], real: ort.InferenceSession | None = None) -> None:
        self._got = got
        self._real = real

    def get_providers(self) -> list[str]:
        return self._got

    def run(self, *a: object, **k: object) -> object:
        assert self._real is not None
        return self._real.run(*a, **k)


def _silent_fallback(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Make every CUDA session come back as CPU-only (what onnxruntime-gpu does without a GPU)."""
    asked: list[tuple[str, str]] = []
    real_create = engine_mod.create_session

    def fake(path: Path, provider: str) -> object:
        asked.append((Path(path).name, provider))
        if provider == CUDA:
            return _FakeSession([CPU])
        return real_create(path, provider)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(engine_mod, "create_session", fake)
    return asked


def test_cuda_requested_but_missing_is_one_line_provider_error(lite_files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _silent_fallback(monkeypatch)
    style = StyleLibrary([(lite_files[0].parent, "user")]).get("eng")
    with pytest.raises(ProviderError) as info:
        load_engine(style, provider="cuda")
    assert "CUDA" in str(info.value) and "\n" not in str(info.value)


def test_auto_falls_back_to_cpu_with_the_fp32_file(lite_files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _silent_fallback(monkeypatch)
    style = StyleLibrary([(lite_files[0].parent, "user")]).get("eng")
    eng = load_engine(style, provider="auto")
    assert eng.provider == CPU
    # CUDA was tried with the fp16 variant, the CPU then got the float32 file
    assert asked == [("eng.fp16.onnx", CUDA), ("eng.onnx", CPU)]
    assert eng.run(synthetic_frame(32, 40)).shape == (32, 40, 3)


def test_onnxruntime_fallback_text_stays_off_stdout(lite_files: list[Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """onnxruntime-gpu prints "EP Error ... Falling back" on stdout when CUDA cannot start (seen on a
    GPU machine with the GPU hidden); `stylecam bench --json` must print nothing but its JSON."""

    class PrintingSession:
        def __init__(self, path: str, options: object, providers: list[str]) -> None:
            print("*************** EP Error ***************")
            print(f"EP Error when using {providers}\nFalling back to ['CPUExecutionProvider'] and retrying.")
            self.providers = [CPU]

        def get_providers(self) -> list[str]:
            return self.providers

    monkeypatch.setattr(ort, "InferenceSession", PrintingSession)
    session = engine_mod.create_session(lite_files[1], CUDA)
    assert session.get_providers() == [CPU]
    assert capsys.readouterr().out == ""


def test_choose_scale_picks_largest_that_fits() -> None:
    cost = {1.0: 0.100, 0.75: 0.060, 0.5: 0.030, 0.35: 0.015, 0.25: 0.008}
    tried: list[float] = []

    def timing(s: float) -> float:
        tried.append(s)
        return cost[s]

    assert choose_scale(timing, target_fps=24) == 0.5  # budget 0.85/24 = 35 ms
    assert tried == [1.0, 0.75, 0.5]  # stops measuring at the first that fits
    assert choose_scale(cost.__getitem__, target_fps=5) == 1.0
    assert choose_scale(cost.__getitem__, target_fps=1000) == 0.25  # nothing fits: the smallest
    with pytest.raises(ValueError):
        choose_scale(cost.__getitem__, target_fps=0)


def test_target_fps_follows_the_source_within_15_to_24() -> None:
    assert [autoscale.target_fps_for(f) for f in (60.0, 30.0, 20.0, 5.0, None, 0.0)] == [24.0, 24.0, 20.0, 15.0, 24.0, 24.0]


def test_auto_scale_is_cached_per_arch_provider_and_size() -> None:
    calls: list[float] = []

    def timing(s: float) -> float:
        calls.append(s)
        return 0.02 if s <= 0.75 else 0.2

    kw = dict(arch="lite", provider=CPU, width=640, height=480, target_fps=24.0)
    assert autoscale.auto_scale(lambda f: f, measure=timing, **kw) == 0.75  # type: ignore[arg-type]
    n = len(calls)
    assert autoscale.auto_scale(lambda f: f, measure=timing, **kw) == 0.75  # type: ignore[arg-type]
    assert len(calls) == n  # from the cache
    assert autoscale.cached_scale(autoscale.cache_key("lite", CPU, 640, 480, 24.0)) == 0.75
    assert autoscale.cached_scale(autoscale.cache_key("full", CPU, 640, 480, 24.0)) is None


def test_auto_never_runs_a_live_style_above_its_paint_size() -> None:
    cap = autoscale.PAINT_LONG_SIDE["live"]
    # a 640x480 camera: the cap's scale first, then only smaller ones
    scales = autoscale.scales_for("live", 640, 480)
    assert scales[0] == pytest.approx(cap / 640) and all(s < scales[0] for s in scales[1:])
    # 1280x720 gets the same long side as 640x480, not finer strokes
    assert 1280 * autoscale.scales_for("live", 1280, 720)[0] == pytest.approx(cap)
    assert autoscale.scales_for("live", cap // 2, cap // 4)[0] == 1.0  # a small frame runs whole
    assert autoscale.scales_for("lite", 1280, 720) == autoscale.SCALES  # no cap for that family
    # the pipeline's rule: a machine fast enough for 100 % still gets the cap
    got = autoscale.auto_scale(lambda f: f, measure=lambda s: 0.001, arch="live", provider=CPU, width=1280, height=720)  # type: ignore[arg-type]
    assert round(1280 * got) == cap
    assert autoscale.cache_key("live", CPU, 1, 1, 24) != autoscale.cache_key("lite", CPU, 1, 1, 24).replace("lite", "live")


def test_load_watch_steps_down_only_when_inference_keeps_missing_its_budget() -> None:
    scales = (0.75, 0.5, 0.35)
    watch = autoscale.LoadWatch(scales, target_fps=24.0, window=10)  # budget 35.4 ms, limit 44.3 ms
    # a busy spell shorter than the window, or a median under the limit, changes nothing
    assert [watch.observe(0.75, 0.060) for _ in range(4)] == [0.75] * 4
    assert [watch.observe(0.75, 0.030) for _ in range(20)] == [0.75] * 20
    # kept busy (as the pipeline calls it, with the scale it got back): down once most of the last
    # window is slow, then a full window at the new scale before the next step, and no further than the smallest
    scale, seen = 0.75, []
    for _ in range(25):
        scale = watch.observe(scale, 0.060)
        seen.append(scale)
    assert seen == [0.75] * 4 + [0.5] * 10 + [0.35] * 11
    with pytest.raises(ValueError):
        autoscale.LoadWatch(scales, target_fps=0)


def test_frame_options_validate() -> None:
    for bad in [dict(scale=0.0), dict(scale=1.5), dict(strength=-0.1), dict(strength=2.0)]:
        with pytest.raises(ValueError):
            FrameOptions(**bad)  # type: ignore[arg-type]
    assert network_size(640, 480, 0.5) == (320, 240)
    assert network_size(64, 40, 0.25) == (32, 32)  # never below the networks' minimum


def test_the_enlargement_back_to_the_frame_keeps_single_pixel_strokes() -> None:
    """A style paints detail down to one pixel of its processing size; enlarging its picture to the
    frame must keep that detail's contrast (a bilinear enlargement loses about a third of it)."""
    import cv2

    from stylecam.processing import enlarge

    yy, xx = np.mgrid[0:360, 0:480]
    strokes = np.where((xx + yy // 3) % 3 == 0, 200, 60).astype(np.uint8)
    picture = np.repeat(strokes[..., None], 3, axis=2)
    big = enlarge(picture, 640, 480)
    assert big.shape == (480, 640, 3) and big.dtype == np.uint8
    assert enlarge(picture, 480, 360) is picture
    bilinear = cv2.resize(picture, (640, 480), interpolation=cv2.INTER_LINEAR)
    assert big.astype(float).std() > 1.15 * bilinear.astype(float).std()


def test_apply_options_scale_strength_mirror_and_colors() -> None:
    frame = synthetic_frame(48, 64, seed=3)
    sizes: list[tuple[int, int]] = []

    def invert(x: np.ndarray) -> np.ndarray:
        sizes.append(x.shape[:2])
        return 255 - x

    orig, out = apply_options(frame, invert, FrameOptions(scale=0.75))
    assert sizes == [(36, 48)] and out.shape == frame.shape and orig is frame
    orig, out = apply_options(frame, invert, FrameOptions(strength=0.0))
    np.testing.assert_array_equal(out, frame)
    _, half = apply_options(frame, invert, FrameOptions(strength=0.5))
    assert np.abs(half.astype(int) - 127).max() <= 1  # x/2 + (255-x)/2
    orig, out = apply_options(frame, invert, FrameOptions(mirror=True))
    np.testing.assert_array_equal(orig, frame[:, ::-1])
    np.testing.assert_array_equal(out, 255 - frame[:, ::-1])
    orig, kept = apply_options(frame, invert, FrameOptions(preserve_colors=True))
    import cv2

    y_out = cv2.cvtColor(kept, cv2.COLOR_BGR2YCrCb).astype(int)
    y_inv = cv2.cvtColor(255 - frame, cv2.COLOR_BGR2YCrCb).astype(int)
    y_src = cv2.cvtColor(frame, cv2.COLOR_BGR2YCrCb).astype(int)
    # light from the stylized frame, colour from the original (up to clipping of out-of-gamut pixels)
    assert np.abs(y_out[..., 0] - y_inv[..., 0]).mean() < 8 < np.abs(y_out[..., 0] - y_src[..., 0]).mean()
    assert np.abs(y_out[..., 1:] - y_src[..., 1:]).mean() < 8 < np.abs(y_out[..., 1:] - y_inv[..., 1:]).mean()
    orig, out = apply_options(frame, None, FrameOptions())
    assert out is orig is frame
