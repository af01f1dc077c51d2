"""The style library: discovery, variants, broken files, live refresh."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from stylecam.errors import StyleFileError
from stylecam.styles import StyleLibrary, read_style_file

from .helpers import make_random_style


def _foreign_model(path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph), str(path))


def test_library_groups_variants_and_skips_bad_files(tmp_path) -> None:
    make_random_style(tmp_path, name="good", fp16=True)
    good = (tmp_path / "good.onnx").read_bytes()
    (tmp_path / "garbage.onnx").write_bytes(b"\x00not a model at all")
    (tmp_path / "truncated.onnx").write_bytes(good[: len(good) // 3])
    _foreign_model(tmp_path / "foreign.onnx")
    (tmp_path / "notes.txt").write_text("ignored")

    lib = StyleLibrary([(tmp_path, "user")])

    assert lib.names() == ["good"]
    style = lib.get("good")
    assert style.path.name == "good.onnx" and style.fp16_path.name == "good.fp16.onnx"
    assert style.path_for(prefer_fp16=True) == style.fp16_path
    assert style.path_for(prefer_fp16=False) == style.path
    reasons = {p.name: r for p, r in lib.problems.items()}
    assert set(reasons) == {"garbage.onnx", "truncated.onnx", "foreign.onnx"}
    assert all("\n" not in r for r in reasons.values())
    assert "contract" in reasons["foreign.onnx"] or "not a stylecam style" in reasons["foreign.onnx"]


def test_library_picks_up_new_and_removed_styles_without_restart(tmp_path) -> None:
    lib = StyleLibrary([(tmp_path, "user")])
    assert lib.names() == []
    assert lib.refresh() is False
    make_random_style(tmp_path, name="fresh")
    assert lib.refresh() is True
    assert lib.names() == ["fresh"]
    (tmp_path / "fresh.onnx").unlink()
    assert lib.refresh() is True
    assert lib.names() == []


def test_user_styles_override_bundled_by_name(tmp_path) -> None:
    a, b = tmp_path / "bundled", tmp_path / "user"
    make_random_style(a, name="same", seed=0)
    make_random_style(b, name="same", seed=1)
    lib = StyleLibrary([(a, "bundled"), (b, "user")])
    assert lib.get("same").location == "user"


def test_get_by_path_and_unknown_name(tmp_path) -> None:
    [path] = make_random_style(tmp_path, name="bypath")
    lib = StyleLibrary([(tmp_path / "empty", "user")])
    assert lib.get(str(path)).name == "bypath"
    with pytest.raises(StyleFileError, match="unknown style 'nope'"):
        lib.get("nope")
    with pytest.raises(StyleFileError, match="not found"):
        read_style_file(tmp_path / "missing.onnx")
