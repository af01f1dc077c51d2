"""Snapshot mode (Gatys, DeepDream, jobs) with the tiny random VGG: fast, behaviour only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from stylecam import accel
from stylecam.errors import StylecamError, WeightsError
from stylecam.perceptual.losses import gram_matrix
from stylecam.snapshot import (
    CancelToken,
    DreamConfig,
    GatysConfig,
    PerceptualSource,
    Progress,
    SnapshotError,
    SnapshotJob,
    dream,
    gatys,
)
from stylecam.snapshot.color import match_colors
from stylecam.snapshot.common import resolve_device, to_tensor
from stylecam.snapshot.dream import octave_sizes
from stylecam.snapshot.gatys import scale_plan

from .helpers import synthetic_frame

TINY = PerceptualSource.tiny(0)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny networks gain nothing from threads, and on a busy CI machine OpenMP spinning costs a lot."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _float32_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bf16="auto"`` means float32 here, as on a CPU without bf16: the results of these tests must
    not depend on the machine (L-BFGS amplifies bf16's rounding). The bf16 tests ask for it."""
    monkeypatch.setattr(accel, "cpu_bf16_is_fast", lambda: False)


# The tiny random VGG's activations are far smaller than the real one's: weight the style up.
# No early stop and no timed previews: these tests count steps and previews.
FAST = GatysConfig(size=64, steps=12, scales=1, style_weight=1e4, tv_weight=0.0, preview_every=4, stop_tolerance=0.0, preview_seconds=1e9)


