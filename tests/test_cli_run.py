"""`stylecam run` and `stylecam bench`: recording, Ctrl-C finalisation, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stylecam import cli
from stylecam.commands import run as run_cmd

from .helpers import FakeCameras, count_video_frames, fake_cuda_that_falls_back, make_random_style


@pytest.fixture(scope="module")
def style_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_style(tmp_path_factory.mktemp("styles"), name="clirun", arch="lite")[0]



def test_run_records_max_frames(style_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rec.mp4"
    rc = cli.main(["run", "--source", "demo", "--style", str(style_path), "--output", str(out),
                   "--max-frames", "8", "--scale", "0.25", "--mirror", "--strength", "0.7", "--preserve-colors"])
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.mp4"]
    assert count_video_frames(out) == 8
    assert "CPUExecutionProvider" in capsys.readouterr().err


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
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "stylecam", *args], capture_output=True, text=True, timeout=120, env=env)


def test_subprocess_errors_have_no_traceback(style_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    for args in (["run", "--source", "nowhere.mp4", "--style", str(style_path)], ["run", "--source", "demo", "--style", str(bad)]):
        proc = _cli(*args)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("stylecam: error:")


def test_bench_json_reports_end_to_end_fps(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--arch", "lite", "--size", "96x64", "--frames", "6", "--provider", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fps"] > 0 and result["inference_fps"] > 0 and result["frames"] == 6
    assert result["provider"] == "CPUExecutionProvider" and (result["width"], result["height"]) == (96, 64)
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
