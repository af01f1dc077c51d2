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
    plan = scale_plan(512, 384, GatysConfig(size=512, steps=260, scales=3))
    assert [(h, w) for h, w, _ in plan] == [(128, 96), (256, 192), (512, 384)]
    assert [s for _, _, s in plan] == [180, 60, 20]  # 9 : 3 : 1
    auto = scale_plan(512, 384, GatysConfig(size=512, steps=200))
    assert [(h, w, s) for h, w, s in auto] == [(256, 192, 150), (512, 384, 50)]
    assert [(h, w) for h, w, _ in scale_plan(1080, 1920, GatysConfig(size=1920))] == [(270, 480), (540, 960), (1080, 1920)]
    assert len(scale_plan(384, 288, GatysConfig(size=384))) == 1  # a 192 px coarse scale would not pay
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
        ({"steps": 0}, "steps"),
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