def stripes(height: int = 64, width: int = 64) -> np.ndarray:
    """Saturated red/blue horizontal stripes, (H, W, 3) uint8 BGR."""
    img = np.zeros((height, width, 3), np.uint8)
    img[(np.arange(height) // 4 % 2 == 0)] = (255, 0, 0)
    img[(np.arange(height) // 4 % 2 == 1)] = (0, 0, 255)
    return img


def green_noise(height: int = 64, width: int = 64, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :, 1] = rng.integers(0, 256, (height, width))
    return img


def style_distance(image: np.ndarray, style: np.ndarray, layers: tuple[str, ...] = FAST.style_layers) -> float:
    """Sum over layers of the Gram MSE between ``image`` and ``style`` under the tiny VGG."""
    vgg = TINY.features(layers, torch.device("cpu"))
    with torch.no_grad():
        fi, fs = vgg(to_tensor(image, torch.device("cpu"))), vgg(to_tensor(style, torch.device("cpu")))
        return float(sum(torch.mean((gram_matrix(fi[la]) - gram_matrix(fs[la])) ** 2) for la in layers))


def test_gatys_losses_fall_and_previews_arrive() -> None:
    reports: list[Progress] = []
    content = synthetic_frame(48, 64, seed=3)
    out = gatys(content, [stripes()], config=FAST, perceptual=TINY, device="cpu", progress=reports.append)
    assert out.dtype == np.uint8 and out.shape == (48, 64, 3)
    assert [r.step for r in reports[:-1]] == list(range(1, FAST.steps + 1))
    assert all(r.total == FAST.steps for r in reports)
    first, last = reports[0].losses, reports[-1].losses
    assert set(first) == {"content", "style", "tv", "total"}
    assert last["total"] < 0.5 * first["total"]
    with_preview = [r.step for r in reports[:-1] if r.preview is not None]
    assert with_preview == [4, 8, 12]
    assert reports[-1].preview is not None and np.array_equal(reports[-1].preview, out)
    assert not np.array_equal(out, content)


def test_gatys_coarse_to_fine_runs_every_scale_and_sizes_to_config() -> None:
    stages: list[str] = []
    cfg = GatysConfig(size=128, steps=6, scales=2, style_weight=1e4, preview_every=100)
    out = gatys(synthetic_frame(60, 80), [stripes()], config=cfg, perceptual=TINY, device="cpu", progress=lambda p: stages.append(p.stage))
    assert out.shape == (96, 128, 3)  # long side == size, aspect kept (content is upscaled)
    assert stages[0].startswith("scale 1/2 (64x48)") and stages[-1].startswith("scale 2/2 (128x96)")


def test_scale_plan_splits_steps_and_drops_tiny_scales() -> None:
    plan = scale_plan(512, 384, GatysConfig(size=512, steps=219, scales=3))
    assert [(h, w) for h, w, _ in plan] == [(128, 96), (256, 192), (512, 384)]
    assert [s for _, _, s in plan] == [48, 70, 101]  # 0.49 : 0.7 : 1
    auto = scale_plan(512, 384, GatysConfig(size=512))
    assert [(h, w, s) for h, w, s in auto] == [(256, 192, 59), (512, 384, 86)]  # the defaults
    assert [(h, w) for h, w, _ in scale_plan(1080, 1920, GatysConfig(size=1920))] == [(270, 480), (540, 960), (1080, 1920)]
    assert len(scale_plan(384, 288, GatysConfig(size=384))) == 1  # a 192 px coarse scale would not pay
    # automatic caps: a single scale has no coarser one to do the early work, so it gets more steps
    assert scale_plan(256, 192, GatysConfig(size=256)) == [(256, 192, 300)]
    assert scale_plan(256, 192, GatysConfig(size=256, steps=145)) == [(256, 192, 145)]  # an explicit cap stays
    assert (GatysConfig().window_for(2), GatysConfig().window_for(1), GatysConfig(stop_window=7).window_for(1)) == (10, 50, 7)
    assert len(scale_plan(64, 48, GatysConfig(size=64, scales=3))) == 1  # 32 px would be too coarse
    assert sum(s for _, _, s in scale_plan(200, 100, GatysConfig(size=200, steps=7, scales=2))) == 7


def test_adam_and_noise_init_lower_the_loss_and_are_seeded() -> None:
    cfg = GatysConfig(size=48, steps=8, scales=1, optimizer="adam", init="noise", style_weight=1e4, learning_rate=8.0, seed=5)
    totals: list[float] = []
    a = gatys(synthetic_frame(64, 64), [stripes()], config=cfg, perceptual=TINY, device="cpu", progress=lambda p: totals.append(p.losses["total"]))
    b = gatys(synthetic_frame(64, 64), [stripes()], config=cfg, perceptual=TINY, device="cpu")
    assert totals[-1] < totals[0]
    assert np.array_equal(a, b)


def test_cancel_from_callback_returns_best_image_so_far() -> None:
    token = CancelToken()
    seen: list[int] = []

    def on_progress(p: Progress) -> None:
        seen.append(p.step)
        if p.step == 3:
            token.cancel()

    cfg = GatysConfig(size=64, steps=200, scales=1, style_weight=1e4)
    out = gatys(synthetic_frame(48, 64), [stripes()], config=cfg, perceptual=TINY, device="cpu", progress=on_progress, cancel=token)
    assert out.shape == (48, 64, 3)
    assert max(seen[:-1]) == 3  # the L-BFGS closure stopped at the next evaluation


def test_blend_weights_one_zero_equal_single_style_and_blend_lies_between() -> None:
    content = synthetic_frame(48, 48, seed=2)
    a, b = stripes(48, 48), green_noise(48, 48)
    cfg = GatysConfig(size=48, steps=15, scales=1, style_weight=1e5, tv_weight=0.0)
    only_a = gatys(content, [a], config=cfg, perceptual=TINY, device="cpu")
    a_of_ab = gatys(content, [a, b], style_weights=[1.0, 0.0], config=cfg, perceptual=TINY, device="cpu")
    only_b = gatys(content, [b], config=cfg, perceptual=TINY, device="cpu")
    half = gatys(content, [a, b], style_weights=[0.5, 0.5], config=cfg, perceptual=TINY, device="cpu")
    assert np.array_equal(only_a, a_of_ab)
    d_a = [style_distance(x, a) for x in (only_a, half, only_b)]
    d_b = [style_distance(x, b) for x in (only_a, half, only_b)]
    assert d_a[0] < d_a[1] < d_a[2]
    assert d_b[2] < d_b[1] < d_b[0]


def chroma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)[:, :, 1:].astype(np.float64)


def test_luminance_preservation_keeps_the_content_chroma() -> None:
    content = synthetic_frame(64, 64, seed=4)
    cfg = GatysConfig(size=64, steps=8, scales=1, style_weight=1e5)
    plain = gatys(content, [stripes()], config=cfg, perceptual=TINY, device="cpu")
    kept = gatys(content, [stripes()], config=replace(cfg, preserve_colors="luminance"), perceptual=TINY, device="cpu")
    diff_kept = np.abs(chroma(kept) - chroma(content))
    diff_plain = np.abs(chroma(plain) - chroma(content))
    # Exact up to uint8 rounding, except where the new luminance with the old chroma leaves the RGB gamut.
    assert np.median(diff_kept) <= 1.0
    assert np.median(diff_plain) > 5.0
    assert diff_plain.mean() > 3 * diff_kept.mean()
    # the luminance did change: it carries the style
    assert np.abs(kept.astype(int) - content.astype(int)).mean() > 2


def test_histogram_matching_gives_the_style_the_content_colours() -> None:
    content = synthetic_frame(64, 64, seed=4)
    rng = np.random.default_rng(0)
    greenish = rng.normal((30, 200, 90), (10, 30, 20), (64, 64, 3)).clip(0, 255).astype(np.uint8)
    recoloured = match_colors(greenish, content)
    px_c, px_r = content.reshape(-1, 3).astype(float), recoloured.reshape(-1, 3).astype(float)
    assert np.allclose(px_r.mean(0), px_c.mean(0), atol=2.0)
    assert np.allclose(np.cov(px_r, rowvar=False), np.cov(px_c, rowvar=False), rtol=0.25, atol=30)  # clipping at 0 and 255 trims the tails
    cfg = GatysConfig(size=48, steps=8, scales=1, style_weight=1e5, preserve_colors="histogram")
    plain = gatys(content, [stripes()], config=replace(cfg, preserve_colors="none"), perceptual=TINY, device="cpu")
    kept = gatys(content, [stripes()], config=cfg, perceptual=TINY, device="cpu")
    mean_c = content.reshape(-1, 3).mean(0)
    assert np.abs(kept.reshape(-1, 3).mean(0) - mean_c).sum() < np.abs(plain.reshape(-1, 3).mean(0) - mean_c).sum()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"size": 0}, "size"),
        ({"size": -5}, "size"),
        ({"size": 5000}, "size"),
        ({"steps": -1}, "steps"),
        ({"content_layer": "relu9_9"}, "relu9_9"),
        ({"style_layers": ("relu1_1", "conv_1")}, "conv_1"),
        ({"style_layers": ()}, "style_layers"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"preserve_colors": "yes"}, "preserve_colors"),
        ({"style_weight": -1.0}, "style_weight"),
    ],
)
def test_bad_gatys_options_raise_one_line_errors(kwargs: dict, words: str) -> None:
    with pytest.raises(SnapshotError) as info:
        GatysConfig(**kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_gatys_inputs_raise_one_line_errors() -> None:
    content = synthetic_frame(48, 64)
    cases = [
        (lambda: gatys(content, [stripes(), stripes()], style_weights=[1.0], config=FAST, perceptual=TINY), "weights"),
        (lambda: gatys(content, [stripes()], style_weights=[0.0], config=FAST, perceptual=TINY), "weights"),
        (lambda: gatys(content, [], config=FAST, perceptual=TINY), "style"),
        (lambda: gatys(content, stripes(), config=FAST, perceptual=TINY), "list"),
        (lambda: gatys(content.astype(np.float32), [stripes()], config=FAST, perceptual=TINY), "uint8"),
        (lambda: gatys(np.zeros((0, 5, 3), np.uint8), [stripes()], config=FAST, perceptual=TINY), "empty"),
        (lambda: gatys(np.zeros((2, 300, 3), np.uint8), [stripes()], config=FAST, perceptual=TINY), "thin"),
    ]
    for call, word in cases:
        with pytest.raises(SnapshotError) as info:
            call()
        assert word in str(info.value) and "\n" not in str(info.value)


def test_default_perceptual_without_weights_is_a_one_line_weights_error() -> None:
    with pytest.raises(WeightsError) as info:
        gatys(synthetic_frame(48, 64), [stripes()], config=FAST, device="cpu")
    assert "\n" not in str(info.value)


def test_device_resolution() -> None:
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(SnapshotError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(SnapshotError, match="CUDA"):
            resolve_device("cuda")


# --- DeepDream ---------------------------------------------------------------------------------

DREAM = DreamConfig(layer="relu3_3", octaves=2, steps=4, jitter=4, preview_every=2, preview_seconds=1e9)


def test_dream_changes_the_image_and_the_objective_rises() -> None:
    content = synthetic_frame(64, 80, seed=6)
    reports: list[Progress] = []
    out = dream(content, config=DREAM, perceptual=TINY, device="cpu", progress=reports.append)
    assert out.shape == content.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - content.astype(int)).mean() > 3
    steps = [r for r in reports[:-1]]
    assert [r.step for r in steps] == list(range(1, 9)) and all(r.total == 8 for r in steps)
    assert steps[0].stage.startswith("octave 1/2") and steps[-1].stage.startswith("octave 2/2")
    first_octave = [r.losses["objective"] for r in steps[:4]]
    assert first_octave[-1] > first_octave[0]
    assert [r.step for r in steps if r.preview is not None] == [2, 4, 6, 8]
    assert np.array_equal(reports[-1].preview, out)


def test_gatys_and_dream_run_with_the_heap_retained_and_release_it() -> None:
    from stylecam import heap

    seen: list[bool] = []
    content = synthetic_frame(64, 64, seed=2)
    gatys(content, [synthetic_frame(64, 64, seed=3)], config=GatysConfig(size=64, steps=2), perceptual=TINY, device="cpu",
          progress=lambda p: seen.append(heap.active()))  # fmt: skip
    dream(content, config=DreamConfig(layer="relu3_3", octaves=1, steps=2), perceptual=TINY, device="cpu",
          progress=lambda p: seen.append(heap.active()))  # fmt: skip
    assert len(seen) >= 4 and all(seen)
    assert not heap.active()


def test_octaves_are_planned_smallest_first_and_reduced_for_small_images() -> None:
    assert octave_sizes(720, 1280, DreamConfig(octaves=4, octave_scale=1.4)) == [(262, 466), (367, 653), (514, 914), (720, 1280)]
    assert len(octave_sizes(40, 40, DreamConfig(octaves=4))) == 1
    out = dream(synthetic_frame(96, 96), config=DreamConfig(layer="relu3_3", octaves=3, steps=2), perceptual=TINY, device="cpu")
    assert out.shape == (96, 96, 3)


def test_dream_detail_carries_across_octaves() -> None:
    content = synthetic_frame(64, 64, seed=1)
    one = dream(content, config=DreamConfig(layer="relu3_3", octaves=1, steps=3, jitter=0), perceptual=TINY, device="cpu")
    two = dream(content, config=DreamConfig(layer="relu3_3", octaves=2, steps=3, jitter=0), perceptual=TINY, device="cpu")
    # two octaves apply the first octave's (upsampled) detail plus 3 more steps: a larger change
    assert np.abs(two.astype(int) - content.astype(int)).mean() > np.abs(one.astype(int) - content.astype(int)).mean()


def test_guide_and_channels_steer_the_dream() -> None:
    content = synthetic_frame(64, 64, seed=7)
    plain = dream(content, config=DREAM, perceptual=TINY, device="cpu")
    guided = dream(content, config=DREAM, guide=stripes(), perceptual=TINY, device="cpu")
    picked = dream(content, config=replace(DREAM, channels=(0, 3)), perceptual=TINY, device="cpu")
    assert not np.array_equal(plain, guided)
    assert not np.array_equal(plain, picked)
    # Guided towards stripes: the result's features match the stripes' better than the plain dream's.
    assert style_distance(guided, stripes(), ("relu3_3",)) < style_distance(plain, stripes(), ("relu3_3",))
    with pytest.raises(SnapshotError, match="channel 99"):
        dream(content, config=replace(DREAM, channels=(99,)), perceptual=TINY, device="cpu")


@pytest.mark.parametrize(
    "kwargs",
    [{"layer": "inception_4c"}, {"layer": "conv3_3"}, {"octaves": 0}, {"octave_scale": 1.0}, {"steps": -1},
     {"step_size": 0.0}, {"channels": (-1,)}, {"guide_weight": 2.0}, {"max_size": 0}],
)  # fmt: skip
def test_bad_dream_options_raise_one_line_errors(kwargs: dict) -> None:
    with pytest.raises(SnapshotError) as info:
        DreamConfig(**kwargs)
    assert "\n" not in str(info.value)


def test_dream_shrinks_to_max_size_and_rejects_tiny_content() -> None:
    out = dream(synthetic_frame(60, 120), config=DreamConfig(layer="relu2_2", octaves=1, steps=1, max_size=64), perceptual=TINY, device="cpu")
    assert out.shape == (32, 64, 3)
    with pytest.raises(SnapshotError, match="too small"):
        dream(synthetic_frame(20, 64), config=DREAM, perceptual=TINY, device="cpu")


# --- jobs --------------------------------------------------------------------------------------


def test_job_runs_in_background_and_stops_at_the_next_evaluation_after_cancel() -> None:
    """Cancel takes effect at the next objective evaluation (a few ms each at snapshot sizes: "within
    a second"). Counted, not timed: the steps that finish after the cancel are at most the one in
    flight when it came, then the final report of the best image so far."""
    reports: list[tuple[Progress, bool]] = []
    running = threading.Event()
    job: SnapshotJob | None = None

    def on_progress(p: Progress) -> None:
        assert job is not None
        reports.append((p, job.token.cancelled))
        running.set()

    job = SnapshotJob.gatys_job(
        synthetic_frame(48, 64), [stripes()], config=GatysConfig(size=64, steps=100000, scales=1, style_weight=1e4),
        perceptual=TINY, device="cpu", progress=on_progress,
    )  # fmt: skip
    job.start()
    assert running.wait(timeout=60) and not job.done.is_set()
    job.cancel()
    assert job.join(timeout=60)
    assert job.error is None and job.result is not None and job.result.shape == (48, 64, 3)
    *steps, (final, _) = reports
    assert final.stage.endswith("(cancelled)") and final.preview is not None
    assert np.array_equal(final.preview, job.result)
    assert sum(after_cancel for _, after_cancel in steps) <= 1
    assert 1 <= len(steps) < 100000


def test_job_reports_errors_instead_of_raising() -> None:
    job = SnapshotJob(dream, synthetic_frame(48, 64), config=DREAM, perceptual=TINY, device="tpu")
    job.start()
    assert job.join(timeout=10)
    assert isinstance(job.error, SnapshotError) and job.result is None

    def broken(*args: object, **kwargs: object) -> np.ndarray:
        raise RuntimeError("CUDA out of memory.\nTried to allocate 2 GiB")

    job = SnapshotJob(broken)
    job.start()
    assert job.join(timeout=10)
    assert isinstance(job.error, StylecamError) and "out of memory" in str(job.error) and "\n" not in str(job.error)


def test_dream_job_completes() -> None:
    job = SnapshotJob.dream_job(synthetic_frame(48, 64), config=DREAM, perceptual=TINY, device="cpu")
    job.start()
    assert job.join(timeout=30)
    assert job.error is None and job.result is not None and job.result.shape == (48, 64, 3)


# --- issue 12: bf16, early stopping, init image, cancel inside an evaluation ---------------------


def test_bf16_runs_the_vgg_in_bf16_and_keeps_the_image_float32() -> None:
    seen: list[tuple[torch.dtype, torch.dtype]] = []  # (the image fed to VGGFeatures, its first feature map)

    def make(layers: list[str]) -> torch.nn.Module:
        vgg = TINY.features(layers, torch.device("cpu"))
        normalize = vgg.normalize

        def recording(images: torch.Tensor) -> torch.Tensor:
            seen.append((images.dtype, vgg.trunk[0].weight.dtype))
            return normalize(images)

        vgg.normalize = recording  # type: ignore[method-assign]
        return vgg

    source = PerceptualSource(make, description="recording")
    on = gatys(synthetic_frame(48, 64), [stripes()], config=replace(FAST, bf16="on"), perceptual=source, device="cpu")
    # the network gets the float32 image; on the CPU a bf16 copy of the trunk computes
    assert seen and all(pair == (torch.float32, torch.bfloat16) for pair in seen)
    seen.clear()
    off = gatys(synthetic_frame(48, 64), [stripes()], config=replace(FAST, bf16="off"), perceptual=source, device="cpu")
    assert seen and all(pair == (torch.float32, torch.float32) for pair in seen)
    assert on.shape == off.shape and not np.array_equal(on, off)
    seen.clear()
    dream(synthetic_frame(48, 64), config=replace(DREAM, bf16="on"), perceptual=source, device="cpu")
    assert seen and all(pair == (torch.float32, torch.bfloat16) for pair in seen)


def test_bf16_auto_falls_back_to_float32_where_the_cpu_is_not_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylecam.snapshot.common import autocast_features

    cpu = torch.device("cpu")
    monkeypatch.setattr(accel, "cpu_bf16_is_fast", lambda: False)
    assert autocast_features(torch.nn.Identity(), "auto", cpu).dtype is None
    monkeypatch.setattr(accel, "cpu_bf16_is_fast", lambda: True)
    assert autocast_features(torch.nn.Identity(), "auto", cpu).dtype is torch.bfloat16
    assert autocast_features(torch.nn.Identity(), "off", cpu).dtype is None
    # With the probe saying no, auto is exactly the float32 run.
    monkeypatch.setattr(accel, "cpu_bf16_is_fast", lambda: False)
    auto = gatys(synthetic_frame(48, 64), [stripes()], config=replace(FAST, bf16="auto"), perceptual=TINY, device="cpu")
    off = gatys(synthetic_frame(48, 64), [stripes()], config=replace(FAST, bf16="off"), perceptual=TINY, device="cpu")
    assert np.array_equal(auto, off)


def test_plateau_stops_on_a_plateau_and_not_before() -> None:
    from stylecam.snapshot.gatys import Plateau

    falling = Plateau(tolerance=0.01, window=5)
    assert not any(falling.update(100.0 * 0.99**i) for i in range(200))  # 1 % a step: 5 % a window
    flat = Plateau(tolerance=0.01, window=5)
    values = [100.0 * 0.9**i for i in range(10)] + [100.0 * 0.9**9] * 10
    stops = [flat.update(v) for v in values]
    assert stops.index(True) == 9 + 5  # five evaluations after the last improvement, not one earlier
    slow = Plateau(tolerance=0.01, window=5)
    assert [slow.update(100.0 - 0.1 * i) for i in range(7)] == [False] * 5 + [True, True]  # 0.5 % per window
    never = Plateau(tolerance=0.0, window=1)
    assert not any(never.update(1.0) for _ in range(50))


def test_gatys_stops_early_on_a_flat_objective_and_runs_the_cap_on_a_falling_one() -> None:
    reports: list[Progress] = []
    # Content init, no style, no TV: the objective is 0 from the start, a plateau at once.
    flat = replace(FAST, steps=40, style_weight=0.0, stop_tolerance=0.01, stop_window=6)
    gatys(synthetic_frame(48, 64), [stripes()], config=flat, perceptual=TINY, device="cpu", progress=reports.append)
    final = reports[-1]
    assert final.evaluations == 7 and final.step == final.total == 40
    assert final.stopped == "scale 1/1 (64x48): plateau after 7/40 steps"
    reports.clear()
    falling = replace(FAST, steps=10, stop_tolerance=1e-6, stop_window=3)
    gatys(synthetic_frame(48, 64), [stripes()], config=falling, perceptual=TINY, device="cpu", progress=reports.append)
    assert reports[-1].evaluations == 10 and "step cap after 10/10" in reports[-1].stopped


def test_each_scale_stops_on_its_own_and_the_bar_jumps_to_its_share() -> None:
    reports: list[Progress] = []
    cfg = GatysConfig(size=128, steps=40, scales=2, style_weight=0.0, tv_weight=0.0, stop_window=4, preview_seconds=1e9)
    gatys(synthetic_frame(60, 80), [stripes()], config=cfg, perceptual=TINY, device="cpu", progress=reports.append)
    assert reports[-1].stopped == "scale 1/2 (64x48): plateau after 5/16 steps; scale 2/2 (128x96): plateau after 5/24 steps"
    fine = [r for r in reports[:-1] if r.stage.startswith("scale 2/2")]
    assert [r.step for r in fine] == [17, 18, 19, 20, 21] and [r.evaluations for r in fine] == [6, 7, 8, 9, 10]


def test_init_image_is_the_start_and_changes_the_result() -> None:
    content = synthetic_frame(48, 64, seed=3)
    painted = green_noise(30, 50, seed=4)  # any size: resized to each scale
    first: list[np.ndarray] = []
    cfg = replace(FAST, init="image", steps=6, preview_every=1)
    from_image = gatys(content, [stripes()], config=cfg, init_image=painted, perceptual=TINY, device="cpu",
                       progress=lambda p: first.append(p.preview) if p.preview is not None else None)  # fmt: skip
    from_content = gatys(content, [stripes()], config=replace(cfg, init="content"), perceptual=TINY, device="cpu")
    assert not np.array_equal(from_image, from_content)
    green = cv2.resize(painted, (64, 48), interpolation=cv2.INTER_CUBIC)
    # After one L-BFGS step the image is still close to where it started: the green picture, not the photo.
    d_green = np.abs(first[0].astype(int) - green.astype(int)).mean()
    d_photo = np.abs(first[0].astype(int) - content.astype(int)).mean()
    assert d_green < d_photo / 2
    # The photo stays the content target: the content loss is not measured against the init image.
    again = gatys(content, [stripes()], config=replace(cfg, style_weight=0.0), init_image=content, perceptual=TINY, device="cpu")
    assert np.abs(again.astype(int) - content.astype(int)).mean() < 1.0


def test_init_image_on_the_finer_scales_brings_its_own_detail() -> None:
    content = synthetic_frame(60, 80, seed=3)
    painted = stripes(96, 128)  # fine horizontal stripes the 64 px scale cannot carry
    cfg = GatysConfig(size=128, steps=2, scales=2, style_weight=0.0, tv_weight=0.0, init="image", stop_tolerance=0.0, preview_every=1, preview_seconds=1e9)
    previews: list[Progress] = []
    gatys(content, [stripes()], config=cfg, init_image=painted, perceptual=TINY, device="cpu", progress=previews.append)
    start_fine = next(p.preview for p in previews if p.stage.startswith("scale 2/2") and p.preview is not None)
    rows = start_fine[:, :, 2].astype(float).mean(axis=1)  # red rows vs blue rows
    assert np.abs(np.diff(rows)).mean() > 20  # the stripes are there at full size


@pytest.mark.parametrize(
    ("kwargs", "init_image", "words"),
    [
        ({"init": "image"}, None, "needs an init image"),
        ({"init": "content"}, np.zeros((8, 8, 3), np.uint8), "init is 'content'"),
        ({"init": "image"}, np.zeros((8, 8), np.uint8), "init image"),
    ],
)
def test_bad_init_image_use_is_a_one_line_error(kwargs: dict, init_image: np.ndarray | None, words: str) -> None:
    with pytest.raises(SnapshotError) as info:
        gatys(synthetic_frame(48, 64), [stripes()], config=replace(FAST, **kwargs), init_image=init_image, perceptual=TINY, device="cpu")
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"init": "photo"}, {"bf16": "yes"}, {"stop_tolerance": -0.1}, {"stop_tolerance": 1.0}, {"stop_window": -1}, {"preview_seconds": 0}],
)
def test_bad_new_gatys_options_raise_one_line_errors(kwargs: dict) -> None:
    with pytest.raises(SnapshotError) as info:
        GatysConfig(**kwargs)
    assert next(iter(kwargs)) in str(info.value) and "\n" not in str(info.value)


