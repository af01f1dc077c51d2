"""Export a trained style network as style files (the ONNX contract of the live core).

Contract of every style file:

- input ``frames``: uint8, (N, H, W, 3), BGR as OpenCV gives it, any H, W >= 32;
- output ``stylized``: uint8, same shape and layout;
- metadata as in :mod:`stylecam.styles.metadata`.

``<name>.onnx`` computes in float32 (any provider); ``<name>.fp16.onnx`` computes in float16
(for GPUs). Both are written atomically: a reader never sees a half-written file.
"""

from __future__ import annotations

import copy
import io
import os
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from stylecam.atomic import atomic_write_bytes
from stylecam.styles.contract import FP16_SUFFIX, INPUT_NAME, OUTPUT_NAME
from stylecam.styles.graph import FrameStylizer
from stylecam.styles.metadata import StyleInfo

OPSET = 18


def export_onnx_bytes(net: nn.Module, *, fp16: bool = False) -> bytes:
    """Serialise ``net`` (a style network, any device) wrapped in the uint8 contract; no metadata."""
    net = copy.deepcopy(net).cpu().float().eval()
    model = FrameStylizer(net, torch.float16 if fp16 else torch.float32).eval()
    example = torch.zeros(1, 64, 64, 3, dtype=torch.uint8)
    buf = io.BytesIO()
    dyn = {0: "batch", 1: "height", 2: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            buf,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dyn, OUTPUT_NAME: dyn},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return buf.getvalue()


def _with_metadata(onnx_bytes: bytes, props: dict[str, str]) -> bytes:
    model = onnx.load_from_string(onnx_bytes)
    del model.metadata_props[:]
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "stylecam"
    return model.SerializeToString()


def export_style(net: nn.Module, out_dir: str | os.PathLike[str], info: StyleInfo, *, fp16: bool = True) -> list[Path]:
    """Write ``<out_dir>/<name>.onnx`` (and ``<name>.fp16.onnx`` when ``fp16``); return the paths."""
    out = Path(out_dir)
    written: list[Path] = []
    variants = [False, True] if fp16 else [False]
    for half in variants:
        meta = StyleInfo(**{**info.__dict__, "precision": "fp16" if half else "fp32"})
        data = _with_metadata(export_onnx_bytes(net, fp16=half), meta.to_props())
        path = out / (info.name + (FP16_SUFFIX if half else ".onnx"))
        atomic_write_bytes(path, data)
        written.append(path)
    return written
