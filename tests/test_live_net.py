"""The ``live`` network: conditional instance norm, one-style export, the style-file contract."""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from stylecam.nets import build_net, count_flops
from stylecam.nets.live import OUTPUT_GAIN, CondInstanceNorm, LiveNet, style_parameter_names, upgrade_layout, widen_edges
from stylecam.styles import StyleInfo, export_style, read_style_file
from stylecam.styles.graph import FrameStylizer

from .helpers import synthetic_frame, with_random_rows


def trained_looking(n_styles: int, seed: int = 0) -> LiveNet:
    """A live net whose gamma/beta rows differ per style, as after multi-style training."""
    torch.manual_seed(seed)
    net = LiveNet(n_styles).eval()
    with torch.no_grad():
        for norm in net.norms():
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0.0, 0.5)
    return net


@pytest.mark.parametrize("hw", [(32, 32), (33, 47), (61, 35), (97, 130)])
def test_output_size_equals_input_size_for_one_and_many_styles(hw: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *hw) * 255
    multi = trained_looking(3)
    with torch.no_grad():
        assert LiveNet(1).eval()(x).shape == (2, 3, *hw)
        assert multi(x, multi.style_mix([0, 2])).shape == (2, 3, *hw)


def test_single_style_equals_the_one_hot_row_of_the_multi_style_net() -> None:
    net = trained_looking(3)
    x = torch.rand(1, 3, 48, 64) * 255
    with torch.no_grad():
        outs = [net(x, net.style_mix([k])) for k in range(3)]
        for k in range(3):
            assert torch.allclose(net.single_style(k)(x), outs[k], atol=1e-3)
        # different rows really are different styles
        assert (outs[0] - outs[1]).abs().mean() > 1.0


def test_a_mixture_is_the_weighted_mean_of_gamma_and_beta() -> None:
    net = trained_looking(2)
    x = torch.rand(1, 3, 40, 40) * 255
    mix = torch.tensor([[0.25, 0.75]])
    with torch.no_grad():
        assert torch.allclose(net.single_style([1.0, 3.0])(x), net(x, mix), atol=1e-3)
        blended = net.single_style([1.0, 1.0])
    for norm in blended.norms():
        assert norm.n_styles == 1
    assert torch.allclose(blended.norm1.weight[0], net.norm1.weight.mean(0))


def test_bad_mixes_and_missing_mix_are_refused() -> None:
    net = trained_looking(2)
    with pytest.raises(ValueError, match="style mix"):
        net(torch.rand(1, 3, 32, 32))
    for bad in ([1.0], [-1.0, 2.0], [0.0, 0.0]):
        with pytest.raises(ValueError, match="non-negative"):
            net.single_style(bad)
    with pytest.raises(ValueError, match="out of range"):
        net.single_style(2)
    with pytest.raises(ValueError, match="several"):
        build_net("lite", n_styles=2)


def test_style_parameters_are_exactly_the_norm_tables() -> None:
    net = LiveNet(3)
    names = style_parameter_names(net)
    norms = [m for m in net.modules() if isinstance(m, CondInstanceNorm)]
    assert len(names) == 2 * len(norms) == 2 * 13
    params = dict(net.named_parameters())
    assert all(params[n].shape[0] == 3 for n in names)
    shared = [n for n in params if n not in names]
    assert shared and all(params[n].shape[0] != 3 or "norm" not in n for n in shared)


def test_flops_and_parameters_match_the_readme() -> None:
    net = build_net("live")
    assert net.layout == 2
    assert abs(count_flops(net, height=480, width=640) / 1e9 - 2.83) < 0.03  # README: 2.83 GFLOPs per 640x480 frame
    assert abs(count_flops(LiveNet(1, layout=3), height=480, width=640) / 1e9 - 2.83) < 0.03  # layout 3: the same
    assert abs(count_flops(LiveNet(1, layout=1), height=480, width=640) / 1e9 - 0.95) < 0.02  # layout 1: 0.95
    params = sum(p.numel() for p in net.parameters())
    assert abs(params / 1e3 - 76.7) < 0.1  # README: 76.7 k parameters, layouts 1-2
    assert abs(sum(p.numel() for p in LiveNet(1, layout=3).parameters()) / 1e3 - 74.1) < 0.1  # layout 3: 74.1 k
    # every extra style costs only its gamma/beta rows
    norms = sum(p.numel() for n, p in net.named_parameters() if n in style_parameter_names(net))
    assert sum(p.numel() for p in LiveNet(6).parameters()) == params + 5 * norms


