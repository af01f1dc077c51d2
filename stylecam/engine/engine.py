"""Run a style file on frames with ONNX Runtime on the best provider that really works."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from stylecam.engine.providers import CPU, CUDA, candidate_providers, preload_gpu_libraries
from stylecam.errors import ProviderError, StyleFileError
from stylecam.styles import INPUT_NAME, OUTPUT_NAME, Style
from stylecam.styles.library import read_style_file

_GPU_PROVIDERS = (CUDA, "DmlExecutionProvider")
"""Providers that get the fp16 variant of a style."""


def _session_options(provider: str) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if provider == CPU:
        # All cores for the convolutions; no spinning, or idle worker threads steal the CPU the
        # capture thread and the UI need between frames.
        so.intra_op_num_threads = max(1, os.cpu_count() or 1)
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Trained instance-norm nets produce denormal floats in flat regions; on x86 each costs a
        # microcode assist. Flushing them is invisible in 0-255 pixels and measured 44 -> 32 ms a
        # 640x480 frame of the bundled live styles on 2 Zen 4 cores.
        so.add_session_config_entry("session.set_denormal_as_zero", "1")
    return so


def create_session(path: Path, provider: str) -> ort.InferenceSession:
    """An InferenceSession for ``path`` asking for ``provider`` only (the seam tests replace).

    When a CUDA provider cannot start (no GPU visible, driver error), ONNX Runtime's Python layer
    prints its own "EP Error ... Falling back" text on stdout and returns a CPU session; that text
    is swallowed here (it would break ``--json`` output): the caller sees the fallback in
    ``get_providers()`` and reports it, once.
    """
    ort.set_default_logger_severity(4 if provider != CPU else 3)  # a failed CUDA load is reported by us, once
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return ort.InferenceSession(str(path), _session_options(provider), providers=[provider])
    finally:
        ort.set_default_logger_severity(3)


class StyleEngine:
    """One loaded style on one provider.

    ``run(frames)``: (H, W, 3) or (N, H, W, 3) uint8 BGR -> the same shape, uint8 BGR, for any
    H, W >= 32. ``provider`` is the provider really in use, as ONNX Runtime reports it.
    """

    def __init__(self, session: ort.InferenceSession, *, path: Path, arch: str, name: str) -> None:
        self._session = session
        self.path = path
        self.arch = arch
        self.name = name
        self.provider: str = session.get_providers()[0]
        self._binding = session.io_binding() if self.provider == CUDA else None

    def run(self, frames: np.ndarray) -> np.ndarray:
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim not in (3, 4) or frames.shape[-1] != 3:
            raise ValueError(
                f"expected uint8 BGR frames of shape (H, W, 3) or (N, H, W, 3), got {getattr(frames, 'shape', None)} "
                f"{getattr(frames, 'dtype', type(frames).__name__)}"
            )
        single = frames.ndim == 3
        batch = np.ascontiguousarray(frames[None] if single else frames)
        if batch.shape[1] < 32 or batch.shape[2] < 32:
            raise ValueError(f"frames must be at least 32x32 pixels, got {batch.shape[2]}x{batch.shape[1]}")
        if self._binding is not None:
            # uint8 in, uint8 out: the only bus traffic is the frame itself, both ways.
            self._binding.bind_cpu_input(INPUT_NAME, batch)
            self._binding.bind_output(OUTPUT_NAME, "cuda")
            self._session.run_with_iobinding(self._binding)
            out = self._binding.copy_outputs_to_cpu()[0]
        else:
            out = self._session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
        return out[0] if single else out


def load_engine(style: Style | str | os.PathLike[str], *, provider: str = "auto") -> StyleEngine:
    """Load ``style`` (a Style or a path to a style file) on the first provider of ``provider``'s order that works.

    GPUs get the fp16 variant where one exists, the CPU the float32 file. ``cuda`` with no working
    CUDA is a ProviderError; a bad file is a StyleFileError.
    """
    if not isinstance(style, Style):
        p = Path(style)
        info = read_style_file(p)
        is16 = info.precision == "fp16"
        style = Style(info=info, path=None if is16 else p, fp16_path=p if is16 else None, location="file")
    candidates = candidate_providers(provider)
    if any(c != CPU for c in candidates):
        preload_gpu_libraries()
    failures: list[str] = []
    for cand in candidates:
        path = style.path_for(prefer_fp16=cand in _GPU_PROVIDERS)
        try:
            session = create_session(path, cand)
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if cand == CPU or provider == "cuda":
                if provider == "cuda":
                    failures.append(msg)
                    break
                raise StyleFileError(f"cannot load style {style.name!r} from {path.name}: {msg}") from None
            failures.append(f"{cand}: {msg}")
            continue
        got = session.get_providers()
        if got and got[0] == cand:
            return StyleEngine(session, path=path, arch=style.info.arch, name=style.name)
        failures.append(f"{cand} not usable (ONNX Runtime fell back to {got[0] if got else 'nothing'})")
    if provider == "cuda":
        raise ProviderError(
            "CUDA was requested but no working CUDA GPU was found (driver, CUDA 12/13 or cuDNN 9 missing?); "
            "use --provider auto or cpu"
        )
    raise ProviderError(f"no ONNX Runtime provider could run style {style.name!r}: {'; '.join(failures)}")

