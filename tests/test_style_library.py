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


def test_styles_command_lists_styles_skipped_files_and_the_user_folder(capsys: pytest.CaptureFixture[str]) -> None:
    from stylecam.cli import main
    from stylecam.paths import user_styles_dir

    user = user_styles_dir()  # a per-test folder (tests/conftest.py)
    make_random_style(user, name="mine", fp16=True)
    (user / "corrupt.onnx").write_bytes(b"\x08\x07 this is no protobuf of a model")
    _foreign_model(user / "foreign.onnx")

    assert main(["styles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "TITLE", "ARCH", "FP16", "WHERE", "FILE"]
    assert lines[1].split() == ["mine", "mine", "lite", "yes", "user", str(user / "mine.onnx")]
    skipped = sorted(lines[2:4])
    assert skipped[0].startswith(f"skipped {user / 'corrupt.onnx'}: corrupt.onnx is not a readable ONNX model")
    assert skipped[1].startswith(f"skipped {user / 'foreign.onnx'}: foreign.onnx does not follow the style contract")
    assert lines[4:] == [f"your styles folder: {user}"]


def test_styles_command_without_styles_says_where_they_would_go(capsys: pytest.CaptureFixture[str]) -> None:
    from stylecam.cli import main
    from stylecam.paths import user_styles_dir

    assert not user_styles_dir().exists()
    assert main(["styles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == ["(no styles installed; train one with `stylecam train`)", f"your styles folder: {user_styles_dir()} (not created yet)"]
