"""The style networks and the style-file contract."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from stylecam.nets import build_net, count_flops
from stylecam.styles import StyleInfo, export_style, read_style_file
from stylecam.styles.graph import FrameStylizer

from .helpers import make_random_style, random_net, synthetic_frame

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("arch", ["full", "lite"])
@pytest.mark.parametrize("hw", [(32, 32), (33, 47), (61, 35)])
def test_output_size_equals_input_size(arch: str, hw: tuple[int, int]) -> None:
    net = build_net(arch).eval()
    with torch.no_grad():
        y = net(torch.rand(2, 3, *hw) * 255)
    assert y.shape == (2, 3, *hw)


def _readme_architectures() -> dict[str, tuple[str, str]]:
    """README's architecture table: ``{arch: (GFLOPs per 640x480 frame, parameters)}`` as written there."""
    rows = re.findall(r"^\| `(\w+)` \| ([\d.]+) \| ([\d.]+ [kM]) \|", README.read_text(), flags=re.MULTILINE)
    return {arch: (gflops, params) for arch, gflops, params in rows}


def _within_rounding(measured: float, stated: str, unit: float) -> bool:
    """True if ``measured`` / ``unit`` rounds to ``stated`` (half a unit of its last digit either way)."""
    decimals = len(stated.partition(".")[2])
    return abs(measured / unit - float(stated)) <= 0.5 * 10.0**-decimals + 1e-12


@pytest.mark.parametrize("arch", ["full", "lite"])
def test_flops_and_parameters_are_what_the_readme_states(arch: str) -> None:
    gflops, params = _readme_architectures()[arch]
    net = build_net(arch)
    flops = count_flops(net, height=480, width=640)
    n_params = sum(p.numel() for p in net.parameters())
    number, suffix = params.split()
    assert _within_rounding(flops, gflops, 1e9), (arch, flops, gflops)
    assert _within_rounding(n_params, number, {"k": 1e3, "M": 1e6}[suffix]), (arch, n_params, params)


def test_full_net_loads_reference_parameter_names() -> None:
    names = set(build_net("full").state_dict())
    for key in ["conv1.conv2d.weight", "in1.weight", "res5.conv2.conv2d.bias", "deconv1.conv2d.weight", "deconv3.conv2d.weight"]:
        assert key in names


def test_fresh_lite_net_starts_as_the_identity() -> None:
    x = torch.rand(1, 3, 45, 61) * 255
    with torch.no_grad():
        y = build_net("lite").eval()(x)
    assert (y - x).abs().mean() < 1.0


def test_frame_stylizer_is_uint8_bgr_in_and_out() -> None:
    net = random_net("lite").eval()
    frames = torch.from_numpy(synthetic_frame(40, 50))[None]
    with torch.no_grad():
        out = FrameStylizer(net)(frames)
        # channel order: BGR in -> network sees RGB
        rgb_in = frames.permute(0, 3, 1, 2).float().flip(1)
        direct = net(rgb_in).clamp(0, 255).round().flip(1).permute(0, 2, 3, 1)
    assert out.dtype == torch.uint8 and out.shape == frames.shape
    assert (out.int() - direct.int()).abs().max() <= 1


@pytest.mark.parametrize("arch", ["full", "lite"])
def test_onnx_matches_torch_within_two_levels(tmp_path, arch: str) -> None:
    net = random_net(arch, seed=1).eval()
    info = StyleInfo.from_style_image(name="parity", style_image_bgr=synthetic_frame(), arch=arch)
    [path] = export_style(net, tmp_path, info, fp16=False)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for h, w in [(32, 32), (45, 67), (120, 161)]:
        frames = np.stack([synthetic_frame(h, w, seed=s) for s in range(2)])
        got = sess.run(None, {"frames": frames})[0]
        with torch.no_grad():
            ref = FrameStylizer(net)(torch.from_numpy(frames)).numpy()
        assert got.dtype == np.uint8 and got.shape == frames.shape
        assert np.abs(got.astype(int) - ref.astype(int)).max() <= 2


def test_fp16_variant_close_to_fp32(tmp_path) -> None:
    fp32, fp16 = make_random_style(tmp_path, fp16=True)
    frames = synthetic_frame(64, 64)[None]
    a = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).run(None, {"frames": frames})[0]
    b = ort.InferenceSession(str(fp16), providers=["CPUExecutionProvider"]).run(None, {"frames": frames})[0]
    assert read_style_file(fp16).precision == "fp16"
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 3.0


def test_metadata_round_trips(tmp_path) -> None:
    style = synthetic_frame(300, 700)
    info = StyleInfo.from_style_image(
        name="roundtrip", style_image_bgr=style, arch="lite", title="Round Trip", artist="A. Painter",
        credit="public domain", train_config={"iters": 3, "size": 256},
    )
    [path] = export_style(build_net("lite"), tmp_path, info, fp16=False)
    got = read_style_file(path)
    assert (got.name, got.title, got.artist, got.arch, got.credit) == ("roundtrip", "Round Trip", "A. Painter", "lite", "public domain")
    assert got.train_config == {"iters": 3, "size": 256}
    thumb, source = got.thumbnail(), got.source_image()
    assert thumb is not None and max(thumb.shape[:2]) == 128
    assert source is not None and max(source.shape[:2]) == 512
