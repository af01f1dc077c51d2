"""In a source checkout, ``stylecam.training`` and ``stylecam.trained_styles`` are the repository's top-level folders.

The repository keeps the trainer in ``training/`` and the bundled styles in ``trained_styles/``;
installed (wheel or editable), setuptools maps them into the package as ``stylecam.training`` and
``stylecam.trained_styles``, so a user's environment holds the one top-level name ``stylecam``.
Run straight from a checkout (tests from the repository root, ``python -m stylecam`` there), no
installer has mapped anything: :func:`map_checkout_folders` does it, with a finder that knows
exactly those two names. It does nothing in an installed package (the folders are inside it).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

FOLDERS = ("training", "trained_styles")
"""Top-level folders of the repository that are subpackages of stylecam when installed."""


class _CheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds ``stylecam.<folder>`` (and nothing else) in the repository's top-level folders."""

    def __init__(self, folders: dict[str, Path]) -> None:
        self.folders = folders

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        folder = self.folders.get(fullname)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])


def map_checkout_folders(package_dir: Path) -> None:
    """Make ``stylecam.training`` / ``stylecam.trained_styles`` importable when ``package_dir`` sits in a checkout."""
    root = package_dir.parent
    if not (root / "pyproject.toml").is_file():
        return  # installed: site-packages has no pyproject.toml beside the package
    folders = {
        f"{package_dir.name}.{name}": root / name
        for name in FOLDERS
        if not (package_dir / name).exists() and (root / name / "__init__.py").is_file()
    }
    if folders and not any(isinstance(f, _CheckoutFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _CheckoutFinder(folders))
