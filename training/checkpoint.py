"""Self-describing, atomic training checkpoints (safetensors: no pickle).

One file ``checkpoint.safetensors`` holds:

- tensors ``net.<param>`` (the style network), ``opt.<i>.<key>`` (Adam's per-parameter state),
  ``rng.torch`` (torch's CPU generator state), ``rng.cuda.<d>``, ``rng.numpy`` (MT19937 keys);
- metadata (strings): ``config`` (TrainConfig JSON), ``step``, ``opt.param_groups`` (JSON),
  ``rng.numpy_meta``, ``rng.python`` (JSON), ``skipped`` (JSON list of skipped files).

The data order needs no state of its own: it is a function of (seed, step) (see training/data.py).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from stylecam.atomic import atomic_write_bytes
from stylecam.errors import StylecamError
from stylecam.training.config import TrainConfig

CHECKPOINT_NAME = "checkpoint.safetensors"


@dataclass
class Checkpoint:
    config: TrainConfig
    step: int
    net_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any]
    rng: dict[str, Any]
    skipped: list[str]


def capture_rng() -> dict[str, Any]:
    """The global RNG states (torch CPU and CUDA, numpy, python)."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    config: TrainConfig,
    step: int,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    skipped: list[str],
) -> Path:
    """Write the checkpoint atomically (a crash mid-write leaves the previous one intact)."""
    tensors: dict[str, torch.Tensor] = {f"net.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    opt = optimizer.state_dict()
    for idx, pstate in opt["state"].items():
        for key, value in pstate.items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            tensors[f"opt.{idx}.{key}"] = t.detach().cpu().contiguous()
    rng = capture_rng()
    tensors["rng.torch"] = rng["torch"]
    for d, s in enumerate(rng.get("cuda", [])):
        tensors[f"rng.cuda.{d}"] = s.cpu()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = rng["numpy"]
    tensors["rng.numpy"] = torch.from_numpy(np.asarray(np_keys, dtype=np.int64))
    py_version, py_internal, py_gauss = rng["python"]
    meta = {
        "format": "stylecam-train-checkpoint/1",
        "config": config.to_json(),
        "step": str(step),
        "opt.param_groups": json.dumps(opt["param_groups"]),
        "rng.numpy_meta": json.dumps([np_name, int(np_pos), int(np_has_gauss), float(np_gauss)]),
        "rng.python": json.dumps([py_version, list(py_internal), py_gauss]),
        "skipped": json.dumps(skipped),
    }
    out = Path(path)
    try:
        atomic_write_bytes(out, st_save(tensors, metadata=meta))
        atomic_write_bytes(out.with_name("config.json"), config.to_json().encode())
    except OSError as exc:
        raise StylecamError(f"cannot write checkpoint {out}: {exc.strerror or exc}") from None
    return out


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (StylecamError if missing or malformed)."""
    p = Path(path)
    if not p.is_file():
        raise StylecamError(f"no checkpoint to resume from at {p}")
    try:
        data = p.read_bytes()
        tensors = st_load(data)
        meta = safetensors_metadata(data)
        config = TrainConfig.from_json(meta["config"])
        step = int(meta["step"])
        param_groups = json.loads(meta["opt.param_groups"])
        np_name, np_pos, np_has_gauss, np_gauss = json.loads(meta["rng.numpy_meta"])
        py_version, py_internal, py_gauss = json.loads(meta["rng.python"])
        skipped = json.loads(meta.get("skipped", "[]"))
    except (SafetensorError, OSError, KeyError, ValueError, TypeError) as exc:
        raise StylecamError(f"checkpoint {p} is unreadable ({type(exc).__name__}); delete it to start over") from None
    net_state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, key = k.split(".", 2)
            opt_state.setdefault(int(idx), {})[key] = v
    cuda = [tensors[k] for k in sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda s: int(s.rsplit(".", 1)[1]))]
    rng: dict[str, Any] = {
        "torch": tensors["rng.torch"],
        "numpy": (np_name, tensors["rng.numpy"].numpy().astype(np.uint32), np_pos, np_has_gauss, np_gauss),
        "python": (py_version, tuple(py_internal), py_gauss),
    }
    if cuda:
        rng["cuda"] = cuda
    return Checkpoint(
        config=config,
        step=step,
        net_state=net_state,
        optimizer_state={"state": opt_state, "param_groups": param_groups},
        rng=rng,
        skipped=list(skipped),
    )


def safetensors_metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors byte string (its JSON header)."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    return dict(header.get("__metadata__") or {})
