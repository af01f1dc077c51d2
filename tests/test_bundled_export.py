"""``python -m stylecam.training.bundled_styles export``: rows of the base, or a style's own fine-tune."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stylecam.imageio import write_image
from stylecam.nets.live import LiveNet
from stylecam.styles import StyleInfo, export_style, read_style_file
from stylecam.training.base_net import load_base, save_base
from stylecam.training.bundled_styles import export_bundled


def _painting(path: Path, seed: int) -> str:
    write_image(path, np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8))
    return str(path)


@pytest.fixture()
def tiny_base(tmp_path: Path) -> Path:
    """A two-style (starry_night, udnie) live base of width 8, with its paintings on disk."""
    torch.manual_seed(0)
    net = LiveNet(2, width=8, blocks=1)
    with torch.no_grad():
        for norm in net.norms():  # two distinct rows, so the exported styles differ
            norm.weight.add_(torch.randn_like(norm.weight) * 0.3)
            norm.bias.add_(torch.randn_like(norm.bias) * 0.3)
    config = {"name": "bundled_base", "arch": "live", "iters": 1,
              "style": _painting(tmp_path / "starry_night.jpg", 1), "styles": [_painting(tmp_path / "udnie.jpg", 2)]}  # fmt: skip
    return save_base(tmp_path / "base.safetensors", net, styles=["starry_night", "udnie"], train_config=config)


def _finetune(tmp_path: Path, *, base: str = "bundled") -> Path:
    """A one-style udnie network with every weight changed, written as ``stylecam train`` writes it."""
    torch.manual_seed(5)
    net = LiveNet(1, width=8, blocks=1)
    info = StyleInfo.from_style_image(name="udnie", style_image_bgr=np.full((40, 40, 3), 90, np.uint8), arch="live",
                                      title="Udnie", artist="Francis Picabia, 1913", credit="Public domain (test)",
                                      train_config={"name": "udnie", "arch": "live", "iters": 3, "base": base, "tune": "all"})  # fmt: skip
    return export_style(net, tmp_path / "ft", info, fp16=True)[0]


def test_export_writes_every_row_of_the_base(tmp_path: Path, tiny_base: Path) -> None:
    out = tmp_path / "styles"
    written = export_bundled(tiny_base, out, tmp_path / "assets")
    assert sorted(p.name for p in written) == ["starry_night.fp16.onnx", "starry_night.onnx", "udnie.fp16.onnx", "udnie.onnx"]
    info = read_style_file(out / "udnie.onnx")
    assert info.train_config["style_index"] == 1 and info.train_config["trained_in"] == "bundled_base"
    assert load_base(tmp_path / "assets" / "live_base.safetensors").styles == ["starry_night", "udnie"]


def test_a_finetuned_style_ships_as_trained_and_the_base_keeps_its_row(tmp_path: Path, tiny_base: Path) -> None:
    import onnx

    tuned = _finetune(tmp_path)
    out = tmp_path / "styles"
    export_bundled(tiny_base, out, tmp_path / "assets", finetuned={"udnie": tuned})
    for suffix in (".onnx", ".fp16.onnx"):
        shipped, trained = onnx.load(str(out / f"udnie{suffix}")), onnx.load(str(tuned.with_name(f"udnie{suffix}")))
        assert shipped.graph == trained.graph  # the network as trained ...
        info = read_style_file(out / f"udnie{suffix}")  # ... credited as the bundle credits the painting
        assert info.credit == "Public domain (Francis Picabia, died 1953)" and info.title == "Udnie"
        assert info.train_config == read_style_file(tuned.with_name(f"udnie{suffix}")).train_config
    assert "style_index" in read_style_file(out / "starry_night.onnx").train_config  # the other row, from the base
    # The shipped base is the one given, rows for both styles unchanged (fine-tunes start from it).
    shipped, given = load_base(tmp_path / "assets" / "live_base.safetensors"), load_base(tiny_base)
    assert shipped.styles == given.styles
    for key, value in given.net.state_dict().items():
        assert torch.equal(shipped.net.state_dict()[key], value), key


def test_finetuned_must_be_that_style_and_a_finetune(tmp_path: Path, tiny_base: Path) -> None:
    tuned = _finetune(tmp_path)
    with pytest.raises(SystemExit, match="wants starry_night.onnx"):
        export_bundled(tiny_base, tmp_path / "s1", tmp_path / "a1", finetuned={"starry_night": tuned})
    scratch = _finetune(tmp_path / "scratch", base="")
    with pytest.raises(SystemExit, match="not a fine-tune"):
        export_bundled(tiny_base, tmp_path / "s2", tmp_path / "a2", finetuned={"udnie": scratch})
    tuned.with_name("udnie.fp16.onnx").unlink()
    with pytest.raises(SystemExit, match="fp16"):
        export_bundled(tiny_base, tmp_path / "s3", tmp_path / "a3", finetuned={"udnie": tuned})


def test_export_to_layout_4_upgrades_the_base_and_re_exports_the_fine_tunes(tmp_path: Path, tiny_base: Path) -> None:
    tuned = _finetune(tmp_path)
    out = tmp_path / "styles"
    export_bundled(tiny_base, out, tmp_path / "assets", finetuned={"udnie": tuned}, layout=4)
    shipped = load_base(tmp_path / "assets" / "live_base.safetensors")
    assert shipped.net.layout == 4
    for key, value in load_base(tiny_base).net.state_dict().items():
        assert torch.equal(shipped.net.state_dict()[key], value), key  # the same weights
    for name in ("udnie", "starry_night"):
        assert load_base(out / f"{name}.onnx").net.layout == 4  # each file's own network, upgraded
    udnie = load_base(out / "udnie.onnx").net.state_dict()
    for key, value in load_base(tuned).net.state_dict().items():
        assert torch.allclose(udnie[key], value), key
    info = read_style_file(out / "udnie.fp16.onnx")
    assert info.credit == "Public domain (Francis Picabia, died 1953)" and info.train_config["exported_layout"] == 4