def test_previews_come_at_least_every_preview_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylecam.snapshot import common

    clock = [0.0]

    def tick() -> float:
        clock[0] += 0.3  # every reading of the clock: 0.3 s of "work"
        return clock[0]

    monkeypatch.setattr(common, "_clock", tick)
    reports: list[Progress] = []
    cfg = replace(FAST, preview_every=1000, preview_seconds=1.0)
    gatys(synthetic_frame(48, 64), [stripes()], config=cfg, perceptual=TINY, device="cpu", progress=reports.append)
    with_preview = [r.step for r in reports[:-1] if r.preview is not None]
    assert with_preview == [4, 8, 12]  # 1.2 s after the start, then 1.2 s after each preview


def test_cancel_inside_an_evaluation_stops_within_a_layer() -> None:
    """A cancel arriving during the network's forward or backward leaves at the next layer, not
    after the whole evaluation (about a second per evaluation at 512 px on a CPU)."""
    token = CancelToken()
    layers_after_cancel: list[int] = []
    calls = [0]

    def count(*_: object) -> None:
        calls[0] += 1
        if calls[0] == 40:  # somewhere in the second evaluation's forward
            token.cancel()
        if token.cancelled:
            layers_after_cancel.append(calls[0])

    vgg_hooks = []
    source = PerceptualSource(lambda layers: _hooked(TINY.features(layers, torch.device("cpu")), count, vgg_hooks), description="hooked")
    out = gatys(synthetic_frame(48, 64), [stripes()], config=replace(FAST, steps=100), perceptual=source, device="cpu", cancel=token)
    assert out.shape == (48, 64, 3)
    assert len(layers_after_cancel) == 1  # the layer that saw the cancel was the last one run