@pytest.mark.parametrize("layout", [2, 5, 6])
def test_onnx_export_keeps_the_contract_on_odd_sizes(tmp_path, layout: int) -> None:
    multi = upgrade_layout(trained_looking(2, seed=3), layout)  # layout 2: the net as it is
    net = multi.single_style(1)
    info = StyleInfo.from_style_image(name="live_parity", style_image_bgr=synthetic_frame(), arch="live")
    fp32, fp16 = export_style(net, tmp_path, info, fp16=True)
    meta = read_style_file(fp32)
    assert meta.arch == "live" and meta.precision == "fp32" and read_style_file(fp16).precision == "fp16"
    sess = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    for h, w in [(32, 32), (45, 67), (121, 161)]:
        frames = np.stack([synthetic_frame(h, w, seed=s) for s in range(2)])
        got = sess.run(None, {"frames": frames})[0]
        with torch.no_grad():
            ref = FrameStylizer(net)(torch.from_numpy(frames)).numpy()
        assert got.dtype == np.uint8 and got.shape == frames.shape
        assert np.abs(got.astype(int) - ref.astype(int)).max() <= 2
        assert np.abs(got.astype(int) - frames.astype(int)).mean() > 5  # it is not the identity


def _pan_flicker(net: LiveNet, frame: np.ndarray, style: int) -> float:
    """Flicker of ``net`` (style row ``style``) on a 6-frame clip panning 4 px a frame over ``frame``."""
    from stylecam.quality import flicker_of_outputs, panning_clip

    clip = panning_clip(frame, frames=6, shift_px=4, size=(96, 128))
    outs = []
    with torch.no_grad():
        for f in clip:
            x = torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1))).float()[None]
            outs.append((net(x, net.style_mix([style])).clamp(0, 255)[0].permute(1, 2, 0).numpy() + 0.5).astype(np.uint8))
    return flicker_of_outputs(outs, 4)


def test_layout_2_follows_a_sub_cell_pan_better_than_layout_1_with_the_same_weights() -> None:
    from stylecam.training.base_net import load_base

    trained = load_base("bundled").net.eval()  # real weights: a random net paints no strokes to flicker
    plain = LiveNet(trained.n_styles, layout=1).eval()
    plain.load_state_dict(trained.state_dict())
    smooth = upgrade_layout(plain, 2).eval()
    assert smooth.layout == 2 and plain.layout == 1
    frame = cv2.resize(synthetic_frame(120, 160, seed=5), (320, 240), interpolation=cv2.INTER_CUBIC)
    for style in (0, 3):
        assert _pan_flicker(smooth, frame, style) < 0.5 * _pan_flicker(plain, frame, style)


@pytest.mark.parametrize("dense_layout", [2, 3])
def test_the_dense_layouts_move_their_output_with_a_4_px_pan_away_from_the_borders(dense_layout: int) -> None:
    torch.manual_seed(0)
    nets = {layout: LiveNet(1, layout=layout).eval() for layout in (1, 2)}
    nets[1].load_state_dict(nets[2].state_dict())
    if dense_layout == 3:
        nets[2] = upgrade_layout(nets[2], 3).eval()
    for net in nets.values():  # a strong, varied picture, as after training
        with_random_rows(net, weight=(1.0, 3.0), bias_std=1.0)
    with torch.no_grad():
        x = torch.nn.functional.interpolate(torch.rand(1, 3, 50, 66) * 255, size=(200, 264), mode="bilinear")
        a, b = x[..., :, :256], x[..., :, 4:260]  # the window moved right by 4 px
        err = {}
        for layout, net in nets.items():
            ya, yb = net(a), net(b)
            err[layout] = (ya[..., 40:-40, 44:-40] - yb[..., 40:-40, 40:-44]).abs().mean().item()
    assert err[2] < 0.25 * err[1]


def test_layouts_share_parameters_and_unknown_layouts_are_refused() -> None:
    one, two, three = LiveNet(2, layout=1), LiveNet(2, layout=2), LiveNet(2, layout=3)
    shapes = [{k: v.shape for k, v in net.state_dict().items()} for net in (one, two, three)]
    assert shapes[0] == shapes[1]
    assert {k for k in shapes[0] if shapes[0][k] != shapes[2][k]} == {"out.conv2d.weight", "out.conv2d.bias"}
    assert LiveNet(2).layout == 2 and three.single_style(1).layout == 3 and one.single_style(0).layout == 1
    assert {k: v.shape for k, v in LiveNet(2, layout=4).state_dict().items()} == shapes[1]  # 4: layout 2's weights
    assert {k: v.shape for k, v in LiveNet(2, layout=5).state_dict().items()} == shapes[1]  # 5: layout 2's weights
    six = {k: v.shape for k, v in LiveNet(2, layout=6).state_dict().items()}
    assert {k for k in shapes[1] if shapes[1][k] != six[k]} == {"out.conv2d.weight", "out.conv2d.bias"}
    assert six["out.conv2d.weight"][0] == 48  # a 4x4 cell per colour
    with pytest.raises(ValueError, match="layout"):
        LiveNet(1, layout=7)
    with pytest.raises(ValueError, match="upgrade"):
        upgrade_layout(LiveNet(1, layout=6), 5)
    with pytest.raises(ValueError, match="upgrade"):
        upgrade_layout(three, 2)
    with pytest.raises(ValueError, match="upgrade"):
        upgrade_layout(three, 4)  # 3 has no sub-pixel tail to blur


