"""GPU proof: the CUDA provider really runs, and how fast (live styles, snapshot mode, training).

    python benchmarks/gpu_proof.py --out results/ --vgg-weights vgg16-imagenet-caffe-fp16.safetensors \
        --photos <photo folder> --reference <pytorch/examples>/fast_neural_style

Sections (``--sections``, in the order given):

- ``env``: GPU, driver, library versions.
- ``providers``: the provider ONNX Runtime really uses for a bundled style (its session's first
  provider, and ``stylecam bench --provider cuda --json``); fp16-on-CUDA vs fp32-on-CPU output on
  a photo; two forced fallbacks (GPU hidden with ``CUDA_VISIBLE_DEVICES=``; a non-existent
  ``device_id``) and what ONNX Runtime, the engine and ``stylecam bench`` report for them.
- ``bench``: :func:`stylecam.bench.run_bench` (the live pipeline end to end, and the network alone)
  for every bundled style and an untrained network of every architecture, at each ``--sizes``.
- ``profile``: ONNX Runtime's profiler on ``full`` fp16 at the first size: time per operator type and node.
- ``variants``: the network alone with frames already on the device, and with ONNX Runtime
  options (NHWC convolutions, batches, CUDA graphs last), the fp32 file, and the same network in
  PyTorch (eager, fp16, channels-last) for comparison; FLOP rates.
- ``snapshot``: Gatys and DeepDream at the target sizes (one warm-up run, then a timed run).
- ``train``: our trainer vs pytorch/examples' (``benchmarks/train_throughput.py``), same network, batch, crop.

Results go to ``<out>/gpu_proof.json``, rewritten after every case, so a run cut short keeps what
it measured; ``--budget-s`` skips what would start after that many seconds. ``--provider cpu`` with
tiny ``--sizes`` and snapshot/training sizes is a dry run of the same code on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC_ROOT = HERE.parent

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
SECTIONS = ("env", "providers", "bench", "profile", "variants", "snapshot", "train", "kernels", "train_probe")


class Recorder:
    """The results as a JSON document, rewritten to ``path`` after every change; a time budget."""

    def __init__(self, path: Path, budget_s: float) -> None:
        self.path = path
        self.deadline = time.monotonic() + budget_s
        self.data: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "argv": sys.argv[1:]}
        if path.is_file():  # several runs (e.g. one per device call) add to one file
            self.data = {**json.loads(path.read_text()), **self.data}

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def put(self, section: str, key: str, value: Any) -> None:
        self.data.setdefault(section, {})[key] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=str))
        tmp.replace(self.path)

    def run(self, section: str, key: str, fn: Callable[[dict[str, Any]], None], *, needs_s: float = 5.0) -> dict[str, Any]:
        """Run one case ``fn(out)``, which fills ``out``; store ``out`` when it ends.

        An error is stored as one line (traceback on stderr); a case that would start with less
        than ``needs_s`` seconds of the budget left is skipped and says so.
        """
        if self.left() < needs_s:
            out: dict[str, Any] = {"skipped": f"time budget: {self.left():.0f} s left, needs ~{needs_s:.0f} s"}
        else:
            out = {}
            t0 = time.perf_counter()
            try:
                fn(out)
            except Exception as exc:
                traceback.print_exc()
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                out["error"] = f"{type(exc).__name__}: {first}"
            out["case_s"] = round(time.perf_counter() - t0, 2)
        self.put(section, key, out)
        print(f"[{section}] {key}: {json.dumps(out, default=str)[:600]}", flush=True)
        return out


def time_calls(fn: Callable[[], object], *, warmup: int = 5, max_runs: int = 200, max_s: float = 2.0) -> dict[str, float]:
    """Median/p95 milliseconds and fps of ``fn()`` (each call must have finished its GPU work when it returns)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    t_end = time.perf_counter() + max_s
    while len(times) < max_runs and (len(times) < 10 or time.perf_counter() < t_end):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    t = np.asarray(times)
    return {"ms_p50": round(float(np.median(t)) * 1e3, 3), "ms_p95": round(float(np.percentile(t, 95)) * 1e3, 3),
            "fps": round(1.0 / float(np.median(t)), 1), "runs": len(times)}  # fmt: skip


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def test_frame(width: int, height: int, batch: int = 1) -> np.ndarray:
    """A (batch, H, W, 3) uint8 BGR photo-like frame (the bundled demo image, resized)."""
    import cv2

    from stylecam.imageio import read_image

    img = cv2.resize(read_image(SRC_ROOT / "stylecam/assets/demo.jpg"), (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.broadcast_to(img, (batch, height, width, 3)))


def bundled_styles() -> list[Any]:
    from stylecam.paths import bundled_styles_dir
    from stylecam.styles import StyleLibrary

    return StyleLibrary([(bundled_styles_dir(), "bundled")]).styles


def untrained_styles(folder: Path, fp16: bool) -> dict[str, Any]:
    """An untrained style file (fp32, and fp16 if asked) of every architecture ``build_net`` knows."""
    from stylecam.bench import random_style
    from stylecam.nets import ARCHS

    out = {}
    for arch in ARCHS:
        sub = folder / arch
        sub.mkdir(parents=True, exist_ok=True)
        out[arch] = random_style(arch, sub, fp16=fp16)
    return out


def subprocess_json(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 180) -> dict[str, Any]:
    """Run a command; its rc, last stderr line and its stdout parsed as JSON when it is JSON."""
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC_ROOT), os.environ.get("PYTHONPATH", "")]), **(env or {})}
    p = subprocess.run(cmd, cwd=SRC_ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
    out: dict[str, Any] = {"rc": p.returncode}
    err = [line for line in p.stderr.strip().splitlines() if line.strip()]
    if err:
        out["stderr_last"] = err[-1][:300]
    try:
        out["json"] = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        out["stdout_tail"] = p.stdout[-300:]
    return out


# --- sections ---------------------------------------------------------------------------------


def section_env(rec: Recorder, a: argparse.Namespace) -> None:
    def versions(out: dict[str, Any]) -> None:
        import onnxruntime as ort
        import torch

        out.update(python=platform.python_version(), torch=torch.__version__, torch_cuda=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version(), onnxruntime=ort.__version__,
                   ort_available_providers=ort.get_available_providers(), cpu_count=os.cpu_count())  # fmt: skip
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            out.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), sm_count=p.multi_processor_count,
                       capability=f"{p.major}.{p.minor}")  # fmt: skip
        try:
            q = "name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit,temperature.gpu"
            smi = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
            out["nvidia_smi"] = dict(zip(q.split(","), (v.strip() for v in smi.stdout.strip().split(","))))
        except (OSError, subprocess.SubprocessError) as exc:
            out["nvidia_smi"] = f"unavailable ({type(exc).__name__})"

    rec.run("env", "versions", versions, needs_s=1)


