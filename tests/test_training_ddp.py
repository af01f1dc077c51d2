"""Distributed training: two CPU processes on Gloo under torchrun end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from .helpers import write_photo_folder

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import torch
    from safetensors.torch import save_file
    from stylecam.perceptual import tiny_vgg_features
    from stylecam.training.config import preset
    from stylecam.training.train import train

    torch.set_num_threads(1)
    style, dataset, out = sys.argv[1:4]
    cfg = preset("quick", style=style, dataset=dataset, name="ddp", size=48, batch=2, iters=2, style_size=64,
                 min_image_side=32, log_every=1, preview_every=1000, checkpoint_every=1000,
                 content_weight=1.0, style_weight=2000.0, tv_weight=1e-3, stability_weight=0.05)
    result = train(cfg, out_dir=out, perceptual=tiny_vgg_features(0))
    rank = os.environ["RANK"]
    state = {k: v.detach().contiguous() for k, v in result.net.state_dict().items()}
    save_file(state, os.path.join(out, f"rank{rank}.safetensors"))
    """
)


@pytest.mark.slow
def test_two_gloo_ranks_end_with_identical_weights(tmp_path: Path) -> None:
    photos = write_photo_folder(tmp_path / "photos", count=6, size=(80, 64), ext=".png")
    rng = np.random.default_rng(0)
    style = tmp_path / "style.png"
    cv2.imwrite(str(style), rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    script = tmp_path / "ddp_script.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    repo = str(Path(__file__).resolve().parent.parent)  # this checkout's stylecam, whatever is installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH")) if p)
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(script), str(style), str(photos), str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w0 = load_file(str(out / "rank0.safetensors"))
    w1 = load_file(str(out / "rank1.safetensors"))
    assert w0.keys() == w1.keys()
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    # The weights moved away from the common initialisation (the step really ran), and only
    # rank 0 wrote the checkpoint and the style files.
    torch.manual_seed(0)
    from stylecam.nets import build_net

    init = build_net("lite").state_dict()
    assert any(not torch.equal(init[k], w0[k]) for k in w0)
    assert sorted(p.name for p in out.glob("*.onnx")) == ["ddp.fp16.onnx", "ddp.onnx"]
    assert (out / ".train" / "ddp" / "checkpoint.safetensors").is_file()