def test_layout_3_paints_no_sub_pixel_checkerboard_and_its_upgrade_averages_the_sub_pixels() -> None:
    """On a flat frame every feature is flat; only a sub-pixel (pixel-shuffle) tail can still paint
    a pattern, which is the 2x2 checkerboard the style loss trains into layouts 1-2."""
    torch.manual_seed(1)
    two = with_random_rows(LiveNet(1, layout=2), weight=(1.0, 3.0), bias_std=1.0).eval()
    three = upgrade_layout(two, 3).eval()
    flat = torch.full((1, 3, 64, 96), 100.0)
    with torch.no_grad():
        y2, y3 = two(flat), three(flat)
    assert y2.std(dim=(2, 3)).min() > 1.0  # the checkerboard (levels)
    assert y3.std(dim=(2, 3)).max() < 1e-3
    assert torch.allclose(y3.mean(dim=(2, 3)), y2.mean(dim=(2, 3)), atol=0.05)


def _trunk_response(net: LiveNet, offset: tuple[int, int]) -> float:
    """Mean |change| of the trunk's output at ``offset`` from a one-position change of its input,
    net of the change far away (the instance norms' global share)."""
    torch.manual_seed(2)
    z = torch.randn(1, net.config["width"], 33, 33)
    dz = torch.zeros_like(z)
    dz[:, :, 16, 16] = 5.0
    with torch.no_grad():
        outs = []
        for x in (z, z + dz):
            for block in net.res:
                x = block(x, None)
            outs.append(x)
    diff = (outs[1] - outs[0]).abs().mean(1)[0]
    return float(diff[16 + offset[0], 16 + offset[1]] - diff[0:4, 0:4].mean())


def test_layout_3_trunk_mixes_the_four_sub_grids_that_layout_2_keeps_apart() -> None:
    torch.manual_seed(3)
    two = with_random_rows(LiveNet(1, layout=2), weight=(1.0, 2.0), bias_std=0.5).eval()
    three = upgrade_layout(two, 3).eval()
    for offset in ((1, 0), (0, 1), (1, 1)):  # a neighbour on another sub-grid
        assert abs(_trunk_response(two, offset)) < 0.01 * _trunk_response(two, (2, 0))
        assert _trunk_response(three, offset) > 0.1 * _trunk_response(three, (2, 0))


def _lattice_power(y: torch.Tensor) -> float:
    """Power of (N, 3, H, W) ``y`` at 0.25 cycles per pixel (the period-4 lattice), both axes, relative to all but DC."""
    spec = torch.fft.rfft2(y - y.mean(dim=(2, 3), keepdim=True)).abs() ** 2
    h, w = y.shape[-2:]
    return float((spec[..., h // 4, :].sum() + spec[..., :, w // 4].sum()) / spec.sum())


def test_layout_4_removes_layout_2s_4px_lattice_and_follows_every_pan_speed_better() -> None:
    """Same weights: layout 4 only low-passes the 2x2 sub-pixel cells, which paint a lattice anchored
    to the network's grid; on a pan that is not a multiple of 4 px that lattice shimmers."""
    from stylecam.quality import flicker_of_outputs, panning_clip
    from stylecam.training.base_net import load_base

    two = load_base("bundled").net.single_style(3).eval()  # real weights: they paint the lattice
    four = upgrade_layout(two, 4).eval()
    assert four.layout == 4 and torch.equal(two.out.conv2d.weight, four.out.conv2d.weight)
    frame = cv2.resize(synthetic_frame(120, 160, seed=5), (320, 240), interpolation=cv2.INTER_CUBIC)
    x = torch.from_numpy(np.ascontiguousarray(frame.transpose(2, 0, 1))).float()[None]
    with torch.no_grad():
        assert _lattice_power(four(x)) < 0.1 * _lattice_power(two(x))
        for shift in (2, 3):
            clip = panning_clip(frame, frames=5, shift_px=shift, size=(96, 128))
            flick = {}
            for layout, net in ((2, two), (4, four)):
                outs = []
                for f in clip:
                    t = torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1))).float()[None]
                    outs.append((net(t).clamp(0, 255)[0].permute(1, 2, 0).numpy() + 0.5).astype(np.uint8))
                flick[layout] = flicker_of_outputs(outs, shift)
            assert flick[4] < 0.6 * flick[2], (shift, flick)