_FALLBACK_PROBE = """
import json, sys, onnxruntime as ort
from stylecam.engine import load_engine
from stylecam.styles import StyleLibrary
style = StyleLibrary().get(sys.argv[1])
path = str(style.path_for(prefer_fp16=True))
out = {"available_providers": ort.get_available_providers()}
ort.set_default_logger_severity(4)
out["raw_session_asked_cuda_got"] = ort.InferenceSession(path, providers=["CUDAExecutionProvider"]).get_providers()
out["engine_auto_provider"] = load_engine(style, provider="auto").provider
print(json.dumps(out))
"""


_BAD_DEVICE_PROBE = """
import json, sys, onnxruntime as ort
ort.set_default_logger_severity(4)
got = ort.InferenceSession(sys.argv[1], providers=[("CUDAExecutionProvider", {"device_id": "7"})]).get_providers()
print(json.dumps({"raw_session_providers": got, "engine_rule_reports": got[0]}))
"""


def section_providers(rec: Recorder, a: argparse.Namespace) -> None:
    from stylecam.engine import load_engine

    styles = {s.name: s for s in bundled_styles()}
    style = styles.get(a.style) or next(iter(styles.values()))
    w, h = parse_size(a.sizes[0])

    def engine(out: dict[str, Any]) -> None:
        eng = load_engine(style, provider=a.provider)
        out.update(style=style.name, file=eng.path.name, engine_provider=eng.provider,
                   session_providers=eng._session.get_providers())  # fmt: skip
        frame = test_frame(w, h)[0]
        got = eng.run(frame)
        ref = load_engine(style, provider="cpu").run(frame)
        diff = np.abs(got.astype(np.int16) - ref.astype(np.int16))
        out["vs_fp32_cpu_levels"] = {"mean_abs": round(float(diff.mean()), 3), "p99": float(np.percentile(diff, 99)), "max": int(diff.max())}
        out["output_vs_input_mean_abs_levels"] = round(float(np.abs(got.astype(np.int16) - frame).mean()), 1)

    def cli_bench(out: dict[str, Any]) -> None:
        cmd = [sys.executable, "-m", "stylecam", "bench", "--style", style.name, "--provider", a.provider,
               "--size", a.sizes[0], "--frames", str(a.frames), "--json"]  # fmt: skip
        out["command"] = "stylecam " + " ".join(cmd[3:])
        out.update(subprocess_json(cmd))

    def gpu_hidden(out: dict[str, Any]) -> None:
        hidden = {"CUDA_VISIBLE_DEVICES": ""}
        out["how"] = "CUDA_VISIBLE_DEVICES= (the driver shows no GPU; onnxruntime-gpu still lists CUDA as available)"
        out["probe"] = subprocess_json([sys.executable, "-c", _FALLBACK_PROBE, style.name], env=hidden)
        small = ["--style", style.name, "--size", "320x240", "--frames", "20", "--json"]
        out["bench_auto"] = subprocess_json([sys.executable, "-m", "stylecam", "bench", "--provider", "auto", *small], env=hidden)
        out["bench_cuda"] = subprocess_json([sys.executable, "-m", "stylecam", "bench", "--provider", "cuda", *small], env=hidden)

    def bad_device(out: dict[str, Any]) -> None:
        out["how"] = "CUDA provider asked with device_id=7 on a 1-GPU machine (in a child process)"
        out["probe"] = subprocess_json([sys.executable, "-c", _BAD_DEVICE_PROBE, str(style.path_for(prefer_fp16=True))])

    rec.run("providers", "engine", engine, needs_s=10)
    rec.run("providers", "cli_bench", cli_bench, needs_s=20)
    rec.run("providers", "fallback_gpu_hidden", gpu_hidden, needs_s=20)
    rec.run("providers", "fallback_bad_device_id", bad_device, needs_s=5)


