"""`stylecam run` and `stylecam bench`: recording, Ctrl-C finalisation, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylecam import cli
from stylecam.commands import run as run_cmd

from .helpers import FakeCameras, SlowEngine, count_video_frames, fake_cuda_that_falls_back, make_random_style


@pytest.fixture(scope="module")
def style_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_style(tmp_path_factory.mktemp("styles"), name="clirun", arch="lite")[0]



def test_run_records_max_frames(style_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rec.mp4"
    rc = cli.main(["run", "--source", "demo", "--style", str(style_path), "--output", str(out),
                   "--max-frames", "8", "--scale", "0.25", "--mirror", "--strength", "0.7", "--preserve-colors", "--no-anchor"])
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.mp4"]
    assert count_video_frames(out) == 8
    assert "CPUExecutionProvider" in capsys.readouterr().err


def _numbered_video(path: Path, frames: int, fps: float) -> Path:
    """An MP4 whose frame i shows i in binary: band b (12 px wide) is white when bit b is set (survives mp4v)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (64, 48))
    for i in range(frames):
        frame = np.zeros((48, 64, 3), np.uint8)
        for b in range(5):
            if i >> b & 1:
                frame[:, 12 * b : 12 * b + 12] = 255
        w.write(frame)
    w.release()
    return path


