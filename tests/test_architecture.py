"""Qt only in stylecam.ui: enforced with import-linter's contract in pyproject.toml.

The contract covers "everything but ui": both root packages whole (so a module added later is
covered without touching the contract) minus the direct Qt imports of stylecam.ui's modules.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    return subprocess.run([exe, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_qt_is_only_imported_by_the_ui_package() -> None:
    proc = _lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 1 kept, 0 broken" in proc.stdout


def test_the_contract_is_everything_but_ui() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    assert contract["type"] == "forbidden" and contract["forbidden_modules"] == ["PySide6"]
    assert sorted(contract["source_modules"]) == sorted(config["root_packages"]) == ["stylecam", "training"]
    # The only exemption: direct Qt imports by the modules inside stylecam.ui.
    assert contract.get("ignore_imports", []) == ["stylecam.ui.** -> PySide6"]


def test_a_new_module_outside_ui_that_imports_qt_breaks_the_contract(tmp_path: Path) -> None:
    """Copy the packages, add Qt-importing modules where no contract line names them, lint the copy."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.onnx")
    for package in ("stylecam", "training"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=skip)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "stylecam" / "brand_new.py").write_text("import PySide6\n")
    (tmp_path / "stylecam" / "engine" / "brand_new_helper.py").write_text("from PySide6.QtCore import Qt\n")
    (tmp_path / "training" / "brand_new.py").write_text("import PySide6.QtGui\n")
    (tmp_path / "stylecam" / "ui" / "brand_new_widget.py").write_text("from PySide6.QtWidgets import QLabel\n")
    proc = _lint_imports(tmp_path)
    assert proc.returncode != 0 and "Contracts: 0 kept, 1 broken" in proc.stdout, proc.stdout + proc.stderr
    broken = {line.split("->")[0].strip(" -") for line in proc.stdout.splitlines() if "-> PySide6" in line}
    assert broken == {"stylecam.brand_new", "stylecam.engine.brand_new_helper", "training.brand_new"}
