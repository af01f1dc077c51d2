"""Snapshot mode: Gatys style transfer and DeepDream on a frozen frame.

Images in and out are (H, W, 3) uint8 BGR. Slow (seconds on a GPU, minutes on a CPU), so the
window runs them in a :class:`SnapshotJob` with progress previews and cancel.
"""

from stylecam.snapshot.common import CancelToken, Progress, ProgressFn, SnapshotError
from stylecam.snapshot.dream import DreamConfig, dream
from stylecam.snapshot.gatys import DEFAULT_STYLE_LAYERS, GatysConfig, gatys
from stylecam.snapshot.job import SnapshotJob
from stylecam.snapshot.source import PerceptualSource, clear_weights_cache

__all__ = [
    "DEFAULT_STYLE_LAYERS",
    "CancelToken",
    "DreamConfig",
    "GatysConfig",
    "PerceptualSource",
    "Progress",
    "ProgressFn",
    "SnapshotError",
    "SnapshotJob",
    "clear_weights_cache",
    "dream",
    "gatys",
]
