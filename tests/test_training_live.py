"""Training the ``live`` network: several styles at once, fine-tuning a base, bf16 autocast."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from stylecam import accel
from stylecam.errors import StylecamError
from stylecam.perceptual import tiny_vgg_features
from stylecam.perceptual.losses import StyleLoss
from stylecam.styles import read_style_file
from stylecam.training.base_net import load_base, save_base, start_from_base
from stylecam.training.config import TrainConfig, preset
from stylecam.training.train import style_indices, train

from .helpers import synthetic_frame, with_random_rows
from .test_training import Recorder, colourful


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        cv2.imwrite(str(folder / f"p{i}.jpg"), colourful(64 + 8 * i, 80, i))
    return folder


@pytest.fixture
def paintings(tmp_path: Path) -> list[Path]:
    paths = []
    for k, colour in enumerate([(30, 200, 250), (250, 60, 30), (40, 220, 60)]):
        img = np.zeros((64, 64, 3), np.uint8)
        img[:, :: 4 + 2 * k] = colour
        img[:: 5 + k] = (255 - colour[0], 128, colour[2] // 2)
        path = tmp_path / f"painting{k}.png"
        cv2.imwrite(str(path), img)
        paths.append(path)
    return paths


def live_config(style: Path, dataset: Path, **changes: object):  # noqa: ANN201
    values = dict(
        style=str(style), dataset=str(dataset), name="tiny", arch="live", base="", tune="all", size=64, batch=3,
        iters=3, style_size=64, lr=1e-2, log_every=1, preview_every=1000, checkpoint_every=1000, min_image_side=32,
        content_weight=1.0, style_weight=2000.0, tv_weight=1e-3, stability_weight=0.05, stability_shift=4, bf16="off",
    )  # fmt: skip
    values.update(changes)
    return preset("cpu", **values)


def test_style_indices_cycle_through_every_style_across_steps_and_ranks() -> None:
    assert style_indices(0, 6, 0, 6).tolist() == [0, 1, 2, 3, 4, 5]
    assert style_indices(1, 4, 0, 6).tolist() == [4, 5, 0, 1]
    # rank 1 of 2 continues where rank 0 stopped
    assert style_indices(0, 2, 1, 3).tolist() == [2, 0]


def test_style_bank_compares_each_sample_with_its_own_style() -> None:
    torch.manual_seed(0)
    a, b = torch.rand(1, 4, 8, 8), torch.rand(1, 4, 8, 8) * 3
    loss = StyleLoss(["x"], weight=1.0)
    loss.set_style_bank([{"x": a}, {"x": b}])
    batch = {"x": torch.cat([b, a])}
    assert loss(batch, torch.tensor([1, 0])).item() == pytest.approx(0.0, abs=1e-7)
    assert loss(batch, torch.tensor([0, 1])).item() > 1e-3


def test_multi_style_training_writes_a_base_with_one_row_per_painting(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    rec = Recorder()
    cfg = live_config(paintings[0], photos, styles=tuple(map(str, paintings[1:])), name="trio")
    result = train(cfg, out_dir=tmp_path / "out", perceptual=tiny_vgg_features(), reporter=rec)
    [path] = result.files
    assert path.name == "trio.safetensors"
    base = load_base(path)
    assert base.styles == ["painting0", "painting1", "painting2"] and base.net.n_styles == 3
    assert base.train_config["iters"] == 3
    rows = base.net.norm1.weight.detach()
    assert not torch.allclose(rows[0], rows[1])  # each painting trained its own gamma
    assert all(np.isfinite(list(losses.values())).all() for losses in rec.losses)


def test_fine_tune_changes_only_gamma_and_beta(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    torch.manual_seed(1)
    from stylecam.nets.live import LiveNet, style_parameter_names

    base_path = save_base(tmp_path / "base.safetensors", LiveNet(2), styles=["a", "b"], train_config={})
    start = start_from_base(load_base(base_path)).state_dict()
    cfg = live_config(paintings[2], photos, base=str(base_path), tune="norms", batch=2)
    result = train(cfg, out_dir=tmp_path / "out", perceptual=tiny_vgg_features())
    end = result.net.state_dict()
    tuned = set(style_parameter_names(result.net))
    changed = {k for k in end if not torch.equal(end[k].cpu(), start[k].cpu())}
    assert changed and changed <= tuned
    assert len(changed) > len(tuned) // 2
    fp32 = next(f for f in result.files if f.name == "tiny.onnx")
    assert read_style_file(fp32).arch == "live"
    out = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).run(None, {"frames": synthetic_frame(37, 53)[None]})[0]
    assert out.shape == (1, 37, 53, 3)


def test_fine_tune_needs_a_readable_base(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(StylecamError, match="base network"):
        train(live_config(paintings[0], photos, base=str(junk)), out_dir=tmp_path / "o", perceptual=tiny_vgg_features())
    with pytest.raises(StylecamError, match="need --arch live"):
        preset("full", base="x.safetensors", style="s", dataset="d", name="n")
    # asking a live preset for another network drops the base, it does not fail
    assert preset("quick", arch="lite", style="s", dataset="d", name="n").base == ""


def test_autocast_choice_falls_back_to_float32_where_bf16_is_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    assert accel.autocast_dtype("on", cpu) is torch.bfloat16
    assert accel.autocast_dtype("off", cpu) is None
    monkeypatch.setattr(accel, "cpu_has_bf16", lambda: False)
    accel.cpu_bf16_is_fast.cache_clear()
    try:
        assert accel.autocast_dtype("auto", cpu) is None
        monkeypatch.setattr(accel, "cpu_has_bf16", lambda: True)
        monkeypatch.setattr(accel, "bf16_probe_speedup", lambda: 2.0)
        accel.cpu_bf16_is_fast.cache_clear()
        assert accel.autocast_dtype("auto", cpu) is torch.bfloat16
        probes = iter([1.1, 1.0, 1.2])
        monkeypatch.setattr(accel, "bf16_probe_speedup", lambda: next(probes))
        accel.cpu_bf16_is_fast.cache_clear()
        assert accel.autocast_dtype("auto", cpu) is None  # three probes all found it slow
        probes = iter([1.1, 0.8, 1.9])  # a busy machine slowed the first two
        accel.cpu_bf16_is_fast.cache_clear()
        assert accel.autocast_dtype("auto", cpu) is torch.bfloat16
        monkeypatch.setattr(accel, "bf16_probe_speedup", lambda: 2.0)
        accel.cpu_bf16_is_fast.cache_clear()
        assert accel.autocast_dtype("auto", cpu) is torch.bfloat16
    finally:
        accel.cpu_bf16_is_fast.cache_clear()
    with pytest.raises(ValueError):
        accel.autocast_dtype("maybe", cpu)


def test_the_bf16_probe_interleaves_so_that_a_burst_of_load_does_not_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 really is 2x faster; the first 8 runs (the warm-ups and 6 more) are slowed 4x by other load."""
    now = [0.0]
    calls = [0]

    def fake_steps() -> dict[torch.dtype | None, object]:
        def make(cost: float) -> object:
            def run() -> None:
                calls[0] += 1
                now[0] += cost * (4.0 if calls[0] <= 8 else 1.0)

            return run

        return {torch.bfloat16: make(0.5), None: make(1.0)}

    monkeypatch.setattr(accel, "_probe_steps", fake_steps)
    speedup = accel.bf16_probe_speedup(rounds=6, clock=lambda: now[0])
    assert speedup == pytest.approx(2.0)
    assert calls[0] == 2 + 2 * 6


