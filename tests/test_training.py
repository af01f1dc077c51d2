"""The trainer: losses fall, resume is bit-for-bit, bad photos are skipped, exports run in ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from stylecam import heap
from stylecam.perceptual import tiny_vgg_features
from stylecam.styles import read_style_file
from stylecam.training.checkpoint import load_checkpoint
from stylecam.training.config import PRESETS, TrainConfig, preset
from stylecam.training.data import PhotoStream, StreamSampler, load_photo, scan_photos
from stylecam.training.progress import SilentReporter
from stylecam.training.train import TrainingInterrupted, train

from .helpers import synthetic_frame


def colourful(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth random colour image, (h, w, 3) uint8 BGR (a stand-in photo)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for i in range(5):
        cv2.imwrite(str(folder / ("sub" if i % 2 else "") / f"p{i}.jpg"), colourful(72 + 8 * i, 96, i))
    return folder


@pytest.fixture
def style_image(tmp_path: Path) -> Path:
    path = tmp_path / "style.png"
    rng = np.random.default_rng(7)
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::8] = (30, 200, 250)
    stripes[::6] = (200, 40, 20)
    cv2.imwrite(str(path), cv2.add(stripes, rng.integers(0, 40, stripes.shape, dtype=np.uint8)))
    return path


def tiny_config(style: Path, dataset: Path, **changes: object) -> TrainConfig:
    base = dict(
        style=str(style), dataset=str(dataset), name="tiny", arch="lite", size=48, batch=2, iters=4,
        style_size=64, lr=1e-2, log_every=1, preview_every=1000, checkpoint_every=1000, min_image_side=32,
        content_weight=1.0, style_weight=2000.0, tv_weight=1e-3, stability_weight=0.05,
    )  # fmt: skip
    base.update(changes)
    return preset("quick", **base)


class Recorder(SilentReporter):
    def __init__(self) -> None:
        self.starts: list[tuple[int, int]] = []
        self.steps: list[int] = []
        self.losses: list[dict[str, float]] = []
        self.warnings: list[str] = []
        self.previews: list[str] = []
        self.done_files: list[str] = []

    def start(self, step: int, total: int) -> None:
        self.starts.append((step, total))

    def progress(self, step: int, total: int, losses: dict[str, float], it_s: float, eta_s: float) -> None:
        self.steps.append(step)
        self.losses.append(losses)

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def preview(self, path: str) -> None:
        self.previews.append(path)

    def done(self, files: list[str]) -> None:
        self.done_files = files


def test_config_json_round_trip_and_presets() -> None:
    cfg = preset("full", style="s.jpg", dataset="d", name="n", iters=7)
    assert cfg.arch == "full" and cfg.iters == 7 and cfg.preset == "full"
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    quick = preset("quick", name="x")
    assert (quick.arch, quick.base, quick.tune) == ("live", "bundled", "norms")
    assert preset("lite", name="x").arch == "lite"
    # the live fine-tunes compare the picture as the view shows it (80 %) with a 640 px painting
    for name in ("quick", "cpu"):
        live = preset(name, name="x")
        assert (live.style_size, live.style_scales) == (640, (0.8,))
    assert preset("quick", name="x", style_scales=(1.0,), style_size=384).style_scales == (1.0,)
    assert preset("base", name="x").style_scales == (1.0,)
    assert set(PRESETS) == {"quick", "cpu", "base", "lite", "full"}


@pytest.mark.parametrize(
    "changes, word",
    [
        ({"arch": "huge"}, "--arch"), ({"size": 8}, "--size"), ({"lr": 0.0}, "--lr"), ({"tv_weight": -1.0}, "--tv-weight"),
        ({"style_detail": 0}, "--style-detail"), ({"lattice_weight": -1.0}, "--lattice-weight"),
        ({"style_scales": ()}, "--style-scales"), ({"style_scales": (1.0, 0.0)}, "--style-scales"),
        ({"style_scales": (1.0, 1.0)}, "--style-scales"), ({"edge_width": 33}, "--edge-width"),
        ({"edge_width": -2}, "--edge-width"), ({"edge_width": 48}, "--edge-width"),  # quick tunes only the norms
        ({"edge_width": 48, "arch": "lite"}, "--edge-width"),
    ],  # fmt: skip
)
def test_config_rejects_bad_values_in_one_line(changes: dict[str, object], word: str) -> None:
    from stylecam.errors import StylecamError

    with pytest.raises(StylecamError, match=word) as info:
        preset("quick", **changes)
    assert "\n" not in str(info.value)


def test_the_style_target_keeps_strokes_and_drops_detail_finer_than_the_network_paints() -> None:
    from stylecam.training.train import style_target_image

    yy, xx = np.mgrid[0:256, 0:384]
    fine = ((xx + yy) % 2) * 80.0  # a 1 px checkerboard: detail the live net's half-resolution picture cannot show
    coarse = ((xx // 16) % 2) * 80.0  # 32 px stripes: strokes it can
    painting = np.clip(88 + fine[..., None] + coarse[..., None], 0, 255).astype(np.uint8).repeat(3, axis=2)

    def energy(img: np.ndarray, pattern: np.ndarray) -> float:
        g = img[..., 0].astype(np.float64)
        p = pattern - pattern.mean()
        return abs(float(((g - g.mean()) * p).mean())) / float((p * p).mean()) ** 0.5

    full = style_target_image(painting, long_side=384, detail=1)
    assert full.shape == painting.shape and np.array_equal(full, painting)
    limited = style_target_image(painting, long_side=384, detail=2)
    assert limited.shape == painting.shape and limited.dtype == np.uint8
    assert energy(limited, fine) < 0.05 * energy(full, fine)
    assert energy(limited, coarse) > 0.8 * energy(full, coarse)
    # the size comes first: a 768 px painting at 384 px is the same target
    big = cv2.resize(painting, (768, 512), interpolation=cv2.INTER_NEAREST)
    assert style_target_image(big, long_side=384, detail=2).shape == painting.shape


def test_the_reduced_picture_keeps_strokes_and_averages_away_single_pixel_texture() -> None:
    from stylecam.training.train import reduced

    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(96), indexing="ij")
    fine = ((xx + yy) % 2).float()  # a 1 px checkerboard
    coarse = ((xx // 8) % 2).float()  # 16 px stripes
    images = torch.stack([fine, coarse, 0.5 * fine + 0.5 * coarse]).unsqueeze(1).repeat(1, 3, 1, 1)
    half = reduced(images, 0.5)
    assert half.shape == (3, 3, 32, 48)
    assert torch.allclose(half[0], torch.full_like(half[0], 0.5))  # every 2x2 block averaged
    assert torch.equal(half[1, :, :, ::4], coarse[::2, ::8].expand(3, -1, -1))  # the stripes stay
    assert torch.equal(reduced(images, 1.0), images) and reduced(images, 1.0) is not images
    assert reduced(images, 0.1).shape[-2:] == (32, 32)  # never below 32 px a side


def test_loss_falls_with_tiny_vgg(tmp_path: Path, photos: Path, style_image: Path) -> None:
    rec = Recorder()
    cfg = tiny_config(style_image, photos, iters=30, preview_every=15)
    result = train(cfg, out_dir=tmp_path / "out", perceptual=tiny_vgg_features(0), reporter=rec)
    assert result.step == 30 and len(rec.losses) == 30
    first = np.mean([l["total"] for l in rec.losses[:5]])
    last = np.mean([l["total"] for l in rec.losses[-5:]])
    assert last < 0.7 * first, (first, last)
    assert np.mean([l["style"] for l in rec.losses[-5:]]) < np.mean([l["style"] for l in rec.losses[:5]])
    assert all(set(l) == {"content", "style", "tv", "stability", "lattice", "total"} for l in rec.losses)
    # Previews of the fixed photo, and the style files with their metadata.
    assert [Path(p).name for p in rec.previews] == ["preview_000015.jpg", "preview_000030.jpg"]
    assert all(cv2.imread(p) is not None for p in rec.previews)
    assert sorted(Path(f).name for f in rec.done_files) == ["tiny.fp16.onnx", "tiny.onnx"]
    info = read_style_file(tmp_path / "out" / "tiny.onnx")
    assert info.arch == "lite" and info.train_config["iters"] == 30 and info.train_config["steps_done"] == 30
    assert info.thumbnail() is not None and info.source_image() is not None


def test_export_matches_torch_in_onnx_runtime(tmp_path: Path, photos: Path, style_image: Path) -> None:
    result = train(tiny_config(style_image, photos, iters=3), out_dir=tmp_path / "out", perceptual=tiny_vgg_features(1))
    frame = synthetic_frame(48, 64, seed=3)
    with torch.no_grad():
        x = torch.from_numpy(frame[:, :, ::-1].copy()).permute(2, 0, 1).float().unsqueeze(0)
        ref = (result.net(x).clamp(0, 255) + 0.5).to(torch.uint8)[0].permute(1, 2, 0).numpy()[:, :, ::-1]
    session = ort.InferenceSession(str(tmp_path / "out" / "tiny.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"frames": frame[None]})[0][0]
    assert got.shape == frame.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 2


def _weights(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def test_resume_does_only_the_remaining_steps_and_is_bit_for_bit(tmp_path: Path, photos: Path, style_image: Path) -> None:
    cfg = tiny_config(style_image, photos, iters=4)
    straight = train(cfg, out_dir=tmp_path / "a", perceptual=tiny_vgg_features(0), export=False)
    first: list[int] = []

    def interrupt(step: int) -> None:
        first.append(step)
        if step == 2:
            raise KeyboardInterrupt

    retained: list[bool] = []
    with pytest.raises(TrainingInterrupted, match="--resume") as info:
        train(cfg, out_dir=tmp_path / "b", perceptual=tiny_vgg_features(0), on_step=lambda s: (retained.append(heap.active()), interrupt(s)),
              export=False)  # fmt: skip
    assert info.value.step == 2 and first == [1, 2] and "\n" not in str(info.value)
    # the steps ran with the heap retained (stylecam.heap), and the interruption gave it back
    assert retained == [True, True] and not heap.active()
    assert (tmp_path / "b" / ".train" / "tiny" / "checkpoint.safetensors").is_file()
    # Scramble the global RNGs: the run must not depend on them.
    torch.manual_seed(12345)
    np.random.seed(999)
    rec, steps = Recorder(), []
    resumed = train(cfg, out_dir=tmp_path / "b", perceptual=tiny_vgg_features(0), resume=True, export=False,
                    reporter=rec, on_step=steps.append)  # fmt: skip
    # Only the remaining steps ran, and the progress counts on from the checkpoint.
    assert resumed.step == 4 and steps == [3, 4]
    assert rec.starts == [(2, 4)] and rec.steps == [3, 4]
    # Adam's state came back: after 4 steps both runs hold the same moments and step counts.
    assert straight.checkpoint is not None and resumed.checkpoint is not None
    adam_a = load_checkpoint(straight.checkpoint).optimizer_state["state"]
    adam_b = load_checkpoint(resumed.checkpoint).optimizer_state["state"]
    assert adam_a.keys() == adam_b.keys() and len(adam_a) == len(list(straight.net.parameters()))
    for i, state in adam_a.items():
        assert state.keys() == adam_b[i].keys() >= {"step", "exp_avg", "exp_avg_sq"}
        assert int(state["step"]) == int(adam_b[i]["step"]) == 4
        assert all(torch.equal(state[k], adam_b[i][k]) for k in state)
    a, b = _weights(straight.net), _weights(resumed.net)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_changed_settings(tmp_path: Path, photos: Path, style_image: Path) -> None:
    from stylecam.errors import StylecamError

    cfg = tiny_config(style_image, photos, iters=2)
    train(cfg, out_dir=tmp_path, perceptual=tiny_vgg_features(0), export=False)
    with pytest.raises(StylecamError, match="size"):
        train(cfg.replace(size=40, iters=3), out_dir=tmp_path, perceptual=tiny_vgg_features(0), resume=True, export=False)
    with pytest.raises(StylecamError, match="no checkpoint"):
        train(cfg, out_dir=tmp_path / "other", perceptual=tiny_vgg_features(0), resume=True, export=False)


def _write_bad_and_odd_files(folder: Path) -> dict[str, Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    good = colourful(80, 100, 1)
    files: dict[str, Path] = {}
    files["good"] = folder / "good.jpg"
    cv2.imwrite(str(files["good"]), good)
    files["corrupt"] = folder / "corrupt.jpg"
    files["corrupt"].write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    ok, buf = cv2.imencode(".jpg", colourful(120, 160, 2))
    files["truncated"] = folder / "truncated.jpg"
    files["truncated"].write_bytes(buf.tobytes()[: len(buf) // 2])
    ok, buf = cv2.imencode(".png", colourful(120, 160, 3))
    files["truncated_png"] = folder / "truncated.png"
    files["truncated_png"].write_bytes(buf.tobytes()[: len(buf) // 2])
    files["gray"] = folder / "gray.png"
    cv2.imwrite(str(files["gray"]), cv2.cvtColor(good, cv2.COLOR_BGR2GRAY))
    files["tiny"] = folder / "tiny.png"
    cv2.imwrite(str(files["tiny"]), colourful(12, 12, 4))
    files["not_an_image"] = folder / "notes.jpg"
    files["not_an_image"].write_text("hello, I am text\n")
    files["cmyk"] = folder / "cmyk.jpg"
    Image.fromarray(good[:, :, ::-1]).convert("CMYK").save(files["cmyk"])
    files["16bit"] = folder / "deep.png"
    cv2.imwrite(str(files["16bit"]), good.astype(np.uint16) * 257)
    files["readme"] = folder / "README.txt"
    files["readme"].write_text("not a photo")
    return files


def test_bad_files_are_skipped_with_a_count(tmp_path: Path, style_image: Path) -> None:
    files = _write_bad_and_odd_files(tmp_path / "mixed")
    photos, others = scan_photos(tmp_path / "mixed")
    assert others == 1  # README.txt
    assert files["readme"] not in photos and len(photos) == len(files) - 1
    for kind in ("good", "cmyk", "16bit"):
        img = load_photo(files[kind], min_side=32)
        assert img.dtype == np.uint8 and img.shape == (80, 100, 3)
    stream = PhotoStream(photos, size=32, seed=0, min_side=32)
    skipped: set[str] = set()
    for pos in range(3 * len(photos)):
        crop, bad = stream[pos]
        assert crop.shape == (3, 32, 32) and crop.dtype == torch.float32
        skipped.update(entry.split("\t")[0] for entry in bad)
    bad_kinds = ("corrupt", "truncated", "truncated_png", "gray", "tiny", "not_an_image")
    assert skipped == {str(files[k]) for k in bad_kinds}

    rec = Recorder()
    result = train(
        tiny_config(style_image, tmp_path / "mixed", iters=6, batch=3, stability_weight=0.0),
        out_dir=tmp_path / "out", perceptual=tiny_vgg_features(0), reporter=rec, export=False,
    )  # fmt: skip
    assert 1 <= len(result.skipped) <= len(bad_kinds)
    assert any("non-image" in w for w in rec.warnings)
    assert any(f"({len(result.skipped)} skipped so far)" in w for w in rec.warnings)


def test_empty_dataset_is_one_line_error(tmp_path: Path, style_image: Path) -> None:
    from stylecam.errors import StylecamError

    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(StylecamError, match="no images") as info:
        train(tiny_config(style_image, tmp_path / "empty"), out_dir=tmp_path, perceptual=tiny_vgg_features(0))
    assert "\n" not in str(info.value)


def test_data_stream_is_deterministic_and_split_by_rank(photos: Path) -> None:
    paths, _ = scan_photos(photos)
    a = PhotoStream(paths, size=32, seed=3)
    b = PhotoStream(paths, size=32, seed=3)
    assert all(torch.equal(a[i][0], b[i][0]) for i in (0, 4, 11))
    assert not torch.equal(a[0][0], PhotoStream(paths, size=32, seed=4)[0][0])
    r0 = list(StreamSampler(batch=2, start_step=1, total_steps=3, rank=0, world=2))
    r1 = list(StreamSampler(batch=2, start_step=1, total_steps=3, rank=1, world=2))
    assert r0 == [4, 5, 8, 9] and r1 == [6, 7, 10, 11]


def test_real_vgg_runs_one_step(tmp_path: Path, photos: Path, style_image: Path, vgg_weights_path: Path) -> None:
    cfg = preset("quick", style=str(style_image), dataset=str(photos), name="real", size=64, batch=1, iters=1,
                 style_size=96, min_image_side=32, log_every=1)  # fmt: skip
    rec = Recorder()
    result = train(cfg, out_dir=tmp_path, vgg_weights=vgg_weights_path, reporter=rec, export=False)
    assert result.step == 1
    losses = rec.losses[-1]
    assert all(np.isfinite(v) for v in losses.values())
    assert losses["style"] > 0 and losses["content"] > 0 and losses["stability"] > 0


def test_loader_workers_do_not_change_the_result(tmp_path: Path, photos: Path, style_image: Path) -> None:
    cfg = tiny_config(style_image, photos, iters=2)
    a = train(cfg, out_dir=tmp_path / "a", perceptual=tiny_vgg_features(0), export=False)
    b = train(cfg.replace(workers=2), out_dir=tmp_path / "b", perceptual=tiny_vgg_features(0), export=False)
    wa, wb = _weights(a.net), _weights(b.net)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
