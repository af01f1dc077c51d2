"""Test-wide set-up: offline, offscreen, isolated user folders, and no leaked threads."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["STYLECAM_NO_DOWNLOAD"] = "1"  # tests never download weights

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
VGG_WEIGHTS = SHARED / "models" / "vgg16-imagenet-caffe.safetensors"
CONTENT_DIR = SHARED / "images" / "content"
STYLE_DIR = SHARED / "images" / "style"
PHOTOS_DIR = SHARED / "datasets" / "photos"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own (empty) styles/config/pictures/cache folders: no test touches the real ones
    and none depends on which styles ship (tests/test_bundled_styles.py checks those directly)."""
    base = tmp_path_factory.mktemp("user")
    for var, sub in [
        ("STYLECAM_STYLES_DIR", "styles"),
        ("STYLECAM_CONFIG_DIR", "config"),
        ("STYLECAM_PICTURES_DIR", "pictures"),
        ("STYLECAM_CACHE_DIR", "cache"),
        ("STYLECAM_BUNDLED_STYLES_DIR", "bundled"),  # tests see only the styles they make
    ]:
        monkeypatch.setenv(var, str(base / sub))
    monkeypatch.delenv("STYLECAM_VGG_WEIGHTS", raising=False)


def _foreign(thread: threading.Thread) -> bool:
    """Threads of libraries we do not own (tqdm's monitor) may outlive a test."""
    return thread.name.startswith(("TMonitor", "tqdm_monitor", "pydevd"))


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail any test that leaves a thread of its own running (napari's check, roughly)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    leaked: list[threading.Thread] = []
    while time.monotonic() < deadline:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not _foreign(t)]
        if not leaked:
            break
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"test left threads running: {[t.name for t in leaked]}")




@pytest.fixture(scope="session")
def vgg_weights_path() -> Path:
    """The real VGG16 weights from ../shared (skips where the shared folder is absent)."""
    if not VGG_WEIGHTS.is_file():
        pytest.skip(f"shared VGG weights not found at {VGG_WEIGHTS}")
    return VGG_WEIGHTS