def _hooked(vgg: torch.nn.Module, fn: object, keep: list) -> torch.nn.Module:
    """``vgg`` with ``fn`` called before every leaf layer's forward (registered first, so it runs
    before the cancel check of the same layer)."""
    for m in vgg.modules():
        if not any(True for _ in m.children()):
            keep.append(m.register_forward_hook(lambda *a: fn()))  # type: ignore[operator]
    return vgg


def test_dream_cancel_inside_a_step_keeps_the_dream_so_far() -> None:
    token = CancelToken()
    reports: list[Progress] = []

    def on_progress(p: Progress) -> None:
        reports.append(p)
        if p.step == 2:
            token.cancel()

    out = dream(synthetic_frame(64, 80), config=DREAM, perceptual=TINY, device="cpu", progress=on_progress, cancel=token)
    assert out.shape == (64, 80, 3)
    assert reports[-1].stopped == "dream: cancelled after 2/8 steps"


def test_the_first_lbfgs_step_is_sized_in_levels_and_never_beyond_what_the_gradient_predicts() -> None:
    from stylecam.snapshot.gatys import FIRST_STEP_DECREASE, LBFGS_FIRST_STEP, first_step_unit

    g = torch.full((1, 3, 10, 10), 2.0)
    n = g.numel()
    # a large objective: the step is capped at LBFGS_FIRST_STEP levels on average
    assert first_step_unit(1e9, g) == pytest.approx(n * LBFGS_FIRST_STEP)
    # a small one: the step the linear model says lowers it by FIRST_STEP_DECREASE (value * |g|_1 / (n |g|^2))
    assert first_step_unit(10.0, g) == pytest.approx(n * FIRST_STEP_DECREASE * 10.0 * (2.0 * n) / (n * 4.0 * n))
    assert first_step_unit(5.0, torch.zeros(1, 3, 4, 4)) == pytest.approx(48 * LBFGS_FIRST_STEP)  # no gradient: the cap


