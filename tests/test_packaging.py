"""Installed, stylecam is one top-level package: the trainer and the bundled styles live inside it.

The repository keeps `training/` and `trained_styles/` at its top level; the wheel maps them to
`stylecam.training` and `stylecam.trained_styles`, and a checkout maps them the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAPPED = {"training": "stylecam/training", "trained_styles": "stylecam/trained_styles"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the tree (the build leaves nothing in the repository)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("stylecam", *MAPPED):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=src)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [built] = out.glob("stylecam-*.whl")
    return built


def _tree_files() -> set[str]:
    """The files the wheel must hold, by their installed path."""
    files = set()
    for top, installed in [("stylecam", "stylecam"), *MAPPED.items()]:
        for p in (REPO / top).rglob("*"):
            rel = p.relative_to(REPO / top)
            if p.is_file() and "__pycache__" not in rel.parts and not any(part.startswith(".") for part in rel.parts):
                if top == "trained_styles" and p.suffix not in (".onnx", ".md", ".py"):
                    continue  # the training log stays in the repository
                files.add(f"{installed}/{rel.as_posix()}")
    return files


def test_wheel_has_one_top_level_package_with_everything_inside(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"stylecam", wheel.name.split("-py")[0] + ".dist-info"}, tops
    missing = _tree_files() - set(names)
    assert not missing, f"files of the tree missing from the wheel (a subpackage not listed in pyproject?): {sorted(missing)[:10]}"
    assert any(n.startswith("stylecam/trained_styles/") and n.endswith(".onnx") for n in names)


def test_installed_wheel_imports_trainer_and_styles_from_inside_the_package(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    assert sorted(p.name for p in target.iterdir() if p.name != "bin") == ["stylecam", wheel.name.split("-py")[0] + ".dist-info"]
    code = textwrap.dedent(
        f"""
        import importlib.util
        from pathlib import Path
        import stylecam, stylecam.training.config, stylecam.trained_styles
        from stylecam.paths import bundled_styles_dir
        inside = Path({str(target)!r}) / "stylecam"
        assert Path(stylecam.__file__).parent == inside, stylecam.__file__
        assert Path(stylecam.training.config.__file__).parent == inside / "training"
        assert bundled_styles_dir() == inside / "trained_styles" and any(bundled_styles_dir().glob("*.onnx"))
        for name in ("training", "trained_styles"):  # not from the wheel (a development install may still map them)
            spec = importlib.util.find_spec(name)
            assert spec is None or not str(spec.origin).startswith(str(inside.parent)), spec
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "STYLECAM_BUNDLED_STYLES_DIR"}
    env["PYTHONPATH"] = str(target)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_checkout_maps_the_repository_folders() -> None:
    import stylecam.trained_styles
    import stylecam.training.config

    assert Path(stylecam.training.config.__file__).resolve() == REPO / "training" / "config.py"
    assert Path(stylecam.trained_styles.__file__).resolve().parent == REPO / "trained_styles"
