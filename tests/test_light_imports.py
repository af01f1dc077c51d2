"""The live path never imports PyTorch: listing styles, `stylecam run`, the engine, pipeline, sinks, sources, the window.

Each check runs in a fresh interpreter (this test process has torch loaded already) and fails
with the chain of modules that were imported when torch shows up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers import make_random_style

REPO = Path(__file__).resolve().parent.parent

_CHECK = textwrap.dedent(
    """
    import sys
    def no_torch(what):
        if "torch" in sys.modules:
            raise SystemExit(f"{what} imported torch")
    """
)


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    full_env = {**os.environ, "PYTHONPATH": path, "QT_QPA_PLATFORM": "offscreen", **env}
    proc = subprocess.run(
        [sys.executable, "-c", _CHECK + textwrap.dedent(code)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=full_env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def style_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_style(tmp_path_factory.mktemp("light"), name="light", arch="lite")[0]


def test_live_modules_do_not_import_torch(tmp_path: Path) -> None:
    _run(
        """
        import stylecam.styles, stylecam.styles.library, stylecam.styles.metadata
        import stylecam.engine, stylecam.pipeline, stylecam.sinks, stylecam.video, stylecam.processing
        import stylecam.commands.run, stylecam.commands.styles, stylecam.commands.gui, stylecam.ui.app
        from stylecam.styles import StyleLibrary
        StyleLibrary()
        no_torch("the live modules")
        from stylecam.styles import export_style  # the exporter loads torch on first use
        assert "torch" in sys.modules
        """,
        tmp_path,
    )


def test_styles_and_run_commands_do_not_import_torch(style_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    proc = _run(
        f"""
        from stylecam import cli
        assert cli.main(["styles"]) == 0
        no_torch("stylecam styles")
        assert cli.main(["run", "--source", "demo", "--style", {str(style_file)!r}, "--max-frames", "3",
                         "--output", {str(out)!r}, "--scale", "0.25"]) == 0
        no_torch("stylecam run")
        """,
        tmp_path,
    )
    assert "recorded 3 frames" in proc.stderr and out.is_file()


def test_window_start_up_does_not_import_torch(style_file: Path, tmp_path: Path) -> None:
    styles = Path(os.environ["STYLECAM_STYLES_DIR"])
    styles.mkdir(parents=True, exist_ok=True)
    (styles / style_file.name).write_bytes(style_file.read_bytes())
    _run(
        """
        import time
        from stylecam.ui.app import build_window
        from stylecam.ui.startup import ensure_app
        window = build_window(source="synthetic", style="light", cameras=[], provider="cpu", persist=False)
        app = ensure_app()
        window.show()
        try:
            deadline = time.monotonic() + 60
            def stylized() -> bool:
                return window.pipeline.stats().style == "light" and window.pipeline.stats().frames_out >= 3
            while not (stylized() and window.preview.frames_shown >= 3) and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            assert stylized() and window.preview.frames_shown >= 3, window.pipeline.stats()
            no_torch("the window's start-up")
        finally:
            window.shutdown()
        """,
        tmp_path,
    )