def test_lbfgs_goes_back_to_the_best_image_after_a_divergent_step_and_keeps_the_cap() -> None:
    from stylecam.snapshot.gatys import _run_lbfgs

    target = torch.linspace(0.0, 255.0, 3 * 8 * 8).reshape(1, 3, 8, 8)
    weight = torch.logspace(0.0, 3.0, target.numel()).reshape(target.shape)  # ill-conditioned: many steps
    start = torch.full_like(target, 128.0)
    best: list = [start, float("inf")]
    seen: list[torch.Tensor] = []
    best_at: list[torch.Tensor] = []

    def objective(image: torch.Tensor) -> torch.Tensor:
        value = (weight * (image - target) ** 2).mean()
        if len(seen) == 4:  # one step overshoots wildly, as L-BFGS did at 512 px
            value = value * 1e4
        seen.append(image.detach().clone())
        best_at.append(best[0].clone())
        if float(value.detach()) < best[1]:
            best[0], best[1] = image.detach().clone(), float(value.detach())
        return value

    calls = [0]

    def evaluated() -> None:
        calls[0] += 1

    _run_lbfgs(start, objective, evaluated, 40, best)
    assert calls[0] == len(seen) == 40  # the line search of the restart stays within the cap
    assert not torch.allclose(seen[4], best_at[4])
    assert torch.allclose(seen[5], best_at[4])  # after the spike: back to the best image
    assert best[1] < 1e-3 * float((weight * (start - target) ** 2).mean())  # and on to the minimum


