"""`stylecam train` from the command line: one-line errors, JSON progress ending with a done event."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from stylecam.cli import main

from .helpers import synthetic_frame, write_photo_folder


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return write_photo_folder(tmp_path / "photos", count=3, size=(72, 64))


@pytest.fixture
def style(tmp_path: Path) -> Path:
    path = tmp_path / "style.png"
    cv2.imwrite(str(path), synthetic_frame(64, 64, seed=1))
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stylecam: error: "), err
    return lines[0]


def test_missing_style_image(tmp_path: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--style", str(tmp_path / "nope.jpg"), "--dataset", str(photos), "--name", "x"])
    assert "nope.jpg" in _one_line_error(capsys, code)


def test_empty_dataset(tmp_path: Path, style: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code = main(["train", "--style", str(style), "--dataset", str(tmp_path / "empty"), "--name", "x"])
    assert "no images" in _one_line_error(capsys, code)


def test_missing_dataset(tmp_path: Path, style: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--style", str(style), "--dataset", str(tmp_path / "absent"), "--name", "x"])
    assert "not found" in _one_line_error(capsys, code)


def test_unwritable_output(tmp_path: Path, style: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")  # a folder cannot be made below a file, even as root
    code = main(["train", "--style", str(style), "--dataset", str(photos), "--name", "x", "--out", str(blocker / "styles")])
    assert "cannot write" in _one_line_error(capsys, code)


def test_bad_arch_and_bad_name(tmp_path: Path, style: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["train", "--style", str(style), "--dataset", str(photos)]
    assert "--arch" in _one_line_error(capsys, main([*base, "--name", "x", "--arch", "huge"]))
    assert "invalid style name" in _one_line_error(capsys, main([*base, "--name", "Bad Name!"]))
    assert "--preset" in _one_line_error(capsys, main([*base, "--name", "x", "--preset", "slow"]))


def test_missing_vgg_weights_is_one_line(tmp_path: Path, style: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--style", str(style), "--dataset", str(photos), "--name", "x", "--out", str(tmp_path / "o")])
    assert "VGG16 weights" in _one_line_error(capsys, code)


def test_json_progress_ends_with_done(
    tmp_path: Path, style: Path, photos: Path, vgg_weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "styles"
    code = main([
        "train", "--style", str(style), "--dataset", str(photos), "--name", "cli_style", "--out", str(out),
        "--vgg-weights", str(vgg_weights_path), "--size", "48", "--style-size", "64", "--iters", "2", "--batch", "1",
        "--log-every", "1", "--preview-every", "2", "--progress-format", "json", "--title", "CLI Style",
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    events = [json.loads(line) for line in captured.out.strip().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds == ["progress", "progress", "preview", "done"]
    p = events[1]
    assert p["step"] == 2 and p["total"] == 2 and isinstance(p["it_s"], float) and isinstance(p["eta_s"], float)
    assert set(p["losses"]) == {"content", "style", "tv", "stability", "total"}
    assert Path(events[2]["path"]).is_file()
    assert sorted(Path(f).name for f in events[3]["files"]) == ["cli_style.fp16.onnx", "cli_style.onnx"]
    assert all(Path(f).parent == out for f in events[3]["files"])