def section_bench(rec: Recorder, a: argparse.Namespace) -> None:
    from stylecam.bench import run_bench

    with tempfile.TemporaryDirectory(prefix="gpu-proof-") as tmp:
        untrained: dict[str, Any] = {}

        def export(out: dict[str, Any]) -> None:
            untrained.update(untrained_styles(Path(tmp), fp16=a.provider != "cpu"))
            out["archs"] = sorted(untrained)

        rec.run("bench", "export_untrained", export, needs_s=30)
        cases = [(f"untrained_{arch}", s) for arch, s in sorted(untrained.items(), key=lambda kv: kv[0] != "full")]
        cases += [(s.name, s) for s in bundled_styles()]
        for size in a.sizes:
            w, h = parse_size(size)
            for label, style in cases:

                def one(out: dict[str, Any], style: Any = style, label: str = label) -> None:
                    frames = a.frames if label.startswith("untrained") else max(2, a.frames // 2)
                    r = run_bench(style=style, width=w, height=h, frames=frames, provider=a.provider, timeout=120)
                    out.update({k: round(v, 2) if isinstance(v, float) else v for k, v in r.to_dict().items()})

                rec.run("bench", f"{label}@{size}", one, needs_s=15)


def _ort_session(path: Path, provider: str, options: dict[str, str], *, profile_prefix: str | None = None) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    providers = [(CUDA, options)] if provider == "cuda" else [CPU]
    return ort.InferenceSession(str(path), so, providers=providers)


def _device_runner(sess: Any, frames: np.ndarray, device: str) -> Callable[[], None]:
    """Run ``sess`` on ``frames`` already in device memory, output into a bound device buffer."""
    import onnxruntime as ort

    from stylecam.styles import INPUT_NAME, OUTPUT_NAME

    x = ort.OrtValue.ortvalue_from_numpy(frames, device, 0)
    y = ort.OrtValue.ortvalue_from_shape_and_type(frames.shape, np.uint8, device, 0)
    binding = sess.io_binding()
    binding.bind_ortvalue_input(INPUT_NAME, x)
    binding.bind_ortvalue_output(OUTPUT_NAME, y)
    return lambda: sess.run_with_iobinding(binding)


def _torch_runner(arch: str, w: int, h: int, device: str) -> Callable[[], None]:
    """The same network in PyTorch eager, fp16 (fp32 on a CPU), channels-last, frames on the device.

    Turns cuDNN autotuning on (fixed shapes: it pays); the caller restores the setting.
    """
    import torch

    from stylecam.nets import build_net

    torch.backends.cudnn.benchmark = True
    dtype = torch.float16 if device == "cuda" else torch.float32
    net = build_net(arch).to(device, dtype).eval().to(memory_format=torch.channels_last)
    x = (torch.rand(1, 3, h, w, device=device) * 255).to(dtype).contiguous(memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run() -> None:
        with torch.inference_mode():
            net(x)
        sync()

    return run


VARIANTS: list[tuple[str, dict[str, str], int, bool]] = [  # label, CUDA provider options, batch, fp16 file
    ("device_frames", {}, 1, True),
    ("device_frames_nhwc", {"prefer_nhwc": "1"}, 1, True),
    ("device_frames_batch4", {}, 4, True),
    ("device_frames_fp32_file", {}, 1, False),
    # CUDA graphs last: a failed capture must not spoil the other figures.
    ("device_frames_cuda_graph", {"enable_cuda_graph": "1"}, 1, True),
    ("device_frames_nhwc_cuda_graph", {"prefer_nhwc": "1", "enable_cuda_graph": "1"}, 1, True),
]


def section_variants(rec: Recorder, a: argparse.Namespace) -> None:
    import torch

    from stylecam.engine import load_engine
    from stylecam.nets import build_net, count_flops

    dev = "cuda" if a.provider == "cuda" else "cpu"
    variants = VARIANTS if dev == "cuda" else [v for v in VARIANTS if not v[1]]
    plain = [v for v in variants if "enable_cuda_graph" not in v[1]]
    graphs = [v for v in variants if "enable_cuda_graph" in v[1]]
    with tempfile.TemporaryDirectory(prefix="gpu-proof-") as tmp:
        styles = untrained_styles(Path(tmp), fp16=True)
        combos = [(arch, size, *parse_size(size)) for arch in a.variant_archs for size in a.sizes]
        flops = {(arch, size): count_flops(build_net(arch), height=h, width=w) for arch, size, w, h in combos}
        for batch_of_variants, with_references in ((plain, True), (graphs, False)):
            for arch, size, w, h in combos:
                style, f, key = styles[arch], flops[arch, size], f"{arch}@{size}"

                def host(out: dict[str, Any], style: Any = style, w: int = w, h: int = h, f: int = f) -> None:
                    engine = load_engine(style, provider=a.provider)
                    frame = test_frame(w, h)[0]
                    out.update(provider=engine.provider, file=engine.path.name, gflops_per_frame=round(f / 1e9, 1))
                    out.update(time_calls(lambda: engine.run(frame)))

                if with_references:
                    rec.run("variants", f"{key}:engine_host_frames", host, needs_s=10)
                for label, options, batch, fp16 in batch_of_variants:

                    def variant(out: dict[str, Any], style: Any = style, w: int = w, h: int = h, f: int = f,
                                options: dict[str, str] = options, batch: int = batch, fp16: bool = fp16) -> None:  # fmt: skip
                        path = style.path_for(prefer_fp16=fp16)
                        sess = _ort_session(path, a.provider, options)
                        out.update(options=options, batch=batch, file=path.name, provider=sess.get_providers()[0])
                        t = time_calls(_device_runner(sess, test_frame(w, h, batch), dev))
                        t["frames_per_s"] = round(t["fps"] * batch, 1)
                        t["tflop_s"] = round(f * batch / (t["ms_p50"] / 1e3) / 1e12, 1)
                        out.update(t)

                    rec.run("variants", f"{key}:{label}", variant, needs_s=10)

                def eager(out: dict[str, Any], arch: str = arch, w: int = w, h: int = h, f: int = f) -> None:
                    out["what"] = f"the same net in PyTorch {torch.__version__} eager, {'fp16' if dev == 'cuda' else 'fp32'}, channels-last"
                    autotune = torch.backends.cudnn.benchmark
                    try:
                        t = time_calls(_torch_runner(arch, w, h, dev))
                    finally:  # later sections (training) must not inherit cuDNN autotuning
                        torch.backends.cudnn.benchmark = autotune
                    t["tflop_s"] = round(f / (t["ms_p50"] / 1e3) / 1e12, 1)
                    out.update(t)
                    if dev == "cuda":
                        torch.cuda.empty_cache()

                if with_references:
                    rec.run("variants", f"{key}:torch_eager", eager, needs_s=10)


def profile_summary(events: list[dict[str, Any]], runs: int, top: int = 12) -> dict[str, Any]:
    """Mean milliseconds per run by operator type and by node, and their share of all node time.

    ``events``: ONNX Runtime profile events (Chrome trace JSON objects) of ``runs`` runs; only the
    ``Node`` events named ``*_kernel_time`` count. Rows are [name, ms per run, percent], largest first.
    """
    by_type: dict[str, float] = {}
    by_node: dict[str, float] = {}
    for ev in events:
        if ev.get("cat") != "Node" or not str(ev.get("name", "")).endswith("_kernel_time"):
            continue
        us = float(ev.get("dur", 0))
        op = str(ev.get("args", {}).get("op_name", "?"))
        node = f"{str(ev['name']).removesuffix('_kernel_time')} ({op})"
        by_type[op] = by_type.get(op, 0.0) + us
        by_node[node] = by_node.get(node, 0.0) + us
    total = sum(by_type.values())

    def table(d: dict[str, float]) -> list[list[Any]]:
        rows = sorted(d.items(), key=lambda kv: -kv[1])[:top]
        return [[k, round(v / runs / 1e3, 3), round(100 * v / total, 1) if total else 0.0] for k, v in rows]

    return {"node_ms_per_run": round(total / runs / 1e3, 3), "by_op_type": table(by_type), "by_node": table(by_node)}


def section_profile(rec: Recorder, a: argparse.Namespace) -> None:
    dev = "cuda" if a.provider == "cuda" else "cpu"
    warmup, runs = 5, 20
    w, h = parse_size(a.sizes[0])
    with tempfile.TemporaryDirectory(prefix="gpu-proof-") as tmp:
        style = untrained_styles(Path(tmp), fp16=True)["full"]
        for options in ({}, {"prefer_nhwc": "1"}) if dev == "cuda" else ({},):

            def prof(out: dict[str, Any], options: dict[str, str] = options) -> None:
                path = style.path_for(prefer_fp16=True)
                sess = _ort_session(path, a.provider, options, profile_prefix=str(Path(tmp) / "prof"))
                run = _device_runner(sess, test_frame(w, h), dev)
                for _ in range(warmup):
                    run()
                t0 = time.perf_counter()
                for _ in range(runs):
                    run()
                out["wall_ms_per_run_while_profiling"] = round((time.perf_counter() - t0) / runs * 1e3, 3)
                nodes = [e for e in json.loads(Path(sess.end_profiling()).read_text()) if e.get("cat") == "Node"]
                per_run = len(nodes) // (warmup + runs)  # every run has the same node events; keep the timed runs'
                out.update(file=path.name, options=options, **profile_summary(nodes[len(nodes) - per_run * runs :], runs))

            rec.run("profile", f"full@{a.sizes[0]}:{'nhwc' if options else 'default'}", prof, needs_s=15)


def section_snapshot(rec: Recorder, a: argparse.Namespace) -> None:
    import torch
    from snapshot_gpu import snapshot_cases, timed

    from stylecam.imageio import read_image, write_image
    from stylecam.snapshot import PerceptualSource

    dev = "cuda" if a.provider == "cuda" else "cpu"
    torch.backends.cudnn.benchmark = a.cudnn_benchmark  # off: what the app does (and what training then runs with)
    source = PerceptualSource.from_weights(a.vgg_weights)
    cases = snapshot_cases(source, read_image(a.content), read_image(a.style_image), device=dev,
                           gatys_size=a.gatys_size, gatys_steps=a.gatys_steps,
                           dream_size=parse_size(a.dream_size), dream_steps=a.dream_steps)  # fmt: skip
    for (name, fn), short in zip(cases.items(), ("gatys", "dream"), strict=True):

        def one(out: dict[str, Any], name: str = name, fn: Callable[[], np.ndarray] = fn, short: str = short) -> None:
            out.update(what=name, vgg_weights=Path(a.vgg_weights).name, cudnn_benchmark=a.cudnn_benchmark)
            if dev == "cuda":
                torch.cuda.reset_peak_memory_stats()
            out["first_run_s"] = round(timed(fn), 2)  # includes the weights upload (and autotuning if benchmark is on)
            if out["first_run_s"] < rec.left() - 10:
                result: list[np.ndarray] = []
                out["timed_run_s"] = round(timed(lambda: result.append(fn())), 2)
                out["result_shape"] = list(result[0].shape)
                write_image(Path(a.out) / f"snapshot_{short}.jpg", result[0])
            if dev == "cuda":
                out["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)

        rec.run("snapshot", short, one, needs_s=30)


def section_train(rec: Recorder, a: argparse.Namespace) -> None:
    from train_throughput import run_ours, run_reference

    dev = "cuda" if a.provider == "cuda" else "cpu"
    base = dict(reference=a.reference, dataset=a.photos, style=a.style_image, vgg_weights=a.vgg_weights, size=a.train_size,
                batch=a.train_batch, steps=a.train_steps, warmup=a.train_warmup, workers=a.train_workers)  # fmt: skip
    common = {"net": "full", "size": a.train_size, "batch": a.train_batch, "steps": a.train_steps, "warmup_steps": a.train_warmup}

    def ours(stability: float) -> Callable[[dict[str, Any]], None]:
        def run(out: dict[str, Any]) -> None:
            out.update(common, stability_weight=stability)
            out["it_s"] = round(run_ours(SimpleNamespace(**base, stability_weight=stability), dev), 3)

        return run

    def reference(out: dict[str, Any]) -> None:
        out.update(common, what="pytorch/examples fast_neural_style train(), its models.vgg16 loading --vgg-weights")
        out["it_s"] = round(run_reference(SimpleNamespace(**base, stability_weight=0.0), dev), 3)

    rec.run("train", "ours", ours(0.3), needs_s=40)
    rec.run("train", "reference", reference, needs_s=40)
    rec.run("train", "ours_no_stability", ours(0.0), needs_s=40)
    t = rec.data.get("train", {})
    ref = t.get("reference", {}).get("it_s")
    if ref:
        rec.put("train", "ratio_to_reference", {k: round(t[k]["it_s"] / ref, 2) for k in ("ours", "ours_no_stability") if "it_s" in t.get(k, {})})


KERNEL_GROUPS = (  # (group, substrings of CUDA kernel names, lower case), first match wins
    ("convolution", ("conv", "xmma", "implicit", "cutlass", "sm90", "sm80", "gemm", "fprop", "winograd", "fft")),
    ("instance norm", ("instancenorm", "instance_norm", "batchnorm", "bn_", "norm")),
    ("pad", ("pad",)),
    ("resize", ("resize", "upsample")),
    ("transpose/layout", ("transpose", "nchw", "nhwc", "permute")),
    ("memcpy/memset", ("memcpy", "memset")),
    ("elementwise", ("elementwise", "unary", "binary", "relu", "add", "cast", "clip", "slice", "concat", "where", "vectorized")),
)


def kernel_summary(trace: dict[str, Any], runs: int, top: int = 20) -> dict[str, Any]:
    """GPU time per run by kernel group and by kernel, from a PyTorch profiler Chrome trace.

    Counts the events of category ``kernel``, ``gpu_memcpy`` and ``gpu_memset`` (all CUDA work of
    the process, whichever library launched it). Rows are [name, ms per run, launches per run, percent].
    """
    by_kernel: dict[str, list[float]] = {}
    for ev in trace.get("traceEvents", []):
        if ev.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset"):
            row = by_kernel.setdefault(str(ev.get("name", "?")), [0.0, 0.0])
            row[0] += float(ev.get("dur", 0))
            row[1] += 1
    total = sum(v[0] for v in by_kernel.values())
    groups: dict[str, list[float]] = {}
    for name, (us, n) in by_kernel.items():
        low = name.lower()
        group = next((g for g, keys in KERNEL_GROUPS if any(k in low for k in keys)), "other")
        row = groups.setdefault(group, [0.0, 0.0])
        row[0] += us
        row[1] += n

    def table(d: dict[str, list[float]], limit: int) -> list[list[Any]]:
        rows = sorted(d.items(), key=lambda kv: -kv[1][0])[:limit]
        return [[k[:120], round(v[0] / runs / 1e3, 3), round(v[1] / runs, 1), round(100 * v[0] / total, 1) if total else 0.0] for k, v in rows]

    return {"gpu_ms_per_run": round(total / runs / 1e3, 3), "by_group": table(groups, 99), "by_kernel": table(by_kernel, top)}


def section_kernels(rec: Recorder, a: argparse.Namespace) -> None:
    """GPU kernel times of ``full`` fp16 on ONNX Runtime's CUDA provider (PyTorch's profiler sees every CUDA kernel of the process)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    runs = 10
    dev = "cuda" if a.provider == "cuda" else "cpu"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev == "cuda" else [])
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    with tempfile.TemporaryDirectory(prefix="gpu-proof-") as tmp:
        style = untrained_styles(Path(tmp), fp16=True)["full"]
        for size in a.sizes:

            def one(out: dict[str, Any], size: str = size) -> None:
                w, h = parse_size(size)
                path = style.path_for(prefer_fp16=True)
                sess = _ort_session(path, a.provider, {})
                run = _device_runner(sess, test_frame(w, h), dev)
                for _ in range(10):
                    run()
                with profile(activities=activities) as prof:
                    t0 = time.perf_counter()
                    for _ in range(runs):
                        run()
                    sync()
                    out["wall_ms_per_run_while_profiling"] = round((time.perf_counter() - t0) / runs * 1e3, 3)
                trace_path = Path(tmp) / f"trace_{size}.json"
                prof.export_chrome_trace(str(trace_path))
                out.update(file=path.name, **kernel_summary(json.loads(trace_path.read_text()), runs))

            rec.run("kernels", f"full@{size}", one, needs_s=20)


def section_train_probe(rec: Recorder, a: argparse.Namespace) -> None:
    """Where our trainer's time goes: the photo loader alone, more loader workers, a fixed stability shift."""
    import torch
    from torch.utils.data import DataLoader
    from train_throughput import run_ours

    import stylecam.training.train as trainer
    from stylecam.training.data import PhotoStream, StreamSampler, collate, scan_photos

    dev = "cuda" if a.provider == "cuda" else "cpu"
    base = dict(reference=a.reference, dataset=a.photos, style=a.style_image, vgg_weights=a.vgg_weights, size=a.train_size,
                batch=a.train_batch, steps=a.train_steps, warmup=a.train_warmup)  # fmt: skip

    def loader(out: dict[str, Any]) -> None:
        photos, _ = scan_photos(a.photos)
        stream = PhotoStream(photos, size=a.train_size, seed=0)
        sampler = StreamSampler(batch=a.train_batch, start_step=0, total_steps=a.train_steps + a.train_warmup)
        dl = DataLoader(stream, batch_size=a.train_batch, sampler=sampler, num_workers=a.train_workers, collate_fn=collate,
                        pin_memory=dev == "cuda")  # fmt: skip
        stamps = [time.perf_counter() for _ in dl]
        t = stamps[a.train_warmup :]
        out.update(workers=a.train_workers, batch=a.train_batch, size=a.train_size, batches_per_s=round((len(t) - 1) / (t[-1] - t[0]), 2))

    def ours(stability: float, workers: int, fixed_shift: bool) -> Callable[[dict[str, Any]], None]:
        def run(out: dict[str, Any]) -> None:
            real = trainer.draw_shift
            if fixed_shift:
                trainer.draw_shift = lambda generator, max_shift: (2, 2)  # one stability shape for every step
            try:
                out.update(stability_weight=stability, workers=workers, fixed_shift=fixed_shift)
                out["it_s"] = round(run_ours(SimpleNamespace(**base, workers=workers, stability_weight=stability), dev), 3)
            finally:
                trainer.draw_shift = real

        return run

    rec.run("train_probe", "loader_only", loader, needs_s=20)
    rec.run("train_probe", "ours_stability_fixed_shift", ours(0.3, a.train_workers, True), needs_s=30)
    rec.run("train_probe", "ours_stability_8_workers", ours(0.3, 8, False), needs_s=30)
    rec.run("train_probe", "ours_no_stability_8_workers", ours(0.0, 8, False), needs_s=30)
    if dev == "cuda":
        torch.cuda.empty_cache()


RUNNERS: dict[str, Callable[[Recorder, argparse.Namespace], None]] = {
    "env": section_env, "providers": section_providers, "bench": section_bench, "variants": section_variants,
    "profile": section_profile, "snapshot": section_snapshot, "train": section_train, "kernels": section_kernels,
    "train_probe": section_train_probe,
}  # fmt: skip


def main() -> int:
    sys.path[:0] = [str(SRC_ROOT), str(HERE)]  # stylecam, training and the sibling benchmark modules
    shared = SRC_ROOT.parent / "shared"
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for gpu_proof.json and the snapshot results")
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--provider", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--sizes", default="1280x720,1920x1080", help="frame sizes WxH, comma-separated")
    p.add_argument("--frames", type=int, default=300, help="frames per end-to-end run (bundled styles: half)")
    p.add_argument("--style", default="starry_night", help="bundled style for the provider checks")
    p.add_argument("--variant-archs", default="full,lite")
    p.add_argument("--vgg-weights", default=os.environ.get("STYLECAM_VGG_WEIGHTS", str(shared / "models/vgg16-imagenet-caffe-fp16.safetensors")))
    p.add_argument("--content", default=str(shared / "images/content/skimage_astronaut.png"))
    p.add_argument("--style-image", default=str(shared / "images/style/starry_night.jpg"))
    p.add_argument("--gatys-size", type=int, default=512)
    p.add_argument("--gatys-steps", type=int, default=240)
    p.add_argument("--dream-size", default="1280x720")
    p.add_argument("--dream-steps", type=int, default=10)
    p.add_argument("--photos", default=str(shared / "datasets/photos"))
    p.add_argument("--reference", default="", help="pytorch/examples' fast_neural_style folder")
    p.add_argument("--train-size", type=int, default=256)
    p.add_argument("--train-batch", type=int, default=8)
    p.add_argument("--train-steps", type=int, default=60)
    p.add_argument("--train-warmup", type=int, default=10)
    p.add_argument("--train-workers", type=int, default=4)
    p.add_argument("--cudnn-benchmark", type=int, choices=(0, 1), default=0, help="snapshot: cuDNN autotuning (the app leaves it off)")
    p.add_argument("--budget-s", type=float, default=480.0)
    a = p.parse_args()
    a.sizes = a.sizes.split(",")
    a.cudnn_benchmark = bool(a.cudnn_benchmark)
    a.variant_archs = a.variant_archs.split(",")
    sections = a.sections.split(",")
    unknown = [s for s in sections if s not in RUNNERS]
    if unknown:
        p.error(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    Path(a.out).mkdir(parents=True, exist_ok=True)
    rec = Recorder(Path(a.out) / "gpu_proof.json", a.budget_s)
    for name in sections:
        t0 = time.perf_counter()
        try:
            RUNNERS[name](rec, a)
        except Exception as exc:  # a section that cannot even start (an import) must not stop the others
            traceback.print_exc()
            rec.put(name, "section_error", f"{type(exc).__name__}: {exc}")
        print(f"== section {name}: {time.perf_counter() - t0:.1f} s ({rec.left():.0f} s of budget left)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