def test_lbfgs_keeps_fewer_curvature_pairs_for_large_images_so_that_its_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from stylecam.snapshot.gatys import LBFGS_HISTORY, lbfgs_history

    gatys_module = sys.modules["stylecam.snapshot.gatys"]  # the package's name ``gatys`` is the function

    assert lbfgs_history(3 * 512 * 512) == LBFGS_HISTORY == 100
    assert lbfgs_history(3 * 1024 * 1024) == 25
    assert lbfgs_history(3 * 1920 * 1440) == 10  # never fewer than 10
    assert lbfgs_history(3 * 64 * 64) == 100  # never more than 100
    # gatys uses it per scale: patch the float budget so that a 128 px scale keeps 4x fewer pairs than a 64 px one
    monkeypatch.setattr(gatys_module, "LBFGS_HISTORY_FLOATS", 40 * 3 * 64 * 64)
    seen: list[int] = []
    real = torch.optim.LBFGS

    def recording(params, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.append(kwargs["history_size"])
        return real(params, **kwargs)

    monkeypatch.setattr(torch.optim, "LBFGS", recording)
    cfg = GatysConfig(size=128, steps=8, scales=2, stop_tolerance=0.0, preview_every=100)
    gatys(synthetic_frame(128, 128), [stripes()], config=cfg, perceptual=TINY, device="cpu")
    assert list(dict.fromkeys(seen)) == [40, 10]  # (a restart after a divergent step makes another optimiser)