def _frame_numbers(path: Path) -> tuple[list[int], float]:
    """The numbers shown by the frames of a video written by :func:`_numbered_video`, and its frame rate."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    numbers = []
    while (got := cap.read())[0]:
        numbers.append(sum(1 << b for b in range(5) if got[1][:, 12 * b + 3 : 12 * b + 9].mean() > 128))
    cap.release()
    return numbers, fps


def test_file_to_file_keeps_every_frame_at_the_source_rate(style_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a stylizer 3x slower than the clip's frame rate: a conversion still gets every frame, in order
    monkeypatch.setattr("stylecam.pipeline.pipeline.load_engine", lambda style, provider: SlowEngine(0.25))
    clip = _numbered_video(tmp_path / "clip.mp4", 30, fps=12.0)
    out = tmp_path / "out.mp4"
    assert cli.main(["run", "--source", str(clip), "--style", str(style_path), "--output", str(out)]) == 0
    numbers, fps = _frame_numbers(out)
    assert numbers == list(range(30)) and fps == pytest.approx(12.0)
    live = tmp_path / "live.mp4"
    assert cli.main(["run", "--source", str(clip), "--style", str(style_path), "--output", str(live), "--realtime"]) == 0
    numbers, _ = _frame_numbers(live)
    assert 0 < len(numbers) < 30 and numbers == sorted(numbers)  # played live: the newest frame wins


def test_endless_source_to_file_needs_max_frames(style_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    still = tmp_path / "still.png"
    cv2.imwrite(str(still), np.full((48, 64, 3), 99, np.uint8))
    assert cli.main(["run", "--source", str(still), "--style", str(style_path), "--output", str(tmp_path / "o.mp4")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--max-frames" in err[0] and not (tmp_path / "o.mp4").exists()
    out = tmp_path / "five.mp4"
    args = ["run", "--source", str(still), "--style", str(style_path), "--output", str(out), "--max-frames", "5", "--scale", "0.5"]
    assert cli.main(args) == 0
    assert count_video_frames(out) == 5


def test_ctrl_c_finalises_recording(style_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "interrupted.mp4"
    real_line = run_cmd.STATUS_INTERVAL
    monkeypatch.setattr(run_cmd, "STATUS_INTERVAL", 0.05)
    calls = [0]
    from stylecam.pipeline import stats as stats_mod

    real = stats_mod.PipelineStats.line

    def line(self: stats_mod.PipelineStats) -> str:
        calls[0] += 1
        if self.frames_out >= 3 and calls[0] < 1000:
            calls[0] = 1000
            raise KeyboardInterrupt  # the user presses Ctrl-C while frames are being recorded
        return real(self)

    monkeypatch.setattr(stats_mod.PipelineStats, "line", line)
    rc = cli.main(["run", "--source", "demo", "--style", str(style_path), "--output", str(out), "--scale", "0.25"])
    assert rc == 130 and real_line > 0
    assert "interrupted" in capsys.readouterr().err
    names = [p.name for p in tmp_path.iterdir()]
    assert names == ["interrupted.mp4"]  # finalised under its name, no partial left
    assert count_video_frames(out) >= 3


def test_broken_style_file_in_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x01garbage")
    assert cli.main(["run", "--source", "demo", "--style", str(bad), "--max-frames", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylecam: error:") and "broken.onnx" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--source", "/no/such.mp4"], "no such camera, file or folder"),
        (["--scale", "2"], "--scale"),
        (["--scale", "fast"], "--scale"),
        (["--style", "nonexistent_style"], "unknown style"),
        (["--output", "/no/such/dir/out.mp4"], "does not exist"),
    ],
)
def test_run_errors_are_one_line(style_path: Path, extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = {"--source": "demo", "--style": str(style_path), "--max-frames": "2"}
    for k, v in zip(extra[::2], extra[1::2]):
        args[k] = v
    argv = ["run", *[x for kv in args.items() for x in kv]]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("stylecam: error:") and needle in err[0]


def test_unwritable_output_is_one_line(style_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A folder that is really a file cannot be written into, not even by root (CI runs as root).
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert cli.main(["run", "--source", "demo", "--style", str(style_path), "--output", str(not_a_folder / "o.mp4")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot record" in err[0]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}  # OpenCV's default log levels
    env["PYTHONWARNINGS"] = "ignore"
    return subprocess.run([sys.executable, "-m", "stylecam", *args], capture_output=True, text=True, timeout=120, env=env)


def test_subprocess_errors_have_no_traceback(style_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    for args in (["run", "--source", "nowhere.mp4", "--style", str(style_path)], ["run", "--source", "demo", "--style", str(bad)]):
        proc = _cli(*args)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("stylecam: error:")


@pytest.mark.parametrize("kind", ["absent camera", "corrupt video"])
def test_opening_trouble_is_one_line_without_opencv_noise(style_path: Path, tmp_path: Path, kind: str) -> None:
    # OpenCV warns once per backend it tries for an absent camera (V4L2, FFMPEG, obsensor) and FFmpeg
    # prints "moov atom not found" for a broken MP4: none of it may reach the user.
    source = "97"
    if kind == "corrupt video":
        source = str(tmp_path / "broken.mp4")
        Path(source).write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not a movie" * 200)
    proc = _cli("run", "--source", source, "--style", str(style_path), "--max-frames", "2")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stylecam: error:"), proc.stderr


def test_camera_probing_prints_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    code = "from stylecam.video import list_cameras; print(list_cameras(4))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_bench_json_reports_end_to_end_fps(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--arch", "lite", "--size", "96x64", "--frames", "6", "--provider", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fps"] > 0 and result["inference_fps"] > 0 and result["frames"] == 6
    assert result["provider"] == "CPUExecutionProvider" and (result["width"], result["height"]) == (96, 64)
    assert result["anchor"] is True  # grid anchoring, as in the window
    assert cli.main(["bench", "--arch", "lite", "--size", "96x64", "--frames", "4", "--provider", "cpu", "--no-anchor"]) == 0
    assert "no grid anchoring" in capsys.readouterr().out
    assert cli.main(["bench", "--size", "10x10"]) == 1


def test_bench_reports_a_cuda_session_that_fell_back_as_cpu(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    asked = fake_cuda_that_falls_back(monkeypatch)
    assert cli.main(["bench", "--arch", "lite", "--size", "64x48", "--frames", "4", "--provider", "auto", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert ["CUDAExecutionProvider"] in asked  # CUDA was tried (and fell back) ...
    assert result["provider"] == "CPUExecutionProvider"  # ... and the figures are reported as the CPU's


def test_run_reports_a_lost_camera_and_keeps_going(
    style_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cams = FakeCameras(monkeypatch, size=(64, 48), fps=60.0)
    cams.unplug_after(5)
    assert cli.main(["run", "--source", "0", "--style", str(style_path), "--max-frames", "15", "--provider", "cpu"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("stylecam: ") for line in lines), lines  # one-line reports, no traceback
    lost = [line for line in lines if "stopped sending frames" in line]
    assert lost == ["stylecam: camera 0 stopped sending frames; reconnecting"]
    assert lines.index(lost[0]) < lines.index("stylecam: camera 0 is back")
    assert cams.opened == [0, 0]  # reopened once, and the run went on to its 15 frames (more than the 6 before the loss)


def test_bench_defaults_to_the_windows_auto_scale(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """With no --scale the bench measures the Auto scale afresh (the window's default) and runs the pipeline at it."""
    import stylecam.bench as bench

    asked: list[float] = []

    def fake_timing(run: object, width: int, height: int) -> object:
        def seconds(scale: float) -> float:
            asked.append(scale)
            return {1.0: 0.2, 0.75: 0.1}.get(scale, 0.001)  # only 0.5 and below fit 0.85/30 s

        return seconds

    monkeypatch.setattr(bench, "timing_function", fake_timing)
    assert cli.main(["bench", "--arch", "lite", "--size", "96x64", "--frames", "4", "--provider", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert asked == [1.0, 0.75, 0.5]  # largest first, stopping at the first that fits
    assert result["scale"] == 0.5 and result["scale_auto"] is True
    assert cli.main(["bench", "--arch", "lite", "--size", "96x64", "--frames", "4", "--provider", "cpu", "--scale", "1", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert fixed["scale"] == 1.0 and fixed["scale_auto"] is False and asked == [1.0, 0.75, 0.5]