def test_bf16_training_runs_and_follows_the_fp32_losses(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    runs = {}
    for mode in ("off", "on"):
        rec = Recorder()
        cfg = live_config(paintings[0], photos, bf16=mode, iters=2, batch=2, size=48, stability_weight=0.0)
        train(cfg, out_dir=tmp_path / mode, perceptual=tiny_vgg_features(), reporter=rec, export=False)
        runs[mode] = rec.losses
    first_fp32, first_bf16 = runs["off"][0], runs["on"][0]
    for key in ("content", "style"):
        assert first_bf16[key] == pytest.approx(first_fp32[key], rel=0.1)
    assert all(np.isfinite(list(losses.values())).all() for losses in runs["on"])


def test_a_base_file_without_a_layout_is_layout_1_and_training_starts_from_it_in_the_current_layout(tmp_path: Path) -> None:
    import json

    from safetensors.torch import load_file, save_file

    from stylecam.nets.live import DEFAULT_LAYOUT, LiveNet
    from stylecam.training.checkpoint import safetensors_metadata

    torch.manual_seed(0)
    path = save_base(tmp_path / "old.safetensors", LiveNet(2, layout=1), styles=["a", "b"], train_config={})
    meta = safetensors_metadata(path.read_bytes())
    config = json.loads(meta["net_config"])
    del config["layout"]  # as written before layouts existed
    save_file(load_file(path), str(path), metadata={**meta, "net_config": json.dumps(config)})
    base = load_base(path)
    assert base.net.layout == 1
    start = start_from_base(base)
    assert start.layout == DEFAULT_LAYOUT == 2 and torch.equal(start.conv1.conv2d.weight, base.net.conv1.conv2d.weight)
    # asked for layout 3, the sub-pixel tail of layouts 1-2 becomes the mean of each colour's four filters
    three = start_from_base(base, layout=3)
    old = base.net.out.conv2d.weight
    assert three.layout == 3 and torch.allclose(three.out.conv2d.weight, old.reshape(3, 4, *old.shape[1:]).mean(1))
    assert start_from_base(load_base(save_base(tmp_path / "l3.safetensors", three, styles=["x"], train_config={}))).layout == 3


def test_extending_a_base_keeps_the_rows_of_known_styles_and_starts_new_ones_from_their_mean(tmp_path: Path) -> None:
    from stylecam.nets.live import LiveNet, style_parameter_names
    from stylecam.training.base_net import extend_base

    torch.manual_seed(0)
    net = with_random_rows(LiveNet(2))
    base = load_base(save_base(tmp_path / "b.safetensors", net, styles=["a", "b"], train_config={}))
    grown = extend_base(base, ["b", "new", "a"])
    assert grown.n_styles == 3
    old, new = base.net.state_dict(), grown.state_dict()
    for key in style_parameter_names(grown):
        assert torch.equal(new[key][0], old[key][1]) and torch.equal(new[key][2], old[key][0])
        assert torch.allclose(new[key][1], old[key].mean(0))
    assert torch.equal(new["conv2.conv2d.weight"], old["conv2.conv2d.weight"])


def test_multi_style_training_from_a_base_starts_from_its_rows(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    from stylecam.nets.live import LiveNet

    torch.manual_seed(2)
    names = [p.stem for p in paintings[:2]]
    start = with_random_rows(LiveNet(2))
    base_path = save_base(tmp_path / "b.safetensors", start, styles=names, train_config={})
    cfg = live_config(paintings[0], photos, styles=(str(paintings[1]),), base=str(base_path), iters=1, lr=1e-9)
    result = train(cfg, out_dir=tmp_path / "out", perceptual=tiny_vgg_features())
    # lr ~0: one step leaves the base's weights as they were, rows included
    assert torch.allclose(result.net.norm1.weight, start.norm1.weight, atol=1e-6)
    assert torch.allclose(result.net.conv1.conv2d.weight, start.conv1.conv2d.weight, atol=1e-6)


def test_retuning_a_style_of_the_base_starts_from_its_row_and_merges_back(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    from stylecam.nets.live import LiveNet
    from stylecam.training.base_net import merge_row

    torch.manual_seed(3)
    names = [p.stem for p in paintings[:2]]
    net = with_random_rows(LiveNet(2))
    base = load_base(save_base(tmp_path / "b.safetensors", net, styles=names, train_config={}))
    cfg = live_config(paintings[1], photos, base=str(tmp_path / "b.safetensors"), tune="norms", iters=2, lr=1e-9)
    untouched = train(cfg, out_dir=tmp_path / "o1", perceptual=tiny_vgg_features(), export=False).net
    # a known style starts from its own row, not from the mean of the rows
    assert torch.allclose(untouched.norm1.weight[0], net.norm1.weight[1], atol=1e-6)
    tuned = train(cfg.replace(lr=5e-2), out_dir=tmp_path / "o2", perceptual=tiny_vgg_features(), export=False).net
    merged = merge_row(base, names[1], tuned)
    x = torch.rand(1, 3, 40, 48) * 255
    with torch.no_grad():
        assert torch.allclose(merged.net.single_style(1)(x), tuned(x), atol=1e-3)
        assert torch.equal(merged.net.norm1.weight[0], net.norm1.weight[0])  # the other style is kept
    moved = LiveNet(1)
    with pytest.raises(StylecamError, match="not a gamma/beta fine-tune"):
        merge_row(base, names[0], moved)
    with pytest.raises(StylecamError, match="no style"):
        merge_row(base, "nope", tuned)
    with pytest.raises(StylecamError, match="has 2 styles"):
        merge_row(base, names[0], net)


def test_a_checkpoint_of_the_previous_layout_exports_in_its_layout_and_refuses_to_resume(
    tmp_path: Path, photos: Path, paintings: list[Path]
) -> None:
    from safetensors.torch import load_file, save_file

    from stylecam.training.base_net import base_from_checkpoint
    from stylecam.training.checkpoint import safetensors_metadata

    cfg = live_config(paintings[0], photos, styles=(str(paintings[1]),), name="duo", iters=1, checkpoint_every=1, layout=3)
    work = tmp_path / "work"
    train(cfg, out_dir=tmp_path / "out", work_dir=work, perceptual=tiny_vgg_features(), export=False)
    ckpt = work / "checkpoint.safetensors"
    assert base_from_checkpoint(ckpt).net.layout == 3
    # as the trainer of layout 2 wrote it: a 12-channel sub-pixel tail
    meta = safetensors_metadata(ckpt.read_bytes())
    tensors = load_file(ckpt)
    tensors["net.out.conv2d.weight"] = tensors["net.out.conv2d.weight"].repeat_interleave(4, dim=0)
    tensors["net.out.conv2d.bias"] = tensors["net.out.conv2d.bias"].repeat_interleave(4, dim=0)
    save_file(tensors, str(ckpt), metadata=meta)
    old = base_from_checkpoint(ckpt)
    assert old.net.layout == 2 and old.styles == ["painting0", "painting1"]
    with pytest.raises(StylecamError, match="cannot resume: the checkpoint's network does not fit"):
        train(cfg.replace(iters=2), out_dir=tmp_path / "out", work_dir=work, resume=True, perceptual=tiny_vgg_features(), export=False)


@pytest.mark.parametrize("layout, edge_width", [(2, None), (3, None), (4, None), (5, None), (6, None), (6, 48), (3, 40)])
def test_a_live_style_file_is_a_base_with_its_own_weights_and_layout(tmp_path: Path, layout: int, edge_width: int | None) -> None:
    """`stylecam train --base STYLE.onnx` continues training a style: its weights, layout and edge width come back exactly."""
    from stylecam.nets.live import LiveNet
    from stylecam.styles import StyleInfo, export_style

    torch.manual_seed(layout)
    net = with_random_rows(LiveNet(1, layout=layout, edge_width=edge_width), weight=(0.5, 2.0), bias_std=0.5).eval()
    info = StyleInfo.from_style_image(name="painted", style_image_bgr=synthetic_frame(), arch="live")
    path = export_style(net, tmp_path, info, fp16=False)[0]
    base = load_base(path)
    assert base.net.layout == layout and base.styles == ["painted"] and base.net.edge_width == net.edge_width
    got, want = base.net.state_dict(), net.state_dict()
    assert got.keys() == want.keys() and all(torch.allclose(got[k], want[k]) for k in want)
    assert start_from_base(base).layout == layout  # a fine-tune keeps the file's layout


def test_a_style_file_that_is_not_a_live_network_is_refused_as_a_base(tmp_path: Path) -> None:
    from stylecam.nets import build_net
    from stylecam.styles import StyleInfo, export_style

    info = StyleInfo.from_style_image(name="lite_one", style_image_bgr=synthetic_frame(), arch="lite")
    lite = export_style(build_net("lite"), tmp_path, info, fp16=False)[0]
    with pytest.raises(StylecamError, match="lite style"):
        load_base(lite)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    with pytest.raises(StylecamError) as exc:
        load_base(broken)
    assert "\n" not in str(exc.value)


def test_each_extra_style_scale_adds_its_own_gram_term(
    tmp_path: Path, photos: Path, paintings: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylecam.training import train as train_module

    sizes: list[tuple[int, ...]] = []

    def spy(images: torch.Tensor, scale: float) -> torch.Tensor:
        out = reduced(images, scale)
        sizes.append((*images.shape, *out.shape[-2:]))
        return out

    reduced = train_module.reduced
    monkeypatch.setattr(train_module, "reduced", spy)
    styles, calls = {}, {}
    for scales in ((1.0,), (0.5,), (1.0, 0.5)):
        sizes.clear()
        rec = Recorder()
        cfg = live_config(paintings[0], photos, iters=1, batch=2, size=64, stability_weight=0.0, style_scales=scales)
        train(cfg, out_dir=tmp_path / str(len(scales)), perceptual=tiny_vgg_features(), reporter=rec, export=False)
        styles[scales] = rec.losses[0]["style"]
        calls[scales] = list(sizes)
    # the scale-1 term uses the picture as painted; the 0.5 one the picture reduced 2x
    assert calls[(1.0,)] == [] and calls[(0.5,)] == calls[(1.0, 0.5)] == [(2, 3, 64, 64, 32, 32)]
    # the same net, photos and painting at step 1: the style loss of both scales is the sum of each alone
    assert styles[(1.0,)] > 0 and styles[(0.5,)] > 0
    assert styles[(1.0, 0.5)] == pytest.approx(styles[(1.0,)] + styles[(0.5,)], rel=1e-4)
    assert TrainConfig.from_json(cfg.to_json()) == cfg and cfg.to_dict()["style_scales"] == [1.0, 0.5]


def test_the_lattice_term_is_trained_and_reported_only_when_weighted(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    losses = {}
    for weight in (0.0, 3.0):
        rec = Recorder()
        cfg = live_config(paintings[0], photos, iters=2, batch=2, size=48, stability_weight=0.0, style_weight=1.0, lattice_weight=weight)
        train(cfg, out_dir=tmp_path / str(weight), perceptual=tiny_vgg_features(), reporter=rec, export=False)
        losses[weight] = rec.losses
    assert all(step["lattice"] == 0.0 for step in losses[0.0])
    # a fresh live net paints on its grid, so the weighted term is positive and part of the total
    assert all(step["lattice"] > 0.0 for step in losses[3.0])
    first = losses[3.0][0]
    assert first["lattice"] > 0.01 * first["total"]
    assert first["total"] == pytest.approx(sum(first[k] for k in ("content", "style", "tv", "stability", "lattice")), rel=1e-4)
    with pytest.raises(StylecamError, match="lattice-weight"):
        live_config(paintings[0], photos, lattice_weight=-1.0)


def test_edge_width_widens_the_base_and_the_trained_style_keeps_the_width(tmp_path: Path, photos: Path, paintings: list[Path]) -> None:
    """--edge-width 48 from a base of the default 32: the run starts from the base's picture, in the
    wider network, and the style file, the checkpoint and a base saved from it all hold 48 channels."""
    from stylecam.nets.live import LiveNet

    torch.manual_seed(3)
    base_path = save_base(tmp_path / "base.safetensors", with_random_rows(LiveNet(2)), styles=["a", "b"], train_config={})
    cfg = live_config(paintings[0], photos, base=str(base_path), edge_width=48, iters=2, checkpoint_every=1)
    result = train(cfg, out_dir=tmp_path / "out", work_dir=tmp_path / "work", perceptual=tiny_vgg_features())
    assert result.net.edge_width == 48
    fp32 = next(f for f in result.files if f.name == "tiny.onnx")
    assert load_base(fp32).net.edge_width == 48
    # the saved base format keeps it too
    again = load_base(save_base(tmp_path / "wide.safetensors", result.net, styles=["tiny"], train_config={}))
    assert again.net.edge_width == 48
    # resuming with another edge width is refused (the checkpoint's weights would not fit)
    with pytest.raises(StylecamError, match="edge_width"):
        train(cfg.replace(iters=3, edge_width=64), out_dir=tmp_path / "out", work_dir=tmp_path / "work", resume=True,
              perceptual=tiny_vgg_features(), export=False)
    # narrowing is refused in one line
    with pytest.raises(StylecamError, match="--edge-width 32") as exc:
        train(live_config(paintings[0], photos, base=str(tmp_path / "wide.safetensors"), edge_width=32), out_dir=tmp_path / "o2",
              perceptual=tiny_vgg_features())
    assert "\n" not in str(exc.value)
