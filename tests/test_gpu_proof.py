"""benchmarks/gpu_proof.py: results survive a run cut short, and the profile tables add up."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def proof() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_proof", REPO / "benchmarks" / "gpu_proof.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorder_writes_each_case_at_once_keeps_errors_and_skips_past_the_budget(proof: ModuleType, tmp_path: Path) -> None:
    rec = proof.Recorder(tmp_path / "r.json", budget_s=60)
    rec.run("bench", "ok", lambda out: out.update(fps=12.5))
    assert json.loads((tmp_path / "r.json").read_text())["bench"]["ok"]["fps"] == 12.5  # on disk before the next case

    def broken(out: dict[str, Any]) -> None:
        out["partial"] = 1
        raise RuntimeError("CUDA failure 2: out of memory\nmore detail")

    got = rec.run("bench", "broken", broken)
    assert got["error"] == "RuntimeError: CUDA failure 2: out of memory" and got["partial"] == 1
    ran: list[bool] = []
    skipped = rec.run("bench", "late", lambda out: ran.append(True), needs_s=3600)
    assert not ran and "time budget" in skipped["skipped"]
    again = proof.Recorder(tmp_path / "r.json", budget_s=60)  # a second run adds to the same file
    again.run("train", "x", lambda out: out.update(it_s=3.0))
    data = json.loads((tmp_path / "r.json").read_text())
    assert set(data["bench"]) == {"ok", "broken", "late"} and data["train"]["x"]["it_s"] == 3.0


def test_profile_summary_per_run_times_and_shares(proof: ModuleType) -> None:
    events = []
    for _ in range(2):  # two runs
        events += [
            {"cat": "Node", "name": "conv1_kernel_time", "dur": 3000, "args": {"op_name": "Conv"}},
            {"cat": "Node", "name": "conv2_kernel_time", "dur": 1000, "args": {"op_name": "Conv"}},
            {"cat": "Node", "name": "norm1_kernel_time", "dur": 1000, "args": {"op_name": "InstanceNormalization"}},
            {"cat": "Node", "name": "conv1_fence_before", "dur": 500, "args": {"op_name": "Conv"}},
            {"cat": "Session", "name": "model_run", "dur": 9000},
        ]
    s = proof.profile_summary(events, runs=2)
    assert s["node_ms_per_run"] == 5.0
    assert s["by_op_type"] == [["Conv", 4.0, 80.0], ["InstanceNormalization", 1.0, 20.0]]
    assert s["by_node"][0] == ["conv1 (Conv)", 3.0, 60.0]


def test_kernel_summary_groups_gpu_work_of_every_library(proof: ModuleType) -> None:
    kernels = [
        ("sm90_xmma_fprop_implicit_gemm_f16f16", 400),
        ("void cudnn::bn_fw_tr_1C11_kernel_NCHW<__half>", 300),
        ("void onnxruntime::cuda::_PadNCHWInputWithPaddingAlongHAndWKernel<__half, 1>", 200),
        ("void cudnn::engines_precompiled::nchwToNhwcKernel<__half>", 100),
    ]
    trace = {"traceEvents": [{"cat": "kernel", "name": n, "dur": d} for n, d in kernels * 4]}
    trace["traceEvents"] += [{"cat": "cpu_op", "name": "aten::conv2d", "dur": 10_000}, {"cat": "gpu_memcpy", "name": "Memcpy HtoD", "dur": 0}]
    s = proof.kernel_summary(trace, runs=4)
    assert s["gpu_ms_per_run"] == 1.0  # CPU events do not count
    groups = {row[0]: row[1:] for row in s["by_group"]}
    assert groups["convolution"] == [0.4, 1.0, 40.0]
    assert groups["instance norm"] == [0.3, 1.0, 30.0]
    assert groups["pad"][0] == 0.2 and groups["transpose/layout"][0] == 0.1
    assert s["by_kernel"][0][0].startswith("sm90_xmma")
