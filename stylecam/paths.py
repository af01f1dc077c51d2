"""Per-user folders (platformdirs), overridable by environment variables for tests and portables."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "stylecam"


def user_styles_dir() -> Path:
    """Where trained styles go and are picked up from (``$STYLECAM_STYLES_DIR`` overrides)."""
    env = os.environ.get("STYLECAM_STYLES_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP)) / "styles"


def user_config_dir() -> Path:
    """Where settings live (``$STYLECAM_CONFIG_DIR`` overrides)."""
    env = os.environ.get("STYLECAM_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP))


def user_pictures_dir() -> Path:
    """Default folder for saved snapshots (``$STYLECAM_PICTURES_DIR`` overrides)."""
    env = os.environ.get("STYLECAM_PICTURES_DIR")
    return Path(env) if env else Path(platformdirs.user_pictures_dir()) / APP


def user_cache_dir() -> Path:
    """Cache (benchmarked processing scales, the demo clip)."""
    env = os.environ.get("STYLECAM_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP))


def bundled_styles_dir() -> Path:
    """The styles shipped with the package (``stylecam.trained_styles``, the repository's ``trained_styles/``;
    ``$STYLECAM_BUNDLED_STYLES_DIR`` overrides)."""
    env = os.environ.get("STYLECAM_BUNDLED_STYLES_DIR")
    if env:
        return Path(env)
    from stylecam import trained_styles

    return Path(trained_styles.__file__).parent