def test_layout_5_blurs_away_the_mesh_of_layout_2s_four_sub_grids() -> None:
    """Where the four parity sub-grids of layout 2's trunk disagree, its output carries a pattern
    of period 2 on the 1/4-scale map (the 8 px diagonal mesh of its styles). Layout 2's blur after
    the trunk, dilated like the trunk, passes that pattern whole; layout 5's removes it."""
    two = LiveNet(1, layout=2).eval()
    five = upgrade_layout(two, 5).eval()
    assert five.layout == 5
    yy, xx = torch.meshgrid(torch.arange(24), torch.arange(32), indexing="ij")
    mesh = (1.0 - 2.0 * ((yy + xx) % 2)).float().expand(1, two.config["width"], 24, 32)
    smooth = torch.rand(1, two.config["width"], 1, 1).expand_as(mesh)
    with torch.no_grad():
        passed = two.blur3(smooth + mesh) - two.blur3(smooth)
        removed = five.blur3(smooth + mesh) - five.blur3(smooth)
    assert torch.allclose(passed[..., 2:-2, 2:-2], mesh[..., 2:-2, 2:-2], atol=1e-5)
    assert removed[..., 2:-2, 2:-2].abs().max() < 1e-5
    # the same weights give another picture (a warm start for a fine-tune, not the same network)
    frame = torch.from_numpy(synthetic_frame(64, 96, seed=4).transpose(2, 0, 1).copy()).float()[None]
    with torch.no_grad():
        assert (two(frame) - five(frame)).abs().mean() > 0.1


def test_layout_6_paints_at_the_frames_resolution_and_its_upgrade_keeps_each_2x2_cell() -> None:
    """Layout 6's 4x4 sub-pixel tail gives every frame pixel its own value; upgraded from layout 5 it
    starts as layout 5's half-resolution picture enlarged by nearest neighbour (before the bilinear
    enlargement that layout 5 ends with)."""
    torch.manual_seed(6)
    five = with_random_rows(LiveNet(1, layout=5), weight=(0.5, 2.0), bias_std=0.5).eval()
    six = upgrade_layout(five, 6).eval()
    x = torch.rand(1, 3, 64, 96) * 255
    with torch.no_grad():
        feats = {}
        five.out.register_forward_hook(lambda m, i, o: feats.__setitem__("five", o))
        y5, y6 = five(x), six(x)
    half = 127.5 + OUTPUT_GAIN * torch.nn.functional.pixel_shuffle(feats["five"], 2)[:, :, :32, :48]
    assert y6.shape == y5.shape == x.shape
    assert torch.allclose(y6, half.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3), atol=1e-3)
    # trained apart, the 16 filters of a cell paint detail at one frame pixel that layout 5 cannot
    with torch.no_grad():
        six.out.conv2d.weight.add_(torch.randn_like(six.out.conv2d.weight) * 0.05)
        y6 = six(x)
    finest = lambda y: (y[..., :, 1:] - y[..., :, :-1])[..., :, ::2].abs().mean().item()  # noqa: E731
    assert finest(y6) > 2 * finest(y5)


@pytest.mark.parametrize("layout", [2, 3, 6])
def test_widened_edges_paint_the_same_picture_and_their_new_channels_can_learn(layout: int) -> None:
    torch.manual_seed(layout)
    net = with_random_rows(LiveNet(2, layout=layout), weight=(0.5, 2.0), bias_std=0.5).eval()
    wide = widen_edges(net, 48).eval()
    x, mix = torch.rand(2, 3, 45, 61) * 255, net.style_mix([0, 1])
    assert torch.allclose(wide(x, mix), net(x, mix), atol=1e-3)
    assert wide.edge_width == 48 and wide.config == {**net.config, "edge_width": 48}
    assert wide.conv1.conv2d.weight.shape[0] == 48 and wide.up.pointwise.weight.shape[0] == 48
    assert wide.conv2.conv2d.weight.shape[1] == 48 and wide.out.conv2d.weight.shape[1] == 48
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in net.parameters())
    # the new channels carry signal (fresh filters in), so the weights out of them get a gradient
    assert wide.conv1.conv2d.weight[32:].abs().min() > 0
    wide(x, mix).square().mean().backward()
    assert wide.out.conv2d.weight.grad[:, 32:].abs().sum() > 0 and wide.conv2.conv2d.weight.grad[:, 32:].abs().sum() > 0
    # the width carries into one-style copies and layout upgrades, and is never narrowed
    assert wide.single_style(1).edge_width == 48
    assert torch.allclose(wide.single_style(1).eval()(x[1:]), net.single_style(1).eval()(x[1:]), atol=1e-3)
    if layout == 2:
        assert upgrade_layout(wide, 6).edge_width == 48
    with pytest.raises(ValueError, match="narrow"):
        widen_edges(wide, 32)
