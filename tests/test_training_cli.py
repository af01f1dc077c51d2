"""`stylecam train` from the command line: one-line errors, JSON progress ending with a done event."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from stylecam.cli import main
from stylecam.styles import read_style_file
from stylecam.training.checkpoint import load_checkpoint

from .helpers import synthetic_frame, write_photo_folder

REPO = Path(__file__).resolve().parent.parent


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
    assert "--style-scales" in _one_line_error(capsys, main([*base, "--name", "x", "--style-scales", "1,half"]))
    assert "--style-scales" in _one_line_error(capsys, main([*base, "--name", "x", "--style-scales", "1,2"]))
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
    assert set(p["losses"]) == {"content", "style", "tv", "stability", "lattice", "total"}
    assert Path(events[2]["path"]).is_file()
    assert sorted(Path(f).name for f in events[3]["files"]) == ["cli_style.fp16.onnx", "cli_style.onnx"]
    assert all(Path(f).parent == out for f in events[3]["files"])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_exits_130_with_a_checkpoint_and_resume_finishes(
    tmp_path: Path, style: Path, photos: Path, vgg_weights_path: Path
) -> None:
    """A real SIGINT to a `stylecam train` process: it stops between steps, saves a checkpoint of the
    last step it reported (weights and Adam state alike), exits with 130; the same command with
    --resume does the remaining steps."""
    out = tmp_path / "styles"
    work = out / ".train" / "sigint"
    command = [
        sys.executable, "-m", "stylecam", "train", "--style", str(style), "--dataset", str(photos), "--name", "sigint",
        "--out", str(out), "--vgg-weights", str(vgg_weights_path), "--size", "48", "--style-size", "64", "--batch", "1",
        "--threads", "1", "--log-every", "1", "--preview-every", "1000", "--checkpoint-every", "1000", "--progress-format", "json",
    ]  # fmt: skip
    # As from a terminal: SIGINT at its default even where the test runner was started with it ignored.
    proc = subprocess.Popen([*command, "--iters", "1000"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 300)[0], "no progress from `stylecam train` within 300 s"
        first = json.loads(proc.stdout.readline())  # training is under way (and its Ctrl-C handler in place)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    steps = [first["step"]] + [e["step"] for e in map(json.loads, rest.splitlines()) if e["event"] == "progress"]
    stopped = steps[-1]
    assert steps == list(range(1, stopped + 1)) and stopped < 1000
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"stylecam: training interrupted at step {stopped}/1000; checkpoint saved in {work}; "
        "run the same command with --resume to continue"
    )
    ckpt = load_checkpoint(work / "checkpoint.safetensors")
    assert ckpt.step == stopped  # weights and Adam state of the same, last reported step: none cut in half
    assert all(int(s["step"]) == stopped for s in ckpt.optimizer_state["state"].values())
    assert not list(out.glob("*.onnx"))

    resumed = subprocess.run([*command, "--iters", str(stopped + 2), "--resume"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert [e["step"] for e in events if e["event"] == "progress"] == [stopped + 1, stopped + 2]
    assert events[-1]["event"] == "done"
    assert read_style_file(out / "sigint.onnx").train_config["steps_done"] == stopped + 2


def test_content_and_style_layers_are_options_checked_by_name(
    tmp_path: Path, style: Path, photos: Path, vgg_weights_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--style", str(style), "--dataset", str(photos), "--name", "layered", "--out", str(tmp_path / "o"),
            "--vgg-weights", str(vgg_weights_path), "--size", "48", "--style-size", "64", "--iters", "1", "--batch", "1",
            "--arch", "lite", "--work-dir", str(tmp_path / "w")]  # fmt: skip
    assert "relu9_9" in _one_line_error(capsys, main([*args, "--content-layer", "relu9_9"]))
    assert "relu9_9" in _one_line_error(capsys, main([*args, "--style-layers", "relu1_2,relu9_9"]))
    assert "at least one" in _one_line_error(capsys, main([*args, "--style-layers", ","]))
    assert "needs --arch live" in _one_line_error(capsys, main([*args, "--layout", "3"]))
    assert main([*args, "--content-layer", "relu3_3", "--style-layers", "relu1_2, relu4_3"]) == 0
    config = load_checkpoint(tmp_path / "w" / "checkpoint.safetensors").config
    assert config.content_layer == "relu3_3" and config.style_layers == ("relu1_2", "relu4_3")
